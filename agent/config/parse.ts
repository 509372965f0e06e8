/** Config text in, typed config (or every problem at its file:line:col) out. No I/O. */
import * as z from 'zod';
import { stringify } from 'yaml';
import { crossCheck } from './cross-checks.js';
import { ConfigError, formatKeyPath, type ConfigIssue, type Problem } from './errors.js';
import { explainIssues, isRecord } from './problems.js';
import { configSchema, type Config } from './schema.js';
import { readYaml, type YamlSource } from './yaml-source.js';

/** Parses and validates the text of tonari.yaml; `file` is only used in messages. */
export function parseConfigText(text: string, file: string): Config {
  const read = readYaml(text);
  if (!read.ok) {
    throw new ConfigError(inFileOrder(read.problems.map((problem) => ({ file, ...problem, path: '' }))));
  }
  const { data } = read.source;
  if (data !== null && data !== undefined && !isRecord(data)) {
    const { line, col } = read.source.locate([], 'value');
    const found = Array.isArray(data) ? 'a list' : `${JSON.stringify(data)}`;
    throw new ConfigError([{ file, line, col, path: '', message: `expected a mapping of settings such as "household:" and "devices:", got ${found}` }]);
  }
  const result = configSchema.safeParse(data ?? {});
  const problems = [...(result.success ? [] : explainIssues(result.error.issues, data, configSchema)), ...crossCheck(data)];
  if (problems.length > 0 || !result.success) throw new ConfigError(locate(problems, file, read.source));
  return result.data;
}

/** The configuration used when a file sets nothing. */
export function defaultConfig(): Config {
  return configSchema.parse({});
}

/** The config as YAML in the file's own form (durations as "1s" again), for `tonari check --print`. */
export function configToYaml(config: Config): string {
  return stringify(z.encode(configSchema, config));
}

function locate(problems: readonly Problem[], file: string, source: YamlSource): ConfigIssue[] {
  return inFileOrder(problems.map((problem) => ({
    file,
    ...source.locate(problem.path, problem.anchor),
    path: formatKeyPath(problem.path),
    message: problem.message,
  })));
}

/** Sorted by position (stable, so problems at one spot keep their order), without repeats. */
function inFileOrder(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => (a.issue.line ?? 0) - (b.issue.line ?? 0) || (a.issue.col ?? 0) - (b.issue.col ?? 0) || a.index - b.index)
    .map(({ issue }) => issue)
    .filter((issue) => {
      const key = `${issue.line}:${issue.col}:${issue.path}:${issue.message}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
}
