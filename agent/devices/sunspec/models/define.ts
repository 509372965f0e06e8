/**
 * Helpers for writing SunSpec model tables: points are listed in register
 * order without offsets, and `defineModel` lays them out (ID at 0, L at 1,
 * body from 2) so a table cannot get an offset wrong by hand.
 */
import { TYPE_SIZE } from '../points.js';
import type { GroupDef, ModelDef, PointDef, SunSpecType } from '../types.js';

/** A point before layout: everything except its offset. */
export type PointSpec = Omit<PointDef, 'offset'>;

export interface PointOptions {
  sf?: string | number;
  units?: string;
  mandatory?: boolean;
  access?: 'R' | 'RW';
  /** Required for strings; other types have a fixed size. */
  size?: number;
}

export function point(name: string, type: SunSpecType, options: PointOptions = {}): PointSpec {
  const size = type === 'string' ? options.size : TYPE_SIZE[type];
  if (size === undefined || size < 1) throw new Error(`point ${name}: type ${type} needs a positive size`);
  if (options.size !== undefined && options.size !== size) throw new Error(`point ${name}: ${type} is ${size} registers, not ${options.size}`);
  const spec: PointSpec = { name, type, size, mandatory: options.mandatory ?? false, access: options.access ?? 'R' };
  if (options.sf !== undefined) spec.sf = options.sf;
  if (options.units !== undefined) spec.units = options.units;
  return spec;
}

export function scaleFactor(name: string, mandatory = false): PointSpec {
  return point(name, 'sunssf', { mandatory });
}

export interface ModelSpec {
  id: number;
  name: string;
  /** Body points in register order (the ID/L header is added). */
  body: PointSpec[];
  group?: { name: string; countPoint?: string; points: PointSpec[] };
}

function layOut(points: PointSpec[], firstOffset: number): { points: PointDef[]; end: number } {
  let offset = firstOffset;
  const laidOut = points.map((spec) => {
    const def: PointDef = { ...spec, offset };
    offset += spec.size;
    return def;
  });
  return { points: laidOut, end: offset };
}

export function defineModel(spec: ModelSpec): ModelDef {
  const header = [point('ID', 'uint16', { mandatory: true }), point('L', 'uint16', { mandatory: true })];
  const fixed = layOut([...header, ...spec.body], 0);
  const model: ModelDef = { id: spec.id, name: spec.name, length: fixed.end - 2, points: fixed.points };
  if (spec.group) {
    const repetition = layOut(spec.group.points, 0);
    const group: GroupDef = { name: spec.group.name, offset: fixed.end, size: repetition.end, points: repetition.points };
    if (spec.group.countPoint !== undefined) group.countPoint = spec.group.countPoint;
    model.group = group;
  }
  checkReferences(model);
  return model;
}

/** Catches typos in a table at load time: every sf name and the count point must name a real point. */
function checkReferences(model: ModelDef): void {
  const names = new Map<string, PointDef>();
  for (const p of model.points) {
    if (names.has(p.name)) throw new Error(`model ${model.id}: duplicate point ${p.name}`);
    names.set(p.name, p);
  }
  const groupNames = new Map((model.group?.points ?? []).map((p) => [p.name, p] as const));
  const check = (p: PointDef, scope: ReadonlyMap<string, PointDef>) => {
    if (typeof p.sf !== 'string') return;
    const target = scope.get(p.sf) ?? names.get(p.sf);
    if (target?.type !== 'sunssf') throw new Error(`model ${model.id}: ${p.name} refers to unknown scale factor ${p.sf}`);
  };
  for (const p of model.points) check(p, names);
  for (const p of model.group?.points ?? []) check(p, groupNames);
  const countPoint = model.group?.countPoint;
  if (countPoint !== undefined && names.get(countPoint) === undefined) {
    throw new Error(`model ${model.id}: unknown count point ${countPoint}`);
  }
}
