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

/** Reads, parses and validates a config file. Throws ConfigError with every problem found. */
export async function loadConfigFile(path: string): Promise<Config> {
  return parseConfigText(await readConfigText(path), path);
}

export async function readConfigText(path: string): Promise<string> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (info.size > MAX_CONFIG_BYTES) {
      throw new ConfigError([{ file: path, path: '', message: `cannot read: the file is ${info.size} bytes; a config file may be at most 1 MiB` }]);
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = READ_ERRORS[code] ?? (error as Error).message;
    throw new ConfigError([{ file: path, path: '', message: `cannot read: ${reason}` }]);
  }
}
