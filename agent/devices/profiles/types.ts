/**
 * A register profile after validation: everything defaulted and normalised,
 * ready for decoding without further checks.
 */
import type { NumericType, WordOrder } from '../codec.js';
import type { UnitName } from './units.js';

export type FunctionCode = 3 | 4;

export interface ProfilePoint {
  name: string;
  /** 0-based PDU address of the first register. */
  address: number;
  fc: FunctionCode;
  type: NumericType;
  wordOrder: WordOrder;
  /** Registers occupied (1, 2 or 4). */
  size: number;
  /** Multiplier from the raw register value to `unit`, as written in the profile. */
  scale: number;
  /** Unit after `scale`, as written in the profile; undefined for dimensionless values (states, codes). */
  unit?: UnitName;
  /** Unit of decoded values: the canonical unit of `unit`'s quantity (e.g. Wh for kWh). */
  canonicalUnit?: UnitName;
  /** Multiplier from the raw register value to the canonical unit (scale × unit conversion). */
  factor: number;
  /** Raw register contents meaning "not available", as unsigned bit patterns of the point's width. */
  sentinels: readonly bigint[];
  access: 'r' | 'rw';
  /** Write limits in the canonical unit (writable points only). */
  min?: number;
  max?: number;
  description?: string;
}

export interface ProfileDefaults {
  unit?: number;
  port?: number;
  baudRate?: number;
  timeoutMs?: number;
  connectDelayMs?: number;
}

export interface Profile {
  name: string;
  title: string;
  /** Where the register addresses come from. */
  source: string;
  /** Connection settings recommended to installers. */
  defaults: ProfileDefaults;
  notes: readonly string[];
  /** Points in the order of the profile file. */
  points: readonly ProfilePoint[];
}

/** What a block planner needs to read one point. */
export interface ProfileSpan {
  key: string;
  address: number;
  size: number;
  fc: FunctionCode;
}
