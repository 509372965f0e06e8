/**
 * docs/config-reference.md, generated from the zod schema (schema.ts): every key path with its
 * type, allowed values, default and description, one section per top-level key. Pure: schema in,
 * Markdown out. `npm run docs:config` writes it; test/config/reference.test.ts keeps the
 * committed file equal to what this returns.
 *
 * What the schema cannot show structurally (a refined string such as a host name or a time
 * zone) is described by its own validation message ("expected a hostname or IP address"), which
 * is written for users anyway.
 */
import * as z from 'zod';
import { DURATION_PATTERN, formatDuration } from './duration.js';
import { configSchema } from './schema.js';

type Schema = z.ZodType;

/** A key as written in the file: its innermost schema plus what the wrappers around it said. */
interface Field {
  schema: Schema;
  required: boolean;
  /** The default in the file's own form ("1s", not 1000), when there is one. */
  fallback?: { value: unknown };
  description?: string;
}

interface Row {
  path: string;
  type: string;
  allowed: string;
  fallback: string;
  description: string;
}

interface Shape {
  type: string;
  allowed: string;
  /** Validation rules that the type and allowed values do not already say. */
  rules: string[];
}

const code = (text: string): string => `\`${text}\``;

function orList(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/** The text of a static error message ("expected …"), or undefined when it is computed per issue. */
function messageOf(error: unknown): string | undefined {
  if (typeof error !== 'function') return undefined;
  try {
    const result: unknown = error({ code: 'custom', input: undefined, path: [] });
    const text = typeof result === 'string' ? result
      : typeof result === 'object' && result !== null && typeof (result as { message?: unknown }).message === 'string'
        ? (result as { message: string }).message : undefined;
    return text && text.length > 0 ? text : undefined;
  } catch {
    return undefined;
  }
}

interface CheckInfo { kind: string; message?: string; minimum?: number; pattern?: RegExp }

function checksOf(schema: Schema): CheckInfo[] {
  const checks = (schema.def as { checks?: z.core.$ZodCheck[] }).checks ?? [];
  return checks.map((check) => {
    const def = check._zod.def as { check: string; error?: unknown; minimum?: unknown; pattern?: unknown };
    const info: CheckInfo = { kind: def.check };
    const message = messageOf(def.error);
    if (message !== undefined) info.message = message;
    if (typeof def.minimum === 'number') info.minimum = def.minimum;
    if (def.pattern instanceof RegExp) info.pattern = def.pattern;
    return info;
  });
}

/** "expected a hostname or IP address" → "hostname or IP address". */
function asAllowed(message: string): string {
  return message.replace(/^expected /, '').replace(/^(a|an|the) /, '');
}

/** "expected each of pv, battery and grid at most once" → "Each of pv, battery and grid at most once." */
function asRule(message: string): string {
  const text = message.replace(/^expected /, '');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;
}

function customRules(schema: Schema, except: readonly string[] = []): string[] {
  return checksOf(schema)
    .filter((check) => check.kind === 'custom' && check.message !== undefined && !except.includes(check.message))
    .map((check) => asRule(check.message!));
}

function unwrap(schema: Schema): Field {
  const field: Field = { schema, required: true };
  let current: Schema = schema;
  for (;;) {
    if (field.description === undefined && current.description !== undefined) field.description = current.description;
    if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault) {
      field.required = false;
      const inner = current.def.innerType as Schema;
      if (field.fallback === undefined) {
        // A prefault is given in the file's form; a default in the parsed form, so encode it back.
        const value: unknown = current.def.defaultValue;
        field.fallback = { value: current instanceof z.ZodPrefault ? value : encodeDefault(inner, value) };
      }
      current = inner;
    } else if (current instanceof z.ZodOptional || current instanceof z.ZodNullable) {
      field.required = false;
      current = current.def.innerType as Schema;
    } else {
      break;
    }
  }
  field.schema = current;
  return field;
}

function encodeDefault(schema: Schema, value: unknown): unknown {
  try {
    return z.encode(schema, value as never);
  } catch {
    return value;
  }
}

function isDuration(schema: Schema): schema is z.ZodPipe<Schema, Schema> {
  return schema instanceof z.ZodPipe && schema.in instanceof z.ZodString && schema.out instanceof z.ZodNumber
    && checksOf(schema.in).some((check) => check.pattern?.source === DURATION_PATTERN.source);
}

function literalText(value: unknown): string {
  return code(typeof value === 'string' ? value : JSON.stringify(value));
}

function numberRange(schema: z.ZodNumber, format: (n: number) => string = String): string {
  const bounded = (n: number | null | undefined): n is number => typeof n === 'number' && Number.isFinite(n) && Math.abs(n) < Number.MAX_SAFE_INTEGER;
  const { minValue: min, maxValue: max } = schema;
  if (bounded(min) && bounded(max)) return `${format(min)}…${format(max)}`;
  if (bounded(min)) return `at least ${format(min)}`;
  if (bounded(max)) return `at most ${format(max)}`;
  return 'any';
}

function shapeOf(schema: Schema): Shape {
  const base = messageOf((schema.def as { error?: unknown }).error);
  if (isDuration(schema)) {
    const out = unwrap(schema.out).schema;
    return { type: 'duration', allowed: out instanceof z.ZodNumber ? numberRange(out, formatDuration) : '', rules: customRules(schema.out) };
  }
  if (schema instanceof z.ZodPipe) return shapeOf(schema.in as Schema);
  if (schema instanceof z.ZodBoolean) return { type: 'boolean', allowed: '`true` or `false`', rules: customRules(schema) };
  if (schema instanceof z.ZodNumber) {
    const integer = schema.isInt || schema.format === 'safeint' || schema.format === 'int32';
    return { type: integer ? 'integer' : 'number', allowed: numberRange(schema), rules: customRules(schema) };
  }
  if (schema instanceof z.ZodEnum) {
    return { type: 'string', allowed: orList(schema.options.map(literalText)), rules: customRules(schema) };
  }
  if (schema instanceof z.ZodLiteral) {
    const values = [...schema.values];
    const type = values.every((v) => typeof v === 'number') ? (values.every(Number.isInteger) ? 'integer' : 'number')
      : values.every((v) => typeof v === 'boolean') ? 'boolean' : 'string';
    return { type, allowed: orList(values.map(literalText)), rules: customRules(schema) };
  }
  if (schema instanceof z.ZodString) {
    const messages = checksOf(schema).map((check) => check.message).filter((m): m is string => m !== undefined);
    const described = base ?? messages[0];
    if (described !== undefined) return { type: 'string', allowed: asAllowed(described), rules: customRules(schema, [described]) };
    const { minLength, maxLength } = schema;
    const length = minLength !== null && maxLength !== null ? `${minLength}–${maxLength} characters`
      : minLength !== null && minLength > 0 ? (minLength === 1 ? 'not empty' : `at least ${minLength} characters`)
        : maxLength !== null ? `at most ${maxLength} characters` : '';
    return { type: 'string', allowed: length, rules: customRules(schema) };
  }
  if (schema instanceof z.ZodUnion && !(schema instanceof z.ZodDiscriminatedUnion)) {
    const options = (schema.options as readonly Schema[]).map((option) => unwrap(option).schema);
    const type = orList(options.map((option) => (option instanceof z.ZodLiteral ? shapeOf(option).allowed : shapeOf(option).type)));
    const message = base ?? checksOf(schema).find((check) => check.message !== undefined)?.message;
    const allowed = message !== undefined ? asAllowed(message) : orList(options.map((option) => shapeOf(option).allowed).filter(Boolean));
    return { type, allowed, rules: customRules(schema, message === undefined ? [] : [message]) };
  }
  if (schema instanceof z.ZodArray) {
    const element = unwrap(schema.element as Schema).schema;
    const nonEmpty = checksOf(schema).some((check) => check.kind === 'min_length' && (check.minimum ?? 0) >= 1);
    const items = isMapping(element) ? 'mappings (keys below)' : shapeOf(element).allowed || `${shapeOf(element).type} values`;
    return { type: 'list', allowed: `${nonEmpty ? 'non-empty ' : ''}list of ${items}`, rules: customRules(schema) };
  }
  if (schema instanceof z.ZodObject) return { type: 'mapping', allowed: 'keys below', rules: customRules(schema) };
  if (schema instanceof z.ZodRecord) {
    const keyType = schema.keyType as Schema;
    const keyMessage = messageOf((keyType.def as { error?: unknown }).error)
      ?? checksOf(keyType).find((check) => check.message !== undefined)?.message;
    return { type: 'mapping', allowed: `names of your choice${keyMessage ? ` (${asAllowed(keyMessage)})` : ''}`, rules: customRules(schema) };
  }
  if (schema instanceof z.ZodDiscriminatedUnion) {
    const key = schema.def.discriminator;
    const values = (schema.options as readonly Schema[]).flatMap((option) => discriminatorValues(option, key));
    return { type: 'mapping', allowed: `by ${code(key)}: ${orList(values.map(literalText))}`, rules: customRules(schema) };
  }
  return { type: schema.def.type, allowed: base ? asAllowed(base) : '', rules: [] };
}

function isMapping(schema: Schema): boolean {
  return schema instanceof z.ZodObject || schema instanceof z.ZodRecord || schema instanceof z.ZodDiscriminatedUnion;
}

function discriminatorValues(option: Schema, key: string): unknown[] {
  if (!(option instanceof z.ZodObject)) return [];
  const literal = unwrap((option.shape as Record<string, Schema>)[key]!).schema;
  return literal instanceof z.ZodLiteral ? [...literal.values] : [];
}

/** Strings YAML reads back as strings without quotes, and those it would read as something else. */
const PLAIN_SCALAR = /^[A-Za-z0-9_./][A-Za-z0-9_./:-]*$/;
const NOT_A_STRING = /^(true|false|yes|no|on|off|null|~|[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+)$/i;

/** A default as it would be written in the file, in flow style: `1s`, `[pv, battery, grid]`, `{}`. */
function yamlInline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(yamlInline).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${k}: ${yamlInline(v)}`).join(', ')}}`;
  }
  if (typeof value === 'string') return PLAIN_SCALAR.test(value) && !NOT_A_STRING.test(value) ? value : JSON.stringify(value);
  return String(value);
}

function defaultText(field: Field): string {
  if (field.fallback !== undefined) return code(yamlInline(field.fallback.value));
  return field.required ? '**required**' : 'not set';
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return trimmed === '' || /[.!?)]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function row(path: string, field: Field, extra: readonly string[] = []): Row {
  const shape = shapeOf(field.schema);
  return {
    path,
    type: shape.type,
    allowed: shape.allowed,
    fallback: defaultText(field),
    description: [field.description ?? '', ...extra, ...shape.rules].map(sentence).filter(Boolean).join(' '),
  };
}

/** The rows of a mapping's keys and, depth first, of the keys nested under them. */
function rowsOf(mapping: z.ZodObject, prefix: string, note: readonly string[] = []): Row[] {
  const rows: Row[] = [];
  for (const [key, child] of Object.entries(mapping.shape as Record<string, Schema>)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const field = unwrap(child);
    rows.push(row(path, field, note));
    rows.push(...nestedRows(field.schema, path, note));
  }
  return rows;
}

function nestedRows(schema: Schema, path: string, note: readonly string[]): Row[] {
  if (schema instanceof z.ZodObject) return rowsOf(schema, path, note);
  if (schema instanceof z.ZodArray) return nestedRows(unwrap(schema.element as Schema).schema, `${path}[]`, note);
  if (schema instanceof z.ZodRecord) return nestedRows(unwrap(schema.valueType as Schema).schema, `${path}.<name>`, note);
  if (schema instanceof z.ZodDiscriminatedUnion) {
    // Inside a table the variants cannot get tables of their own: each row says which variant it belongs to.
    const key = schema.def.discriminator;
    return (schema.options as readonly Schema[]).flatMap((option) => (option instanceof z.ZodObject
      ? rowsOf(option, path, [...note, `Only with ${discriminatorValues(option, key).map((v) => `${key}: ${String(v)}`).join(' or ')}`])
      : []));
  }
  return [];
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(rows: readonly Row[]): string {
  const lines = ['| Key | Type | Allowed | Default | Description |', '|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(`| ${[code(r.path), r.type, r.allowed, r.fallback, r.description].map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** One section per top-level key; a mapping of names to a discriminated union gets a table per variant. */
function section(key: string, child: Schema): string {
  const field = unwrap(child);
  const { schema } = field;
  const parts = [`## ${code(key)}`];
  const value = schema instanceof z.ZodRecord ? unwrap(schema.valueType as Schema).schema : undefined;
  if (schema instanceof z.ZodRecord && value instanceof z.ZodDiscriminatedUnion) {
    const discriminator = value.def.discriminator;
    parts.push(table([row(key, field)]));
    parts.push(`Each ${code(`${key}.<name>`)} has a ${code(discriminator)} that decides which other keys it takes:`);
    for (const option of value.options as readonly Schema[]) {
      if (!(option instanceof z.ZodObject)) continue;
      const kinds = discriminatorValues(option, discriminator).map((v) => `${discriminator}: ${String(v)}`);
      const typeField = unwrap((option.shape as Record<string, Schema>)[discriminator]!);
      parts.push(`### ${code(`${key}.<name>`)} with ${kinds.map(code).join(' or ')}`);
      if (typeField.description) parts.push(sentence(typeField.description));
      parts.push(table(rowsOf(option, `${key}.<name>`)));
    }
    return parts.join('\n\n');
  }
  parts.push(table([row(key, field), ...nestedRows(schema, key, [])]));
  return parts.join('\n\n');
}

/** The exact text of docs/config-reference.md. */
export function configReferenceMarkdown(schema: z.ZodObject = configSchema): string {
  const sections = Object.entries(schema.shape as Record<string, Schema>);
  const intro = [
    '# Configuration reference',
    '<!-- Generated from agent/config/schema.ts by `npm run docs:config`. Do not edit by hand: change the schema and regenerate. -->',
    'Every key of `tonari.yaml`, generated from the schema that `tonari check` and `tonari run` validate with, so it is '
      + 'always complete and current. For how the file is written (durations, strict keys, names), the error messages, '
      + 'the [checks that span sections](configuration.md#checks-across-sections) and a worked example, see the '
      + '[configuration guide](configuration.md).',
    [
      '- **Key**: the path of the key. `<name>` stands for a name of your choice (a link or device name); `[]` for each entry of a list.',
      '- **Type**: `duration` is a string with a unit (`500ms`, `2s`, `5m`, `1h`); a `mapping` holds the keys listed under it.',
      '- **Allowed**: the range or the values `tonari check` accepts.',
      '- **Default**: what applies when the key is left out. **required** keys must be given; keys that are "not set" are optional and have no default.',
    ].join('\n'),
    `Sections: ${sections.map(([key]) => `[${code(key)}](#${key.toLowerCase()})`).join(' · ')}`,
  ];
  return `${[...intro, ...sections.map(([key, child]) => section(key, child))].join('\n\n')}\n`;
}
