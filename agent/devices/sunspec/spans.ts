import type { WantedSpan } from '../planner.js';
import type { PointDef } from './types.js';
import type { HouseholdModels, PlacedModel } from './roles.js';
import { POLLED_POINTS } from './roles.js';

const SUNSPEC_FC = 3;

/** A wanted point with where it sits, so its value can be found again after the read. */
export interface PolledPoint {
  role: keyof HouseholdModels;
  name: string;
  /** 0-based repetition for group points. */
  index?: number;
}

function spanOf(key: string, model: PlacedModel, offset: number, point: PointDef, bundle: string): WantedSpan {
  return { key, address: model.address + offset, size: point.size, fc: SUNSPEC_FC, bundle };
}

/** Points of the model that fit inside the length the device reported. */
function fits(model: PlacedModel, offset: number, size: number): boolean {
  return offset + size <= 2 + model.length;
}

/**
 * The spans to read for the household: each value together with its scale
 * factor in one bundle (the SF span is repeated per value, so every value can
 * be read in a request that also holds its own SF).
 */
export function householdSpans(models: HouseholdModels): WantedSpan[] {
  const spans: WantedSpan[] = [];
  for (const role of Object.keys(POLLED_POINTS) as (keyof HouseholdModels)[]) {
    const model = models[role];
    if (!model) continue;
    const { def } = model;
    const add = (key: string, point: PointDef, offset: number) => {
      if (!fits(model, offset, point.size)) return;
      spans.push(spanOf(key, model, offset, point, key));
      if (typeof point.sf === 'string') {
        const sf = def.points.find((p) => p.name === point.sf);
        if (sf && fits(model, sf.offset, sf.size)) spans.push(spanOf(`${key}#sf`, model, sf.offset, sf, key));
      }
    };
    for (const name of POLLED_POINTS[role]) {
      const fixed = def.points.find((p) => p.name === name);
      if (fixed) { add(`${role}.${name}`, fixed, fixed.offset); continue; }
      const group = def.group;
      const groupPoint = group?.points.find((p) => p.name === name);
      if (!group || !groupPoint) continue;
      const repetitions = Math.max(0, Math.floor((2 + model.length - group.offset) / group.size));
      for (let i = 0; i < repetitions; i++) add(`${role}.${i}.${name}`, groupPoint, group.offset + i * group.size + groupPoint.offset);
    }
  }
  return spans;
}
