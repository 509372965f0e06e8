/**
 * Turns zod's validation issues into problems an installer can act on: one per unknown key
 * (with a suggestion), "missing required key" at the mapping that lacks it, and the value
 * that was found after every "expected …".
 */
import type * as z from 'zod';
import { describeValue, type Problem } from './errors.js';
import type { KeyPath } from './yaml-source.js';

export function explainIssues(issues: readonly z.core.$ZodIssue[], data: unknown, schema: z.ZodType): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ path: [...path, key], anchor: 'key', message: unknownKeyMessage(schema, path, data, key) });
      }
    } else if (issue.code === 'invalid_key') {
      const key = path.at(-1);
      problems.push({ path, anchor: 'key', message: `${issue.issues[0]?.message ?? 'invalid name'}, got ${JSON.stringify(key)}` });
    } else if (isMissingKey(data, path)) {
      problems.push({ path: path.slice(0, -1), anchor: 'value', message: `missing required key ${JSON.stringify(path.at(-1))}` });
    } else {
      const found = valueAt(data, path);
      const message = issue.message.startsWith('expected ') ? `${issue.message}, got ${describeValue(found)}` : issue.message;
      problems.push({ path, anchor: 'value', message });
    }
  }
  return problems;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueAt(data: unknown, path: KeyPath): unknown {
  let value = data;
  for (const segment of path) value = isRecord(value) || Array.isArray(value) ? (value as Record<string, unknown>)[segment] : undefined;
  return value;
}

function isMissingKey(data: unknown, path: KeyPath): boolean {
  const key = path.at(-1);
  if (typeof key !== 'string') return false;
  const parent = valueAt(data, path.slice(0, -1));
  return isRecord(parent) && !Object.hasOwn(parent, key);
}

function unknownKeyMessage(schema: z.ZodType, path: KeyPath, data: unknown, key: string): string {
  const here = objectAt(schema, path, data);
  if (!here) return 'unknown key';
  const elsewhere = here.variants.filter((variant) => variant.keys.includes(key)).map((variant) => variant.tag);
  if (elsewhere.length > 0 && here.discriminator) {
    return `unknown key (${key} is only for ${here.discriminator}: ${elsewhere.join(' or ')})`;
  }
  const suggestion = closest(key, here.keys);
  return suggestion ? `unknown key (did you mean ${JSON.stringify(suggestion)}?)` : `unknown key (expected one of: ${here.keys.join(', ')})`;
}

/** The part of zod's schema definitions this module reads. */
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  values?: unknown[];
}

const defOf = (schema: z.ZodType): Def => schema._zod.def as unknown as Def;

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

function discriminatorValues(option: z.ZodType, discriminator: string): unknown[] {
  const tag = defOf(option).shape?.[discriminator];
  return tag ? (defOf(unwrap(tag)).values ?? []) : [];
}

/** For a discriminated union, the option the data selects (by its `type`). */
function select(schema: z.ZodType, value: unknown): z.ZodType | undefined {
  const current = unwrap(schema);
  const def = defOf(current);
  if (!def.discriminator || !def.options) return current;
  const tag = isRecord(value) ? value[def.discriminator] : undefined;
  return def.options.find((option) => discriminatorValues(option, def.discriminator!).includes(tag));
}

interface ObjectInfo {
  keys: string[];
  discriminator?: string;
  variants: { tag: string; keys: string[] }[];
}

function objectAt(schema: z.ZodType, path: KeyPath, data: unknown): ObjectInfo | undefined {
  let current: z.ZodType | undefined = schema;
  let value = data;
  for (const segment of path) {
    const def: Def | undefined = current && defOf(select(current, value) ?? current);
    current = def?.shape?.[segment] ?? def?.valueType ?? def?.element;
    value = valueAt(value, [segment]);
  }
  if (!current) return undefined;
  const chosen = select(current, value);
  const keys = chosen ? Object.keys(defOf(chosen).shape ?? {}) : [];
  const union = defOf(unwrap(current));
  if (!union.discriminator || !union.options) return { keys, variants: [] };
  const variants = union.options.filter((option) => option !== chosen).map((option) => ({
    tag: String(discriminatorValues(option, union.discriminator!)[0]),
    keys: Object.keys(defOf(option).shape ?? {}),
  }));
  return { keys, discriminator: union.discriminator, variants };
}

/** The known key a misspelt one most likely meant, if any is close enough. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
