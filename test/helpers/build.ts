/**
 * Builds dist/ (tsconfig.build.json) when it is older than the sources a test runs
 * compiled, under a lock shared by every suite so that parallel suites never run tsc
 * at once. tsc's exit status is not trusted on its own (it emits despite type errors
 * elsewhere in the tree): what counts is that the outputs are fresh afterwards.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD_LOCK = path.join(ROOT, 'dist', '.test-build.lock');

/** The first source under `dir` (recursively) whose compiled output is missing or older, or undefined. */
function staleIn(dir: string): string | undefined {
  for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = staleIn(rel);
      if (found !== undefined) return found;
      continue;
    }
    if (!entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
    const out = path.join(ROOT, 'dist', rel.replace(/\.ts$/, '.js'));
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(path.join(ROOT, rel)).mtimeMs) return rel;
  }
  return undefined;
}

function stale(sources: readonly string[]): string | undefined {
  for (const dir of sources) {
    const found = staleIn(dir);
    if (found !== undefined) return found;
  }
  return undefined;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Compiles when any source under `sources` (directories relative to the repository) is newer than its output. */
export function ensureDistFresh(sources: readonly string[]): void {
  if (stale(sources) === undefined) return;
  mkdirSync(path.dirname(BUILD_LOCK), { recursive: true });
  const deadline = Date.now() + 180_000;
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(BUILD_LOCK, 'wx');
    } catch {
      try {
        if (Date.now() - statSync(BUILD_LOCK).mtimeMs > 300_000) unlinkSync(BUILD_LOCK);
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for another build');
      sleepSync(500);
      if (stale(sources) === undefined) return;
    }
  }
  try {
    if (stale(sources) === undefined) return;
    const res = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    const still = stale(sources);
    if (still !== undefined) throw new Error(`build left ${still} stale (tsc ${res.status}): ${res.stdout}${res.stderr}`);
  } finally {
    closeSync(fd);
    unlinkSync(BUILD_LOCK);
  }
}
