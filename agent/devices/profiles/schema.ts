/**
 * Validation of register profiles: the zod schema for the YAML format (with
 * the cross-point rules of checks.ts) and normalisation into a `Profile`.
 * Pure: works on already-parsed values, knows nothing about files.
 */
import * as z from 'zod';
import { DURATION_PATTERN, parseDuration } from '../../config/duration.js';
import type { Problem } from '../../config/errors.js';
import { formatKeyPath } from '../../config/errors.js';
import { explainIssues } from '../../config/problems.js';
import { REGISTERS, type NumericType } from '../codec.js';
import type { Profile, ProfilePoint } from './types.js';
import { crossCheckProfile, sentinelBits } from './checks.js';
import { CANONICAL_UNIT, UNITS, UNIT_NAMES, type UnitName } from './units.js';

const NUMERIC_TYPES = ['u16', 's16', 'u32', 's32', 'u64', 's64', 'f32', 'f64'] as const satisfies readonly NumericType[];
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PROFILE_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const INTEGER_TEXT = /^(-?[0-9]+|0x[0-9a-f]+)$/i;

// Messages are "expected …" phrases: the config helpers add the path, the position and the value found.
const expected = (text: string) => ({ error: text });

function integer(min: number, max: number) {
  const e = expected(`expected an integer from ${min} to ${max}`);
  return z.int(e).min(min, e).max(max, e);
}

function text() {
  return z.string(expected('expected text')).min(1, expected('expected text'));
}

function mapping<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape, expected('expected a mapping (key: value lines)'));
}

const durationMs = z.string(expected('expected a duration with a unit, such as 500ms or 2s'))
  .regex(DURATION_PATTERN, expected('expected a duration with a unit, such as 500ms or 2s'))
  .transform((value) => parseDuration(value) ?? Number.NaN);

const wordOrderSchema = z.enum(['big', 'little'], expected('expected big or little'));

const SENTINEL_HINT = 'expected an integer such as 0xFFFF (64-bit values as quoted hex, e.g. "0xFFFFFFFFFFFFFFFF")';
const sentinelItem = z.union([z.int(expected(SENTINEL_HINT)), z.string().regex(INTEGER_TEXT, expected(SENTINEL_HINT))], expected(SENTINEL_HINT));

const pointSchema = mapping({
  address: integer(0, 65535),
  fc: z.literal([3, 4], expected('expected 3 (holding registers) or 4 (input registers)')).default(3),
  type: z.enum(NUMERIC_TYPES, expected(`expected one of ${NUMERIC_TYPES.join(', ')}`)),
  wordOrder: wordOrderSchema.optional(),
  scale: z.number(expected('expected a non-zero number')).refine((v) => v !== 0, expected('expected a non-zero number')).default(1),
  unit: z.enum(UNIT_NAMES as [UnitName, ...UnitName[]], expected(`expected one of ${UNIT_NAMES.join(', ')}`)).optional(),
  sentinel: z.union([sentinelItem, z.array(sentinelItem).min(1, expected(SENTINEL_HINT))], expected(SENTINEL_HINT)).optional(),
  access: z.enum(['r', 'rw'], expected('expected r or rw')).default('r'),
  min: z.number(expected('expected a number')).optional(),
  max: z.number(expected('expected a number')).optional(),
  description: z.string(expected('expected text')).optional(),
});

type RawPoint = z.output<typeof pointSchema>;

const pointName = z.string().regex(IDENTIFIER, expected('expected a point name of letters, digits and _ (not starting with a digit)'));

const rawProfileSchema = mapping({
  name: z.string(expected('expected a profile name')).regex(PROFILE_NAME, expected('expected a profile name of lowercase letters, digits and dashes, e.g. huawei-sun2000')),
  title: text(),
  source: text(),
  defaults: mapping({
    unit: integer(0, 255),
    port: integer(1, 65535),
    baudRate: integer(300, 1_000_000),
    timeout: durationMs,
    connectDelay: durationMs,
  }).partial().optional(),
  notes: z.array(z.string(expected('expected text')), expected('expected a list of notes')).optional(),
  wordOrder: wordOrderSchema.optional(),
  points: z.record(pointName, pointSchema, expected('expected a mapping of point names to points')),
});

type RawProfile = z.output<typeof rawProfileSchema>;

function sentinelList(raw: RawPoint['sentinel']): (number | string)[] {
  if (raw === undefined) return [];
  return Array.isArray(raw) ? raw : [raw];
}

/** Cleans binary noise from products such as 0.1 × 1000. */
function tidy(n: number): number {
  return Number(n.toPrecision(15));
}

function normalisePoint(name: string, raw: RawPoint, profileOrder: 'big' | 'little'): ProfilePoint {
  const canonicalUnit = raw.unit === undefined ? undefined : CANONICAL_UNIT[UNITS[raw.unit].quantity];
  const point: ProfilePoint = {
    name,
    address: raw.address,
    fc: raw.fc,
    type: raw.type,
    wordOrder: raw.wordOrder ?? profileOrder,
    size: REGISTERS[raw.type],
    scale: raw.scale,
    factor: tidy(raw.scale * (raw.unit === undefined ? 1 : UNITS[raw.unit].toCanonical)),
    sentinels: sentinelList(raw.sentinel).map((v) => sentinelBits(v, raw.type)!),
    access: raw.access,
  };
  if (raw.unit !== undefined) point.unit = raw.unit;
  if (canonicalUnit !== undefined) point.canonicalUnit = canonicalUnit;
  if (raw.min !== undefined) point.min = raw.min;
  if (raw.max !== undefined) point.max = raw.max;
  if (raw.description !== undefined) point.description = raw.description;
  return point;
}

function normalise(raw: RawProfile): Profile {
  const order = raw.wordOrder ?? 'big';
  const d = raw.defaults ?? {};
  return {
    name: raw.name,
    title: raw.title,
    source: raw.source,
    defaults: {
      ...(d.unit !== undefined && { unit: d.unit }),
      ...(d.port !== undefined && { port: d.port }),
      ...(d.baudRate !== undefined && { baudRate: d.baudRate }),
      ...(d.timeout !== undefined && { timeoutMs: d.timeout }),
      ...(d.connectDelay !== undefined && { connectDelayMs: d.connectDelay }),
    },
    notes: raw.notes ?? [],
    points: Object.entries(raw.points).map(([name, p]) => normalisePoint(name, p, order)),
  };
}

/** The profile format: validates a parsed YAML/JSON value and outputs a normalised `Profile`. */
export const profileSchema = rawProfileSchema
  .superRefine((raw, ctx) => {
    for (const problem of crossCheckProfile(raw)) ctx.addIssue({ code: 'custom', path: [...problem.path], message: problem.message });
  })
  .transform(normalise);

/** Problems with a parsed profile value, each with its key path. */
export class ProfileError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map((p) => (p.path.length > 0 ? `${formatKeyPath(p.path)}: ${p.message}` : p.message)).join('\n'));
    this.name = 'ProfileError';
  }
}

/**
 * Every problem with `value` as a profile, in the config loader's style; empty
 * if it is valid. Cross-point rules run even when the schema rejects other keys.
 */
export function profileProblems(value: unknown): Problem[] {
  const result = profileSchema.safeParse(value);
  if (result.success) return [];
  const all = [...explainIssues(result.error.issues, value, profileSchema), ...crossCheckProfile(value)];
  const seen = new Set<string>();
  return all.filter((p) => {
    const key = `${formatKeyPath(p.path)}\n${p.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** Validates a parsed profile value (pure). Throws `ProfileError` listing every problem. */
export function parseProfile(value: unknown): Profile {
  const result = profileSchema.safeParse(value);
  if (!result.success) throw new ProfileError(profileProblems(value));
  return result.data;
}
