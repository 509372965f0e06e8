/**
 * Point selectors as used in configuration: "MODEL:POINT" (e.g. "802:SoC")
 * or "MODEL:INDEX:POINT" for a point of a repeating group, with a 1-based
 * repetition index as in evcc (e.g. "160:2:DCW" = DC power of tracker 2).
 */
import type { DecodedModel } from './decode.js';
import type { PointValue } from './points.js';
import { modelDef, SUPPORTED_MODELS } from './registry.js';
import type { PointDef } from './types.js';

export interface PointSelector {
  model: number;
  point: string;
  /** 1-based repetition of the model's repeating group; absent for fixed-block points. */
  index?: number;
}

export class PointSelectorError extends Error {
  override name = 'PointSelectorError';
}

const SYNTAX = /^(\d{1,5}):(?:(\d{1,5}):)?([A-Za-z_][A-Za-z0-9_]*)$/;
const HEADER_POINTS = new Set(['ID', 'L']);

/** Parses and checks a selector against the supported models; throws PointSelectorError with a message fit for a config error. */
export function parsePointSelector(text: string): PointSelector {
  const fail = (why: string): never => { throw new PointSelectorError(`point selector "${text}": ${why}`); };
  const match = SYNTAX.exec(text.trim());
  if (!match) return fail('expected MODEL:POINT or MODEL:INDEX:POINT, e.g. 103:W or 160:2:DCW');
  const [, modelText = '', indexText, point = ''] = match;
  const model = Number(modelText);
  const def = modelDef(model);
  if (!def) return fail(`model ${model} is not supported (supported: ${SUPPORTED_MODELS.join(', ')})`);

  if (indexText === undefined) {
    const fixed = def.points.find((p) => p.name === point && !HEADER_POINTS.has(p.name));
    if (fixed) return { model, point };
    if (def.group?.points.some((p) => p.name === point)) {
      return fail(`${point} belongs to the repeating group "${def.group.name}"; give a 1-based index, e.g. ${model}:1:${point}`);
    }
    return fail(`model ${model} has no point ${point}${suggestion(point, def.points.filter((p) => !HEADER_POINTS.has(p.name)))}`);
  }

  const index = Number(indexText);
  if (!def.group) return fail(`model ${model} has no repeating group, so no index is allowed; use ${model}:${point}`);
  if (index < 1) return fail('the group index is 1-based');
  if (!def.group.points.some((p) => p.name === point)) {
    return fail(`the repeating group "${def.group.name}" of model ${model} has no point ${point}${suggestion(point, def.group.points)}`);
  }
  return { model, point, index };
}

export function formatPointSelector(selector: PointSelector): string {
  return selector.index === undefined
    ? `${selector.model}:${selector.point}`
    : `${selector.model}:${selector.index}:${selector.point}`;
}

/** The selected value from a decoded model; undefined if absent, NI, or the repetition does not exist. */
export function selectPointValue(decoded: DecodedModel, selector: PointSelector): PointValue {
  if (decoded.id !== selector.model) throw new Error(`selector ${formatPointSelector(selector)} does not apply to model ${decoded.id}`);
  if (selector.index === undefined) return decoded.values[selector.point];
  return decoded.groups[selector.index - 1]?.[selector.point];
}

function suggestion(name: string, points: readonly PointDef[]): string {
  const sameIgnoringCase = points.find((p) => p.name.toLowerCase() === name.toLowerCase());
  return sameIgnoringCase ? ` (did you mean ${sameIgnoringCase.name}?)` : '';
}
