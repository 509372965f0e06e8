import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { realFs, removeStrayTemps, writeFileAtomic, type AtomicFs } from '../../agent/identity/atomic-file.js';

class Crash extends Error {}

/**
 * A file system that "loses power" at the n-th step of a write: the operation throws and
 * every later one throws too, as if the process had died there.
 */
function crashingFs(crashAt: number): { fs: AtomicFs; steps: string[] } {
  const steps: string[] = [];
  let count = 0;
  let dead = false;
  const step = (name: string) => {
    if (dead || ++count === crashAt) {
      dead = true;
      throw new Crash(name);
    }
    steps.push(name);
  };
  const fs: AtomicFs = {
    open: (async (path: string, flags?: string, mode?: number) => {
      step(`open ${flags}`);
      const handle = await realFs.open(path, flags, mode);
      const wrapped = Object.create(handle) as typeof handle;
      for (const method of ['writeFile', 'chmod', 'sync'] as const) {
        (wrapped as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
          step(method);
          return (handle[method] as (...a: unknown[]) => Promise<unknown>).apply(handle, args);
        };
      }
      wrapped.close = () => handle.close(); // closing always happens, even in a dying process
      return wrapped;
    }) as AtomicFs['open'],
    rename: async (from, to) => { step('rename'); return realFs.rename(from, to); },
    link: async (from, to) => { step('link'); return realFs.link(from, to); },
    unlink: async (path) => { step('unlink'); return realFs.unlink(path); },
    readdir: realFs.readdir,
  };
  return { fs, steps };
}

t.test('a crash at any step leaves the old file or the new one, never a torn one', async (t) => {
  const OLD = 'old contents\n';
  const NEW = `${'new contents '.repeat(1000)}\n`;
  const full = crashingFs(Number.POSITIVE_INFINITY);
  const probeDir = t.testdir({ 'f.json': OLD });
  await writeFileAtomic(join(probeDir, 'f.json'), NEW, { mode: 0o600, fs: full.fs });
  t.same(full.steps, ['open wx', 'writeFile', 'chmod', 'sync', 'rename', 'unlink', 'open r', 'sync']);

  for (let crashAt = 1; crashAt <= full.steps.length; crashAt++) {
    const dir = t.testdir({ 'f.json': OLD });
    const file = join(dir, 'f.json');
    const { fs } = crashingFs(crashAt);
    await writeFileAtomic(file, NEW, { mode: 0o600, fs }).catch((error: unknown) => {
      if (!(error instanceof Crash)) throw error;
    });
    const content = await readFile(file, 'utf8');
    t.ok(content === OLD || content === NEW, `crash at step ${crashAt} (${full.steps[crashAt - 1]}): old or new`);
    // The next start cleans what the crash left behind.
    await removeStrayTemps(file);
    t.same(await readdir(dir), ['f.json'], `crash at step ${crashAt}: no stray files after cleanup`);
  }
});

t.test('exclusive writes never replace an existing file', async (t) => {
  const dir = t.testdir({ 'k': 'mine' });
  await t.rejects(writeFileAtomic(join(dir, 'k'), 'theirs', { mode: 0o600, exclusive: true }), { code: 'EEXIST' });
  t.equal(await readFile(join(dir, 'k'), 'utf8'), 'mine');
  t.same(await readdir(dir), ['k']);
  await writeFileAtomic(join(dir, 'new'), 'x', { mode: 0o600, exclusive: true });
  t.equal(await readFile(join(dir, 'new'), 'utf8'), 'x');
});

t.test('the mode is applied despite the umask', async (t) => {
  const dir = t.testdir();
  const old = process.umask(0o077);
  try {
    await writeFileAtomic(join(dir, 'pub'), 'x', { mode: 0o644 });
  } finally {
    process.umask(old);
  }
  t.equal((await stat(join(dir, 'pub'))).mode & 0o777, 0o644);
});

t.test('removeStrayTemps removes only temporaries of that file', async (t) => {
  const dir = t.testdir({ 'a.json': '1', '.a.json.123.tmp': '', '.b.json.123.tmp': '', '.a.json.keep': '' });
  t.same(await removeStrayTemps(join(dir, 'a.json')), ['.a.json.123.tmp']);
  t.same((await readdir(dir)).sort(), ['.a.json.keep', '.b.json.123.tmp', 'a.json']);
});
