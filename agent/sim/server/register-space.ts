import { ExceptionCode } from '../protocol/pdu.js';

export type RegisterException = { exception: number };

/** What a simulated device serves. Values are unsigned 16-bit words. */
export interface RegisterSpace {
  hasUnit(unit: number): boolean;
  read(unit: number, fc: 3 | 4, address: number, count: number): number[] | RegisterException;
  write(unit: number, address: number, values: number[]): void | RegisterException;
}

export interface RegisterHole {
  /** Applies to every unit when omitted. */
  unit?: number;
  start: number;
  count: number;
}

export interface MapRegisterSpaceOptions {
  /** Mapped addresses that still fail with exception 2 (SMA-style unreadable points). */
  holes?: RegisterHole[];
  /** Separate FC 4 images per unit; without one, FC 4 reads the holding image. */
  input?: Map<number, Map<number, number>>;
}

type UnitImages = Map<number, number> | Record<number, number>;

function toMap(image: UnitImages): Map<number, number> {
  if (image instanceof Map) return new Map(image);
  return new Map(Object.entries(image).map(([k, v]) => [Number(k), v & 0xffff]));
}

/** A register space backed by plain maps, for tests and small fixtures. */
export class MapRegisterSpace implements RegisterSpace {
  private readonly holding = new Map<number, Map<number, number>>();
  private readonly input = new Map<number, Map<number, number>>();
  private readonly holes: RegisterHole[];

  constructor(units: Map<number, UnitImages> | Record<number, UnitImages>, options: MapRegisterSpaceOptions = {}) {
    const entries = units instanceof Map ? [...units.entries()] : Object.entries(units).map(([k, v]) => [Number(k), v] as const);
    for (const [unit, image] of entries) this.holding.set(unit, toMap(image));
    for (const [unit, image] of options.input ?? []) this.input.set(unit, toMap(image));
    this.holes = options.holes ?? [];
  }

  hasUnit(unit: number): boolean {
    return this.holding.has(unit) || this.input.has(unit);
  }

  read(unit: number, fc: 3 | 4, address: number, count: number): number[] | RegisterException {
    const image = (fc === 4 ? this.input.get(unit) : undefined) ?? this.holding.get(unit);
    if (!image || this.touchesHole(unit, address, count)) return { exception: ExceptionCode.IllegalDataAddress };
    const out: number[] = [];
    for (let a = address; a < address + count; a++) {
      const value = image.get(a);
      if (value === undefined) return { exception: ExceptionCode.IllegalDataAddress };
      out.push(value);
    }
    return out;
  }

  write(unit: number, address: number, values: number[]): void | RegisterException {
    const image = this.holding.get(unit);
    if (!image || this.touchesHole(unit, address, values.length)) return { exception: ExceptionCode.IllegalDataAddress };
    for (let i = 0; i < values.length; i++) {
      if (!image.has(address + i)) return { exception: ExceptionCode.IllegalDataAddress };
    }
    values.forEach((v, i) => image.set(address + i, v & 0xffff));
  }

  /** Direct access for tests and physics glue; bypasses holes. */
  get(unit: number, address: number): number | undefined {
    return this.holding.get(unit)?.get(address);
  }

  /** Sets (and maps) holding registers directly; bypasses holes. */
  set(unit: number, address: number, values: number[]): void {
    let image = this.holding.get(unit);
    if (!image) {
      image = new Map();
      this.holding.set(unit, image);
    }
    values.forEach((v, i) => image.set(address + i, v & 0xffff));
  }

  private touchesHole(unit: number, address: number, count: number): boolean {
    return this.holes.some(
      (h) => (h.unit === undefined || h.unit === unit) && address < h.start + h.count && h.start < address + count,
    );
  }
}
