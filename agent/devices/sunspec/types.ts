/**
 * SunSpec model tables: tonari's own compact description of each model it
 * supports, written from the published SunSpec model definitions.
 *
 * Offsets are in registers relative to the model start, i.e. the register
 * holding the model ID is offset 0, its length L is offset 1, and the first
 * body point is at offset 2.
 */
export type SunSpecType =
  | 'uint16' | 'int16' | 'acc16' | 'enum16' | 'bitfield16' | 'count' | 'sunssf' | 'pad'
  | 'uint32' | 'int32' | 'acc32' | 'enum32' | 'bitfield32' | 'ipaddr' | 'float32'
  | 'uint64' | 'int64' | 'acc64' | 'float64'
  | 'string' | 'eui48' | 'ipv6addr';

export interface PointDef {
  name: string;
  /** Register offset from the model start (ID at 0, L at 1). For group points: from the repetition start. */
  offset: number;
  type: SunSpecType;
  /** Size in registers. */
  size: number;
  /** Scale factor: the name of a sunssf point (in the model, or in the group), or a fixed exponent. */
  sf?: string | number;
  units?: string;
  mandatory?: boolean;
  access?: 'R' | 'RW';
}

export interface GroupDef {
  name: string;
  /** Offset of the first repetition from the model start. */
  offset: number;
  /** Registers per repetition. */
  size: number;
  /** Name of the count point in the fixed block that says how many repetitions there are, if any. */
  countPoint?: string;
  points: PointDef[];
}

export interface ModelDef {
  id: number;
  name: string;
  /** Fixed body length L from the specification (without the 2 header registers and without repetitions). */
  length: number;
  /** Fixed-block points including ID and L. */
  points: PointDef[];
  /** Repeating group, for models such as 160. */
  group?: GroupDef;
}
