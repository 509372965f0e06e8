import { decodePoint, encodePoint, isScalable, isValidScaleFactor } from './points.js';
import { parsePointSelector, type PointSelector } from './selector.js';
import { modelDef } from './registry.js';
import type { ChainDevice } from './discover.js';
import type { PointDef } from './types.js';
import type { RegisterReader, RegisterWriter } from '../reader.js';

export class SunSpecWriteError extends Error {
  override name = 'SunSpecWriteError';
}

/** Where a point of a discovered device lives, and whether the specification lets anyone write it. */
export interface PlacedPoint {
  selector: PointSelector;
  point: PointDef;
  address: number;
  /** Address of its scale factor point, if it has a named one. */
  sfAddress?: number;
  /** A fixed scale factor exponent from the specification. */
  fixedSf?: number;
}

/** Checks a configured writable point against the specification (it must exist and be read-write). */
export function writablePointProblem(text: string): string | undefined {
  let selector: PointSelector;
  try {
    selector = parsePointSelector(text);
  } catch (err) {
    return (err as Error).message;
  }
  const def = modelDef(selector.model)!;
  const point = selector.index === undefined ? def.points.find((p) => p.name === selector.point) : def.group?.points.find((p) => p.name === selector.point);
  if (!point || point.access !== 'RW') return `point ${text} is read-only in the SunSpec specification`;
  return undefined;
}

/** Finds a point in a discovered chain device. */
export function placePoint(device: ChainDevice, text: string): PlacedPoint {
  const problem = writablePointProblem(text);
  if (problem) throw new SunSpecWriteError(problem);
  const selector = parsePointSelector(text);
  const def = modelDef(selector.model)!;
  const model = device.models.find((m) => m.id === selector.model);
  if (!model) throw new SunSpecWriteError(`the device has no model ${selector.model} (it has ${device.models.map((m) => m.id).join(', ')})`);
  const group = selector.index === undefined ? undefined : def.group;
  const point = (group ? group.points : def.points).find((p) => p.name === selector.point)!;
  const base = group ? group.offset + (selector.index! - 1) * group.size : 0;
  const offset = base + point.offset;
  if (offset + point.size > 2 + model.length) throw new SunSpecWriteError(`${text} lies beyond the model length ${model.length} the device reports`);
  const placed: PlacedPoint = { selector, point, address: model.address + offset };
  if (typeof point.sf === 'number') placed.fixedSf = point.sf;
  else if (typeof point.sf === 'string') {
    const sf = def.points.find((p) => p.name === point.sf);
    if (sf) placed.sfAddress = model.address + sf.offset;
  }
  return placed;
}

/**
 * Writes an engineering value to a placed point: reads its scale factor,
 * scales (raw = round(value / 10^SF)), writes, and reads back to confirm.
 */
export async function writePoint(io: RegisterReader & RegisterWriter, placed: PlacedPoint, value: number): Promise<void> {
  let raw = value;
  if (isScalable(placed.point.type) && (placed.sfAddress !== undefined || placed.fixedSf !== undefined)) {
    let sf = placed.fixedSf;
    if (placed.sfAddress !== undefined) {
      const decoded = decodePoint({ type: 'sunssf', size: 1 }, await io.read(3, placed.sfAddress, 1), 0);
      if (typeof decoded !== 'number' || !isValidScaleFactor(decoded)) throw new SunSpecWriteError(`scale factor of ${placed.selector.point} is not available`);
      sf = decoded;
    }
    raw = Math.round(value / 10 ** sf!);
  }
  let words: number[];
  try {
    words = encodePoint(placed.point, raw);
  } catch (err) {
    throw new SunSpecWriteError(`${value} does not fit ${placed.selector.point}: ${(err as Error).message}`);
  }
  await io.write(placed.address, words);
  const back = await io.read(3, placed.address, words.length);
  if (back.some((w, i) => w !== words[i])) throw new SunSpecWriteError(`${placed.selector.point} reads back ${back.join(',')} after writing ${words.join(',')}`);
}
