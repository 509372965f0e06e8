/**
 * One SunSpec point to and from registers, with the "not implemented" (NI)
 * sentinels mapped to `undefined` so that a missing value can never be
 * mistaken for 0. Values here are raw (unscaled); see decode.ts for scaling.
 */
import { decodeRaw, decodeString, encodeNumber, encodeString, type NumericType } from '../codec.js';
import type { PointDef, SunSpecType } from './types.js';

export type PointValue = number | string | undefined;

/** What decoding needs to know about a point. */
export type PointShape = Pick<PointDef, 'type' | 'size'>;

/** Register count of each type that has a fixed size (strings vary). */
export const TYPE_SIZE: Readonly<Record<Exclude<SunSpecType, 'string'>, number>> = {
  uint16: 1, int16: 1, acc16: 1, enum16: 1, bitfield16: 1, count: 1, sunssf: 1, pad: 1,
  uint32: 2, int32: 2, acc32: 2, enum32: 2, bitfield32: 2, ipaddr: 2, float32: 2,
  uint64: 4, int64: 4, acc64: 4, float64: 4, eui48: 4,
  ipv6addr: 8,
};

/** Valid scale factor exponents; anything else from a device is treated as NI. */
export const SCALE_FACTOR_MIN = -10;
export const SCALE_FACTOR_MAX = 10;

export function isValidScaleFactor(sf: number): boolean {
  return Number.isInteger(sf) && sf >= SCALE_FACTOR_MIN && sf <= SCALE_FACTOR_MAX;
}

/** Whether a point of this type is multiplied by its scale factor (enums, bitfields, addresses are not). */
export function isScalable(type: SunSpecType): boolean {
  return SCALABLE.has(type);
}

const SCALABLE: ReadonlySet<SunSpecType> = new Set<SunSpecType>([
  'uint16', 'int16', 'acc16', 'uint32', 'int32', 'acc32', 'uint64', 'int64', 'acc64', 'float32', 'float64',
]);

interface NumericCoding {
  codec: NumericType;
  /** Raw values that mean "not implemented". */
  notImplemented: readonly (number | bigint)[];
  /** What an unset value is written as. */
  sentinel: number | bigint;
}

const UINT64_ALL_ONES = 0xffff_ffff_ffff_ffffn;
const INT64_MIN = -0x8000_0000_0000_0000n;
const INT64_MAX = 0x7fff_ffff_ffff_ffffn;

function coding(codec: NumericType, sentinel: number | bigint, ...alsoNotImplemented: (number | bigint)[]): NumericCoding {
  return { codec, sentinel, notImplemented: [sentinel, ...alsoNotImplemented] };
}

// Accumulators: the spec's NI value is 0; all-ones is also seen (gosunspec) and treated the same.
const NUMERIC: Partial<Record<SunSpecType, NumericCoding>> = {
  int16: coding('s16', -0x8000),
  sunssf: coding('s16', -0x8000),
  uint16: coding('u16', 0xffff),
  enum16: coding('u16', 0xffff),
  bitfield16: coding('u16', 0xffff),
  count: coding('u16', 0xffff),
  acc16: coding('u16', 0, 0xffff),
  int32: coding('s32', -0x8000_0000),
  uint32: coding('u32', 0xffff_ffff),
  enum32: coding('u32', 0xffff_ffff),
  bitfield32: coding('u32', 0xffff_ffff),
  acc32: coding('u32', 0, 0xffff_ffff),
  ipaddr: coding('u32', 0),
  int64: coding('s64', INT64_MIN),
  uint64: coding('u64', UINT64_ALL_ONES),
  acc64: coding('u64', 0n, UINT64_ALL_ONES),
  float32: coding('f32', NaN),
  float64: coding('f64', NaN),
};

function sizeOf(point: PointShape): number {
  return point.type === 'string' ? point.size : TYPE_SIZE[point.type];
}

/** Decodes the point starting at `registers[offset]`; NI values give `undefined`. */
export function decodePoint(point: PointShape, registers: ArrayLike<number>, offset: number): PointValue {
  const size = sizeOf(point);
  if (offset < 0 || offset + size > registers.length) {
    throw new RangeError(`${point.type} point at ${offset} (${size} registers) is outside the ${registers.length}-register block`);
  }
  switch (point.type) {
    case 'pad': return undefined;
    case 'string': return decodeText(registers, offset, size);
    case 'eui48': return decodeEui48(registers, offset);
    case 'ipv6addr': return decodeIpv6(registers, offset);
  }
  const numeric = NUMERIC[point.type];
  if (!numeric) throw new Error(`unsupported SunSpec type ${point.type}`);
  const raw = decodeRaw(registers, offset, numeric.codec);
  if (typeof raw === 'number' && !Number.isFinite(raw)) return undefined; // float NaN (and ±Inf, never a real reading)
  if (numeric.notImplemented.includes(raw)) return undefined;
  if (point.type === 'sunssf' && !isValidScaleFactor(Number(raw))) return undefined;
  return Number(raw);
}

/** Encodes a raw point value; `undefined` gives the type's NI sentinel. Throws if the value does not fit. */
export function encodePoint(point: PointShape, value: PointValue): number[] {
  const size = sizeOf(point);
  switch (point.type) {
    case 'pad': return [typeof value === 'number' ? checkedWord(value) : 0];
    case 'string': return encodeText(value, size);
    case 'eui48': return encodeEui48(value);
    case 'ipv6addr': return encodeIpv6(value);
  }
  const numeric = NUMERIC[point.type];
  if (!numeric) throw new Error(`unsupported SunSpec type ${point.type}`);
  if (value === undefined) return encodeNumber(numeric.sentinel, numeric.codec);
  if (typeof value !== 'number') throw new TypeError(`${point.type} point needs a number, got ${JSON.stringify(value)}`);
  if (numeric.codec === 's64' || numeric.codec === 'u64') return encodeNumber(checked64(value, numeric.codec), numeric.codec);
  return encodeNumber(value, numeric.codec);
}

/** Pads may carry vendor junk (SolarEdge writes 0x0067), so a simulator can set one. */
function checkedWord(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`${value} does not fit in a register`);
  return value;
}

// The codec wraps 64-bit values silently; a value that does not fit is a caller bug here.
function checked64(value: number, codec: 's64' | 'u64'): bigint {
  if (!Number.isInteger(value)) throw new RangeError(`${value} is not an integer for ${codec}`);
  const big = BigInt(value);
  const [min, max] = codec === 's64' ? [INT64_MIN, INT64_MAX] : [0n, UINT64_ALL_ONES];
  if (big < min || big > max) throw new RangeError(`${value} does not fit in ${codec}`);
  return big;
}

function decodeText(registers: ArrayLike<number>, offset: number, size: number): string | undefined {
  const text = decodeString(registers, offset, size);
  return text === '' ? undefined : text;
}

function encodeText(value: PointValue, size: number): number[] {
  if (value === undefined) return new Array<number>(size).fill(0);
  if (typeof value !== 'string') throw new TypeError(`string point needs a string, got ${value}`);
  if (value.length > size * 2) throw new RangeError(`"${value}" is longer than ${size * 2} characters`);
  if ([...value].some((ch) => ch.charCodeAt(0) > 0xff)) throw new RangeError(`"${value}" has characters outside Latin-1`);
  return encodeString(value, size);
}

function registersToBytes(registers: ArrayLike<number>, offset: number, count: number): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < count; i++) {
    const word = registers[offset + i] ?? 0;
    bytes.push((word >> 8) & 0xff, word & 0xff);
  }
  return bytes;
}

function bytesToRegisters(bytes: readonly number[]): number[] {
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  return words;
}

const hex2 = (byte: number) => byte.toString(16).toUpperCase().padStart(2, '0');

// EUI-48 occupies 4 registers; the MAC is the last 6 bytes (as in pysunspec2).
function decodeEui48(registers: ArrayLike<number>, offset: number): string | undefined {
  const mac = registersToBytes(registers, offset, 4).slice(2);
  if (mac.every((b) => b === 0xff) || mac.every((b) => b === 0)) return undefined;
  return mac.map(hex2).join(':');
}

function encodeEui48(value: PointValue): number[] {
  if (value === undefined) return [0xffff, 0xffff, 0xffff, 0xffff];
  if (typeof value !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(value)) {
    throw new RangeError(`${JSON.stringify(value)} is not an EUI-48 like 00:11:22:AA:BB:CC`);
  }
  return bytesToRegisters([0, 0, ...value.split(':').map((part) => parseInt(part, 16))]);
}

/** IPv6 as eight lower-case, zero-padded hex groups (no :: compression) so it round-trips exactly. */
function decodeIpv6(registers: ArrayLike<number>, offset: number): string | undefined {
  const groups = Array.from({ length: 8 }, (_, i) => registers[offset + i] ?? 0);
  if (groups.every((g) => g === 0)) return undefined;
  return groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
}

function encodeIpv6(value: PointValue): number[] {
  if (value === undefined) return new Array<number>(8).fill(0);
  if (typeof value !== 'string') throw new TypeError(`ipv6addr point needs a string, got ${value}`);
  const halves = value.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':') : []);
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  const groups = halves.length === 2 ? [...head, ...new Array<string>(missing).fill('0'), ...tail] : head;
  if (halves.length > 2 || missing < (halves.length === 2 ? 1 : 0) || groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) {
    throw new RangeError(`${JSON.stringify(value)} is not an IPv6 address`);
  }
  return groups.map((g) => parseInt(g, 16));
}
