/**
 * Register codec: turns 16-bit Modbus registers into numbers and back.
 * Pure functions; no knowledge of SunSpec or of devices.
 *
 * Within a register the high byte always comes first (Modbus is big-endian).
 * Multi-register values are high word first ('big') unless a device stores
 * the low word first ('little', also called word-swapped).
 */
export type NumericType = 'u16' | 's16' | 'u32' | 's32' | 'u64' | 's64' | 'f32' | 'f64';
export type WordOrder = 'big' | 'little';

export const REGISTERS: Record<NumericType, number> = { u16: 1, s16: 1, u32: 2, s32: 2, u64: 4, s64: 4, f32: 2, f64: 4 };

/** Registers as bytes, high word first after applying the word order. */
function toBytes(words: ArrayLike<number>, offset: number, count: number, order: WordOrder): Buffer {
  const buf = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) {
    const word = words[offset + (order === 'big' ? i : count - 1 - i)];
    if (word === undefined) throw new RangeError(`register ${offset + i} is outside the ${words.length}-register block`);
    buf.writeUInt16BE(word & 0xffff, i * 2);
  }
  return buf;
}

function fromBytes(buf: Buffer, order: WordOrder): number[] {
  const count = buf.length / 2;
  const words: number[] = [];
  for (let i = 0; i < count; i++) words.push(buf.readUInt16BE(2 * (order === 'big' ? i : count - 1 - i)));
  return words;
}

/** Raw value with its exact integer form for 64-bit types (so sentinels can be compared exactly). */
export function decodeRaw(words: ArrayLike<number>, offset: number, type: NumericType, order: WordOrder = 'big'): number | bigint {
  const buf = toBytes(words, offset, REGISTERS[type], order);
  switch (type) {
    case 'u16': return buf.readUInt16BE(0);
    case 's16': return buf.readInt16BE(0);
    case 'u32': return buf.readUInt32BE(0);
    case 's32': return buf.readInt32BE(0);
    case 'u64': return buf.readBigUInt64BE(0);
    case 's64': return buf.readBigInt64BE(0);
    case 'f32': return buf.readFloatBE(0);
    case 'f64': return buf.readDoubleBE(0);
  }
}

/** Decodes one value as a JavaScript number (64-bit integers beyond 2^53 lose precision). */
export function decodeNumber(words: ArrayLike<number>, offset: number, type: NumericType, order: WordOrder = 'big'): number {
  return Number(decodeRaw(words, offset, type, order));
}

/** Encodes one value into registers. Integers are range-checked; floats are stored as IEEE 754. */
export function encodeNumber(value: number | bigint, type: NumericType, order: WordOrder = 'big'): number[] {
  const buf = Buffer.alloc(REGISTERS[type] * 2);
  switch (type) {
    case 'u16': buf.writeUInt16BE(checkInt(value, 0, 0xffff, type), 0); break;
    case 's16': buf.writeInt16BE(checkInt(value, -0x8000, 0x7fff, type), 0); break;
    case 'u32': buf.writeUInt32BE(checkInt(value, 0, 0xffffffff, type), 0); break;
    case 's32': buf.writeInt32BE(checkInt(value, -0x80000000, 0x7fffffff, type), 0); break;
    case 'u64': buf.writeBigUInt64BE(BigInt.asUintN(64, toBigInt(value, type)), 0); break;
    case 's64': buf.writeBigInt64BE(BigInt.asIntN(64, toBigInt(value, type)), 0); break;
    case 'f32': buf.writeFloatBE(Number(value), 0); break;
    case 'f64': buf.writeDoubleBE(Number(value), 0); break;
  }
  return fromBytes(buf, order);
}

function checkInt(value: number | bigint, min: number, max: number, type: NumericType): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`${String(value)} does not fit in ${type}`);
  return n;
}

function toBigInt(value: number | bigint, type: NumericType): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isInteger(value)) throw new RangeError(`${value} is not an integer for ${type}`);
  return BigInt(value);
}

/** ASCII string stored two characters per register, high byte first, NUL-padded. */
export function decodeString(words: ArrayLike<number>, offset: number, registers: number): string {
  const buf = toBytes(words, offset, registers, 'big');
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString('latin1').trimEnd();
}

export function encodeString(text: string, registers: number): number[] {
  const buf = Buffer.alloc(registers * 2);
  buf.write(text.slice(0, registers * 2), 'latin1');
  return fromBytes(buf, 'big');
}

/** `raw × 10^sf`, rounded to remove binary noise from the power of ten. */
export function applyScale(raw: number, sf: number): number {
  if (sf === 0) return raw;
  const scaled = sf > 0 ? raw * 10 ** sf : raw / 10 ** -sf;
  return Number(scaled.toPrecision(15));
}
