/**
 * Reads YAML text into plain data while keeping the document, so that any key path can be
 * mapped back to a line and column.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLError } from 'yaml';

export type KeyPath = readonly (string | number)[];

/** Where in a node an issue is reported: at the key itself, or at the value under the key. */
export type Anchor = 'key' | 'value';

export interface Position {
  line: number;
  col: number;
}

export interface YamlSyntaxProblem extends Position {
  message: string;
}

export interface YamlSource {
  /** The document as plain data; keys with an empty value (`key:` or `~`) are left out. */
  data: unknown;
  /** Position of the node at `path`, or of the deepest part of the path that exists. */
  locate(path: KeyPath, anchor: Anchor): Position;
}

export type YamlReadResult = { ok: true; source: YamlSource } | { ok: false; problems: YamlSyntaxProblem[] };

export function readYaml(text: string): YamlReadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const positionOf = (offset: number): Position => lineCounter.linePos(offset);
  if (doc.errors.length > 0 || doc.warnings.length > 0) {
    return { ok: false, problems: [...doc.errors, ...doc.warnings].map((error) => syntaxProblem(error, text, positionOf)) };
  }
  let data: unknown;
  try {
    data = withoutEmptyValues(doc.toJS({ maxAliasCount: 100 }));
  } catch (error) {
    // toJS throws on alias bombs ("excessive alias count") and unresolvable aliases.
    return { ok: false, problems: [{ line: 1, col: 1, message: `YAML: ${(error as Error).message}` }] };
  }
  return { ok: true, source: { data, locate: (path, anchor) => positionOf(offsetAt(doc, path, anchor)) } };
}

function syntaxProblem(error: YAMLError, text: string, positionOf: (offset: number) => Position): YamlSyntaxProblem {
  const [start, end] = error.pos;
  const at = positionOf(start);
  switch (error.code) {
    case 'DUPLICATE_KEY':
      return { ...at, message: `duplicate key ${JSON.stringify(keyTextAt(text, start, end))}` };
    case 'TAB_AS_INDENT':
      return { ...at, message: 'tabs are not allowed for indentation; use spaces' };
    case 'MULTIPLE_DOCS':
      return { ...at, message: 'the file holds more than one YAML document ("---"); tonari reads exactly one' };
    default:
      return { ...at, message: `YAML: ${error.message}` };
  }
}

function keyTextAt(text: string, start: number, end: number): string {
  const raw = text.slice(start, Math.max(end, text.indexOf(':', start))).trim();
  return raw.replace(/^["']|["']$/g, '');
}

/** `key:` with nothing after it means "not set": the default applies, or the key is missing. */
function withoutEmptyValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyValues);
  if (value === null || typeof value !== 'object') return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== null && item !== undefined) result[key] = withoutEmptyValues(item);
  }
  return result;
}

function offsetAt(doc: Document, path: KeyPath, anchor: Anchor): number {
  let node: unknown = doc.contents;
  let keyNode: Node | null = null;
  let found = doc.contents?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    let child: unknown;
    keyNode = null;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair) {
        keyNode = pair.key as Node;
        child = pair.value ?? null;
      }
    } else if (isSeq(node) && typeof segment === 'number') {
      child = node.items[segment];
    }
    // The path goes on below what the file has (a missing key): report the deepest part that exists.
    if (child === undefined) return found;
    // An empty value has no text of its own: point at its key.
    if (child === null || (isScalar(child) && child.value === null)) return keyNode?.range?.[0] ?? found;
    node = child;
    found = (child as Node).range?.[0] ?? found;
  }
  if (anchor === 'key' && keyNode?.range) return keyNode.range[0];
  return found;
}
