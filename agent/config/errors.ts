import type { Anchor, KeyPath } from './yaml-source.js';

/** One thing wrong with a config file, at a 1-based line and column when there is one. */
export interface ConfigIssue {
  file: string;
  line?: number;
  col?: number;
  /** Dotted key path, such as `links.lan.port`; empty for the file as a whole. */
  path: string;
  message: string;
}

/** A problem found in the data, before it is given a position in the file. */
export interface Problem {
  path: KeyPath;
  anchor: Anchor;
  message: string;
}

/** `FILE:LINE:COL: path: message`, the format compilers use, so editors can jump to it. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.col ?? 1}`;
  return `${where}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
}

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }

  /** One line per issue, in file order. */
  format(): string {
    return this.message;
  }
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `devices.inverter.writable[0].max`; odd keys are quoted: `links["my link"]`. */
export function formatKeyPath(path: KeyPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** How a found value is shown after "got". */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (Array.isArray(value)) {
    if (value.length === 0) return 'an empty list';
    const flow = `[${value.map(String).join(', ')}]`;
    const scalars = value.every((item) => item === null || typeof item !== 'object');
    return scalars && flow.length <= 40 ? flow : 'a list';
  }
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
