/**
 * Crash-safe file replacement (security.md ID-6): write a temporary file in the same
 * directory, fsync it, rename it over the target, fsync the directory. After a crash at
 * any step the target is the old file or the new one, never empty or truncated; at worst
 * a stray temporary file is left, which `removeStrayTemps` cleans on the next start.
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The file operations used, injectable so tests can crash between any two steps. */
export interface AtomicFs {
  open: typeof fsp.open;
  rename: typeof fsp.rename;
  link: typeof fsp.link;
  unlink: typeof fsp.unlink;
  readdir: (path: string) => Promise<string[]>;
}

export const realFs: AtomicFs = {
  open: fsp.open,
  rename: fsp.rename,
  link: fsp.link,
  unlink: fsp.unlink,
  readdir: (path) => fsp.readdir(path),
};

export interface AtomicWriteOptions {
  /** File mode, applied with chmod as well because the umask may have removed bits. */
  mode: number;
  /** Fail with EEXIST instead of replacing an existing file (for keys: never overwrite one). */
  exclusive?: boolean;
  fs?: AtomicFs;
}

const tempPrefix = (file: string): string => `.${basename(file)}.`;

export function tempNameFor(file: string): string {
  return join(dirname(file), `${tempPrefix(file)}${randomBytes(6).toString('hex')}.tmp`);
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions): Promise<void> {
  const fs = options.fs ?? realFs;
  const temp = tempNameFor(file);
  const handle = await fs.open(temp, 'wx', options.mode);
  try {
    try {
      await handle.writeFile(data);
      await handle.chmod(options.mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive) await linkIfAbsent(fs, temp, file);
    else await fs.rename(temp, file);
  } finally {
    // After a rename this is already gone; after a link or a failure it must go.
    await fs.unlink(temp).catch(() => undefined);
  }
  await syncDirectory(dirname(file), fs);
}

async function linkIfAbsent(fs: AtomicFs, temp: string, file: string): Promise<void> {
  try {
    await fs.link(temp, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Some file systems (FAT, some FUSE mounts) have no hard links: check, then rename.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    const exists = await fsp.access(file).then(() => true, () => false);
    if (exists) throw Object.assign(new Error(`${file} exists`), { code: 'EEXIST' });
    await fs.rename(temp, file);
  }
}

export async function syncDirectory(dir: string, fs: AtomicFs = realFs): Promise<void> {
  const handle = await fs.open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync().catch(() => undefined); // not every file system can sync a directory
  } finally {
    await handle.close();
  }
}

/** Deletes temporary files a crashed `writeFileAtomic(file)` left behind; returns their names. */
export async function removeStrayTemps(file: string, fs: AtomicFs = realFs): Promise<string[]> {
  const dir = dirname(file);
  const prefix = tempPrefix(file);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const stray = names.filter((n) => n.startsWith(prefix) && n.endsWith('.tmp'));
  for (const name of stray) await fs.unlink(join(dir, name)).catch(() => undefined);
  return stray;
}
