/** fast-check generators of valid (not "not implemented") raw SunSpec point values. */
import fc from 'fast-check';
import type { PointValue } from '../../agent/devices/sunspec/points.js';
import type { SunSpecType } from '../../agent/devices/sunspec/types.js';

const NUMERIC: Partial<Record<SunSpecType, fc.Arbitrary<number>>> = {
  int16: fc.integer({ min: -0x7fff, max: 0x7fff }),
  sunssf: fc.integer({ min: -10, max: 10 }),
  uint16: fc.integer({ min: 0, max: 0xfffe }),
  enum16: fc.integer({ min: 0, max: 0xfffe }),
  bitfield16: fc.integer({ min: 0, max: 0xfffe }),
  count: fc.integer({ min: 0, max: 0xfffe }),
  acc16: fc.integer({ min: 1, max: 0xfffe }),
  int32: fc.integer({ min: -0x7fffffff, max: 0x7fffffff }),
  uint32: fc.integer({ min: 0, max: 0xfffffffe }),
  enum32: fc.integer({ min: 0, max: 0xfffffffe }),
  bitfield32: fc.integer({ min: 0, max: 0xfffffffe }),
  acc32: fc.integer({ min: 1, max: 0xfffffffe }),
  ipaddr: fc.integer({ min: 1, max: 0xffffffff }),
  int64: fc.maxSafeInteger(),
  uint64: fc.maxSafeNat(),
  acc64: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  float32: fc.float({ noNaN: true, noDefaultInfinity: true }),
  float64: fc.double({ noNaN: true, noDefaultInfinity: true }),
};

export const NUMERIC_TYPES = Object.keys(NUMERIC) as SunSpecType[];

/** Printable ASCII that fits `registers` and survives trimming (no trailing space, not blank). */
export function text(registers: number): fc.Arbitrary<string> {
  return fc.array(fc.integer({ min: 0x20, max: 0x7e }), { minLength: 1, maxLength: registers * 2 })
    .map((codes) => String.fromCharCode(...codes).trimEnd())
    .filter((s) => s !== '');
}

export function validRaw(type: SunSpecType, size: number): fc.Arbitrary<PointValue> {
  if (type === 'string') return text(size);
  if (type === 'pad') return fc.constant(undefined);
  const numeric = NUMERIC[type];
  if (!numeric) throw new Error(`no generator for ${type}`);
  return numeric;
}
