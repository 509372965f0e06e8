/**
 * A whole SunSpec model block to engineering values and back.
 *
 * Decoding trusts the device-reported length L: points that end beyond the
 * body (start+2 … start+1+L) are absent, registers beyond the points of the
 * definition are ignored. Scaled values use the scale factor read from the
 * same block, so a value and its SF always come from one read.
 */
import { applyScale } from '../codec.js';
import { decodePoint, encodePoint, isScalable, type PointValue } from './points.js';
import type { GroupDef, ModelDef, PointDef } from './types.js';

export type PointValues = Record<string, PointValue>;

export interface DecodedModel {
  id: number;
  /** L as reported by the device (body registers, without the 2 header registers). */
  length: number;
  /** Fixed-block points by name in engineering units; the ID/L header is not included. */
  values: PointValues;
  /** One record per repetition of the repeating group (e.g. 160 `module`), in register order. */
  groups: PointValues[];
}

/** The ID and L points: carried in `DecodedModel.id`/`length`, not in `values`. */
const HEADER_SIZE = 2;
const isBodyPoint = (p: PointDef) => p.offset >= HEADER_SIZE;

/**
 * Decodes the model whose ID register is `block[start]`.
 * Throws if that register does not hold `def.id`.
 */
export function decodeModel(def: ModelDef, block: ArrayLike<number>, start: number, reportedLength: number): DecodedModel {
  if (block[start] !== def.id) throw new Error(`register ${start} holds model ${String(block[start])}, not ${def.id}`);
  // Registers we may read, relative to the model start: the body claimed by L, limited by what was read.
  const available = Math.max(0, Math.min(HEADER_SIZE + reportedLength, block.length - start));
  const read = (points: readonly PointDef[], base: number): PointValues => {
    const raw: PointValues = {};
    for (const p of points) {
      raw[p.name] = base + p.offset + p.size <= available ? decodePoint(p, block, start + base + p.offset) : undefined;
    }
    return raw;
  };

  const fixedRaw = read(def.points.filter(isBodyPoint), 0);
  const values = scaled(def.points.filter(isBodyPoint), fixedRaw, fixedRaw);
  const groups: PointValues[] = [];
  if (def.group) {
    const group = def.group;
    const count = repetitionCount(group, fixedRaw, available);
    for (let i = 0; i < count; i++) {
      const groupRaw = read(group.points, group.offset + i * group.size);
      groups.push(scaled(group.points, groupRaw, { ...fixedRaw, ...groupRaw }));
    }
  }
  return { id: def.id, length: reportedLength, values, groups };
}

/** The count point's value if it is implemented, never more repetitions than the registers hold. */
function repetitionCount(group: GroupDef, fixedRaw: PointValues, available: number): number {
  const room = Math.max(0, Math.floor((available - group.offset) / group.size));
  const declared = group.countPoint === undefined ? undefined : fixedRaw[group.countPoint];
  return typeof declared === 'number' ? Math.min(declared, room) : room;
}

/** Applies scale factors; `scope` holds the raw SF values visible to these points. */
function scaled(points: readonly PointDef[], raw: PointValues, scope: PointValues): PointValues {
  const values: PointValues = {};
  for (const p of points) {
    const value = raw[p.name];
    values[p.name] = typeof value === 'number' && p.sf !== undefined && isScalable(p.type)
      ? scaleBy(value, typeof p.sf === 'number' ? p.sf : scope[p.sf])
      : value;
  }
  return values;
}

function scaleBy(raw: number, sf: PointValue): number | undefined {
  return typeof sf === 'number' ? applyScale(raw, sf) : undefined;
}

export interface EncodeOptions {
  /** The L to report and lay out; defaults to the spec length plus the repetitions. Shorter truncates points (e.g. 65 for model 1 without Pad), longer pads with zeros. */
  length?: number;
}

/**
 * Builds the full register image of a model (ID, L, body) from engineering
 * values. Scale factor points take their exponent from `values` (e.g.
 * `W_SF: -1`) and scaled values are stored as round(value / 10^SF). A point
 * with no value gets its NI sentinel. If the group's count point is not a key
 * of `values`, it is set to the number of repetitions given.
 */
export function encodeModel(def: ModelDef, values: PointValues, groups: readonly PointValues[] = [], options: EncodeOptions = {}): number[] {
  const bodyPoints = def.points.filter(isBodyPoint);
  checkNames(def.id, bodyPoints, values, 'model');
  if (groups.length > 0 && !def.group) throw new Error(`model ${def.id} has no repeating group`);
  for (const g of groups) checkNames(def.id, def.group?.points ?? [], g, 'group');

  const length = options.length ?? def.length + groups.length * (def.group?.size ?? 0);
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) throw new RangeError(`invalid model length ${length}`);
  const block = new Array<number>(HEADER_SIZE + length).fill(0);
  block[0] = def.id;
  block[1] = length;

  const countPoint = def.group?.countPoint;
  const fixed = countPoint !== undefined && !(countPoint in values) ? { ...values, [countPoint]: groups.length } : values;
  write(block, bodyPoints, 0, fixed, fixed);
  if (def.group) {
    const group = def.group;
    groups.forEach((g, i) => write(block, group.points, group.offset + i * group.size, g, { ...fixed, ...g }));
  }
  return block;
}

function checkNames(id: number, points: readonly PointDef[], values: PointValues, where: string): void {
  const known = new Set(points.map((p) => p.name));
  for (const name of Object.keys(values)) {
    if (!known.has(name)) throw new Error(`model ${id} ${where} has no point ${name}`);
  }
}

/** Writes the points that fit inside the block; `scope` provides the SF exponents. */
function write(block: number[], points: readonly PointDef[], base: number, values: PointValues, scope: PointValues): void {
  for (const p of points) {
    if (base + p.offset + p.size > block.length) continue;
    const registers = encodePoint(p, toRaw(p, values[p.name], scope));
    registers.forEach((word, i) => { block[base + p.offset + i] = word; });
  }
}

function toRaw(p: PointDef, value: PointValue, scope: PointValues): PointValue {
  if (typeof value !== 'number' || p.sf === undefined || !isScalable(p.type)) return value;
  const sf = typeof p.sf === 'number' ? p.sf : scope[p.sf];
  if (typeof sf !== 'number') throw new Error(`${p.name} = ${value} needs a value for its scale factor ${String(p.sf)}`);
  if (p.type === 'float32' || p.type === 'float64') return sf >= 0 ? value / 10 ** sf : value * 10 ** -sf;
  return Math.round(sf >= 0 ? value / 10 ** sf : value * 10 ** -sf);
}
