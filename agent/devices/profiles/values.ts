/**
 * Decoding profile points from registers and encoding values back into
 * registers (for the simulator and for writes). Pure.
 *
 * Decoded values are in the point's canonical unit: raw × scale, then the
 * unit conversion (kWh → Wh, kW → W, ...). Raw sentinels, NaN and infinities
 * decode to undefined.
 */
import { decodeRaw, encodeNumber, type NumericType } from '../codec.js';
import type { FunctionCode, Profile, ProfilePoint, ProfileSpan } from './types.js';

/** Unsigned type of the same width, used to compare raw bit patterns with sentinels. */
const BITS_TYPE: Record<number, NumericType> = { 1: 'u16', 2: 'u32', 4: 'u64' };

/** Registers of one point, or undefined when they were not read. */
export type RegisterLookup = (span: ProfileSpan) => ArrayLike<number> | undefined;

/** A register image: function code → address → 16-bit word. */
export type RegisterImage = Map<FunctionCode, Map<number, number>>;

export function profileReadSpans(profile: Profile): ProfileSpan[] {
  return profile.points.map((p) => ({ key: p.name, address: p.address, size: p.size, fc: p.fc }));
}

/**
 * `factor` as a divisor when it is the reciprocal of an integer (0.1 → 10):
 * dividing by 10 is correctly rounded, multiplying by 0.1 is not.
 */
function divisorOf(factor: number): number | undefined {
  const d = 1 / factor;
  const rounded = Math.round(d);
  return Math.abs(factor) < 1 && rounded !== 0 && Math.abs(d - rounded) <= 1e-9 * Math.abs(d) ? rounded : undefined;
}

function toCanonical(raw: number, factor: number): number {
  const divisor = divisorOf(factor);
  const value = divisor === undefined ? raw * factor : raw / divisor;
  return value === 0 ? 0 : value; // no -0 from negative scales
}

function toRaw(value: number, factor: number): number {
  const divisor = divisorOf(factor);
  const raw = divisor === undefined ? value / factor : value * divisor;
  return raw === 0 ? 0 : raw;
}

function isSentinel(point: ProfilePoint, words: ArrayLike<number>, offset: number): boolean {
  if (point.sentinels.length === 0) return false;
  const bits = BigInt(decodeRaw(words, offset, BITS_TYPE[point.size]!, point.wordOrder));
  return point.sentinels.includes(bits);
}

/** One point's value from its registers at `offset` in `words`. */
export function decodePointValue(point: ProfilePoint, words: ArrayLike<number>, offset = 0): number | undefined {
  if (isSentinel(point, words, offset)) return undefined;
  const raw = Number(decodeRaw(words, offset, point.type, point.wordOrder));
  if (!Number.isFinite(raw)) return undefined;
  return toCanonical(raw, point.factor);
}

/** Every point's value; points whose registers were not read are undefined. */
export function decodeProfileValues(profile: Profile, lookup: RegisterLookup): Record<string, number | undefined> {
  return Object.fromEntries(profile.points.map((point) => {
    const words = lookup({ key: point.name, address: point.address, size: point.size, fc: point.fc });
    return [point.name, words === undefined ? undefined : decodePointValue(point, words)];
  }));
}

/**
 * Registers holding `value` (canonical unit). Undefined encodes the first
 * sentinel, or 0 when the point has none. Throws RangeError when the value
 * does not fit the register type.
 */
export function encodePointValue(point: ProfilePoint, value: number | undefined): number[] {
  if (value === undefined) {
    const sentinel = point.sentinels[0];
    return sentinel === undefined
      ? encodeNumber(0, point.type, point.wordOrder)
      : encodeNumber(sentinel, BITS_TYPE[point.size]!, point.wordOrder);
  }
  const raw = toRaw(value, point.factor);
  const isFloat = point.type === 'f32' || point.type === 'f64';
  return encodeNumber(isFloat ? raw : Math.round(raw), point.type, point.wordOrder);
}

/**
 * A register image serving `values` (for the simulator). Points missing from
 * `values` are treated as undefined. Points sharing registers: the later one wins.
 */
export function encodeProfileImage(profile: Profile, values: Record<string, number | undefined>): RegisterImage {
  const known = new Set(profile.points.map((p) => p.name));
  for (const name of Object.keys(values)) {
    if (!known.has(name)) throw new RangeError(`profile ${profile.name} has no point ${name}`);
  }
  const image: RegisterImage = new Map();
  for (const point of profile.points) {
    const words = encodePointValue(point, Object.hasOwn(values, point.name) ? values[point.name] : undefined);
    let space = image.get(point.fc);
    if (space === undefined) image.set(point.fc, (space = new Map()));
    words.forEach((word, i) => space.set(point.address + i, word));
  }
  return image;
}

/** Looks registers up in an image; undefined if any register of the span is missing. */
export function lookupFromImage(image: RegisterImage): RegisterLookup {
  return (span) => {
    const space = image.get(span.fc);
    const words: number[] = [];
    for (let i = 0; i < span.size; i++) {
      const word = space?.get(span.address + i);
      if (word === undefined) return undefined;
      words.push(word);
    }
    return words;
  };
}

export interface RegisterBlock {
  fc: FunctionCode;
  address: number;
  words: ArrayLike<number>;
}

/** Looks registers up in the blocks a planner read; a span must lie inside one block. */
export function lookupFromBlocks(blocks: readonly RegisterBlock[]): RegisterLookup {
  return (span) => {
    const block = blocks.find((b) => b.fc === span.fc && b.address <= span.address && span.address + span.size <= b.address + b.words.length);
    if (block === undefined) return undefined;
    return Array.from({ length: span.size }, (_, i) => block.words[span.address - block.address + i]!);
  };
}

export interface RegisterWrite {
  fc: 3;
  address: number;
  words: number[];
}

/**
 * The registers to write to set a writable point to `value` (canonical unit).
 * Checks the profile's own limits only; the installer's allow-list is checked elsewhere.
 */
export function encodeProfileWrite(profile: Profile, name: string, value: number): RegisterWrite {
  const point = profile.points.find((p) => p.name === name);
  if (point === undefined) throw new RangeError(`profile ${profile.name} has no point ${name}`);
  if (point.access !== 'rw' || point.fc !== 3) throw new RangeError(`point ${name} of profile ${profile.name} is not writable`);
  if (!Number.isFinite(value)) throw new RangeError(`cannot write ${value} to ${name}`);
  if ((point.min !== undefined && value < point.min) || (point.max !== undefined && value > point.max)) {
    throw new RangeError(`${value} is outside ${point.min ?? '-∞'}..${point.max ?? '∞'} for ${name}`);
  }
  return { fc: 3, address: point.address, words: encodePointValue(point, value) };
}
