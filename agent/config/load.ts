/** Reading tonari.yaml from disk. */
import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from './errors.js';
import { parseConfigText } from './parse.js';
import type { Config } from './schema.js';

export const DEFAULT_CONFIG_PATH = '/etc/tonari/tonari.yaml';

/** A config file is a page or two of YAML; anything far bigger is a mistake (or an attack). */
const MAX_CONFIG_BYTES = 1024 * 1024;

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

/**
 * Reads, parses and validates a config file. Throws ConfigError with every problem found,
 * and (security.md CFG-1) when the file holds a secret (api.token) and others may read it.
 */
export async function loadConfigFile(path: string): Promise<Config> {
  const { text, mode } = await readConfig(path);
  const config = parseConfigText(text, path);
  const problem = secretExposure(config, mode, path);
  if (problem) throw new ConfigError([{ file: path, path: 'api.token', message: problem }]);
  return config;
}

/** Why a config with a secret must not be loaded from a file with this mode, or undefined. */
export function secretExposure(config: Config, mode: number, path: string): string | undefined {
  if (config.api.token === undefined || (mode & 0o004) === 0) return undefined;
  return `the file holds a secret (api.token) and every user of this machine can read it (mode ${(mode & 0o777).toString(8).padStart(3, '0')}): chmod 640 ${path}, so that only its owner and group can read it`;
}

export async function readConfigText(path: string): Promise<string> {
  return (await readConfig(path)).text;
}

async function readConfig(path: string): Promise<{ text: string; mode: number }> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (info.size > MAX_CONFIG_BYTES) {
      throw new ConfigError([{ file: path, path: '', message: `cannot read: the file is ${info.size} bytes; a config file may be at most 1 MiB` }]);
    }
    return { text: await readFile(path, 'utf8'), mode: info.mode };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = READ_ERRORS[code] ?? (error as Error).message;
    throw new ConfigError([{ file: path, path: '', message: `cannot read: ${reason}` }]);
  }
}
