/**
 * Profile files: YAML text in, a validated `Profile` out, or every problem as
 * `FILE:LINE:COL: path: message` (the config loader's helpers and format).
 */
import { ConfigError, formatKeyPath, type ConfigIssue } from '../../config/errors.js';
import { readConfigText } from '../../config/load.js';
import { readYaml } from '../../config/yaml-source.js';
import { profileProblems, profileSchema } from './schema.js';
import type { Profile } from './types.js';

/** Parses and validates the text of a profile file (pure); `file` is only used in messages. */
export function parseProfileText(text: string, file: string): Profile {
  const read = readYaml(text);
  if (!read.ok) throw new ConfigError(inFileOrder(read.problems.map((p) => ({ file, ...p, path: '' }))));
  const { data, locate } = read.source;
  const result = profileSchema.safeParse(data);
  if (result.success) return result.data;
  const issues = profileProblems(data).map((problem): ConfigIssue => ({
    file,
    ...locate(problem.path, problem.anchor),
    path: formatKeyPath(problem.path),
    message: problem.message,
  }));
  throw new ConfigError(inFileOrder(issues));
}

/** Reads, parses and validates a profile file. Throws ConfigError with every problem found. */
export async function loadProfileFile(path: string): Promise<Profile> {
  return parseProfileText(await readConfigText(path), path);
}

function inFileOrder(issues: ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => (a.issue.line ?? 0) - (b.issue.line ?? 0) || (a.issue.col ?? 0) - (b.issue.col ?? 0) || a.index - b.index)
    .map(({ issue }) => issue);
}
