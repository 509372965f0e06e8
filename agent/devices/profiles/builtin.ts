/**
 * The profiles shipped with tonari, as YAML files in agent/devices/profiles/builtin/.
 * They are found through the package root, so the same code works from the
 * TypeScript sources and from compiled code under dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProfileFile } from './load.js';
import type { Profile } from './types.js';

const PACKAGE_NAME = 'tonari';

/** The directory holding tonari's package.json, found by walking up from `from`. */
export function findPackageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // not valid JSON: keep walking up
      }
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${from}`);
  }
}

let builtinDir: string | undefined;

export function builtinProfileDir(): string {
  return (builtinDir ??= join(findPackageRoot(), 'agent', 'devices', 'profiles', 'builtin'));
}

export async function builtinProfileNames(): Promise<string[]> {
  const files = await readdir(builtinProfileDir());
  return files.filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
}

export async function loadBuiltinProfile(name: string): Promise<Profile> {
  const names = await builtinProfileNames();
  if (!names.includes(name)) {
    throw new Error(`no built-in profile named ${JSON.stringify(name)} (built-in: ${names.join(', ')})`);
  }
  return loadProfileFile(join(builtinProfileDir(), `${name}.yaml`));
}

/** A path (contains a slash or ends in .yaml/.yml) is loaded as a file; anything else is a built-in name. */
export function resolveProfile(nameOrPath: string): Promise<Profile> {
  const isPath = nameOrPath.includes('/') || nameOrPath.includes('\\') || /\.ya?ml$/i.test(nameOrPath);
  return isPath ? loadProfileFile(nameOrPath) : loadBuiltinProfile(nameOrPath);
}
