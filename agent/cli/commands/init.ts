import { randomBytes } from 'node:crypto';
import { access, link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG_PATH } from '../../config/load.js';
import { starterConfigText } from '../../config/starter.js';
import { EXIT, writeLine, type CliIO } from '../io.js';

/** sysexits.h EX_CANTCREAT: the output file cannot be created. */
const EXIT_CANT_CREATE = 73;

/** Readable by the service group, not by everyone: the file may later hold site details. */
const FILE_MODE = 0o640;
const DIR_MODE = 0o750;

const USAGE = `usage: tonari init [FILE] [--force]

Writes a commented starter configuration (default ${DEFAULT_CONFIG_PATH}).
Without devices it runs a simulated household; the file shows how to add real ones.

  --force   replace the file if it exists`;

export async function initCommand(argv: string[], io: CliIO): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    writeLine(io.stderr, `tonari init: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  const { values, positionals } = args;
  if (values.help) {
    writeLine(io.stdout, USAGE);
    return EXIT.OK;
  }
  if (positionals.length > 1) {
    writeLine(io.stderr, `tonari init: give one file to write\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  const file = positionals[0] ?? DEFAULT_CONFIG_PATH;
  try {
    await writeFileAtomically(file, starterConfigText({ path: file }), { replace: values.force === true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    writeLine(io.stderr, code === 'EEXIST'
      ? `tonari init: ${file} already exists; use --force to replace it`
      : `tonari init: cannot write ${file}: ${(error as Error).message}`);
    return EXIT_CANT_CREATE;
  }
  writeLine(io.stdout, `wrote ${file}\nedit it, then run: tonari check ${file}`);
  return EXIT.OK;
}

/**
 * Writes to a temporary file in the same directory, syncs it, then moves it into place, so the
 * target is never half-written. Without `replace`, the move is a hard link, which fails with
 * EEXIST instead of racing with a file created meanwhile.
 */
async function writeFileAtomically(file: string, text: string, { replace }: { replace: boolean }): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  const temp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', FILE_MODE);
  try {
    await handle.writeFile(text);
    await handle.chmod(FILE_MODE); // the umask may have taken bits away
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (replace) await rename(temp, file);
    else await linkOrRenameIfAbsent(temp, file);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  await syncDirectory(dir);
}

async function linkOrRenameIfAbsent(temp: string, file: string): Promise<void> {
  try {
    await link(temp, file);
  } catch (error) {
    // Some file systems (FAT on a boot partition, some FUSE mounts) have no hard links.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw error;
    const exists = await access(file).then(() => true, () => false);
    if (exists) throw Object.assign(new Error(`${file} exists`), { code: 'EEXIST' });
    await rename(temp, file);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined); // not every file system can sync a directory
  await handle.close();
}
