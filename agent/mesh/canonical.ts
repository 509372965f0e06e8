/**
 * Canonical JSON in the manner of RFC 8785 (JCS): the one byte string a JSON value
 * is signed as, so that every implementation signs and verifies the same bytes.
 *
 * - object keys sorted by UTF-16 code units (what `Array.prototype.sort` does), no whitespace;
 * - numbers as ECMAScript serialises them (`JSON.stringify`), finite only; -0 becomes 0;
 * - strings as `JSON.stringify` writes them; lone surrogates are refused (RFC 8785 §3.2.2.2);
 * - only null, booleans, finite numbers, strings, arrays and plain objects; anything else
 *   (undefined, NaN, Infinity, bigint, functions, Dates, class instances) is a CanonicalError.
 */
export class CanonicalError extends Error {
  override readonly name = 'CanonicalError';
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Maximum nesting the serialiser follows; deeper values are refused rather than overflowing the stack. */
export const CANONICAL_MAX_DEPTH = 64;

export function canonicalJson(value: unknown): string {
  return write(value, 0, '$');
}

/** The UTF-8 bytes of `canonicalJson(value)`. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

function write(value: unknown, depth: number, path: string): string {
  if (depth > CANONICAL_MAX_DEPTH) throw new CanonicalError(`${path}: nested deeper than ${CANONICAL_MAX_DEPTH}`);
  switch (typeof value) {
    case 'string':
      return writeString(value, path);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalError(`${path}: ${String(value)} is not a finite number`);
      return JSON.stringify(value); // -0 serialises as "0"
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        // Array.from turns holes into undefined, which is then refused.
        return `[${Array.from(value, (item: unknown, i) => write(item, depth + 1, `${path}[${i}]`)).join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new CanonicalError(`${path}: not a plain object`);
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      const members = keys.map((key) => `${writeString(key, path)}:${write(record[key], depth + 1, `${path}.${key}`)}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new CanonicalError(`${path}: ${typeof value} has no JSON form`);
  }
}

function writeString(value: string, path: string): string {
  if (LONE_SURROGATE.test(value)) throw new CanonicalError(`${path}: string contains a lone surrogate`);
  return JSON.stringify(value);
}
