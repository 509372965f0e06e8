/**
 * Crash test (security.md LOG-2): a child process appends contracts in a loop and says
 * "ack <key>" after each append resolves; it is killed with SIGKILL at a random moment, 100+
 * times, mostly while it writes and sometimes while it starts or opens the ledger. After
 * each kill the ledger must verify (at most a torn tail, which the next start cuts off) and
 * hold every key ever acknowledged; each restart must open it healthy. At the end the whole
 * file is verified with every signature: keys contract:1..N exactly once, in order, so the
 * re-deliveries each restart makes never created a second record.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { KEY_FILE, parseKeyPem } from '../../agent/identity/key-store.js';
import { peerIdOf, rawPublicKey } from '../../agent/identity/peer-id.js';
import { LEDGER_FILE, verifyLedgerFile } from '../../agent/ledger/ledger.js';
import { ensureBuilt, root } from './helpers.js';

const ITERATIONS = Number(process.env.TONARI_CRASH_ITERATIONS ?? 120);
const writer = join(root, 'test/ledger/fixtures/crash-writer.mjs');
const dist = join(root, 'dist');
const COUNTERPART_SEED = '07'.repeat(32);

interface Run {
  acked: string[];
  opened: string | undefined;
  stderr: string;
  signal: NodeJS.Signals | null;
  code: number | null;
}

/** Starts the writer; kills it `killAfterMs` after it opened the ledger, or `killEarlyMs` after spawn. */
function runWriter(stateDir: string, mode: 'write' | 'check', kill: { afterOpenMs?: number; afterSpawnMs?: number }): Promise<Run> {
  // Without tap's NODE_OPTIONS (coverage hooks): a plain node, as in production.
  const env = { ...process.env, NODE_OPTIONS: '' };
  const child = spawn(process.execPath, [writer, dist, stateDir, COUNTERPART_SEED, mode], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let stderr = '';
  let timer: NodeJS.Timeout | undefined;
  const killNow = (): void => { child.kill('SIGKILL'); };
  if (kill.afterSpawnMs !== undefined) timer = setTimeout(killNow, kill.afterSpawnMs);
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const wasOpen = out.includes('open ');
    out += chunk;
    if (!wasOpen && out.includes('open ') && kill.afterOpenMs !== undefined) timer = setTimeout(killNow, kill.afterOpenMs);
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => { stderr += chunk; });
  // A writer that hangs must not hang the test.
  const guard = setTimeout(killNow, 20_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(guard);
      const lines = out.split('\n');
      // Only whole lines: a line the kill cut short was not acknowledged.
      if (!out.endsWith('\n')) lines.pop();
      const acked = lines.filter((l) => l.startsWith('ack ')).map((l) => l.split(' ')[1]!);
      resolve({ acked, opened: lines.find((l) => l.startsWith('open ')), stderr, signal, code });
    });
  });
}

t.before(ensureBuilt);

t.test(`kill -9 while writing contracts, ${ITERATIONS} times: every acknowledged record survives and the ledger verifies`, async (t) => {
  const stateDir = t.testdir();
  const file = join(stateDir, LEDGER_FILE);
  const acknowledged = new Set<string>();
  let signer: string | undefined;
  let killedWhileWriting = 0;
  let killedEarly = 0;
  let tornTails = 0;
  let failures = 0;
  const fail = (message: string): void => {
    failures++;
    if (failures <= 10) t.fail(message);
  };
  const started = Date.now();

  for (let i = 0; i < ITERATIONS; i++) {
    // Mostly while appending (0–40 ms after open); one in eight during start-up or open.
    const early = i % 8 === 5;
    const run = await runWriter(stateDir, 'write', early ? { afterSpawnMs: 40 + Math.random() * 150 } : { afterOpenMs: Math.random() * 40 });
    if (run.signal !== 'SIGKILL') fail(`run ${i}: writer ended by itself (code ${run.code}): ${run.stderr}`);
    if (run.opened !== undefined && !/^open \d+ healthy$/.test(run.opened)) fail(`run ${i}: ${run.opened}`);
    if (run.acked.length > 0) killedWhileWriting++;
    else killedEarly++;
    for (const key of run.acked) acknowledged.add(key);
    if (/torn tail/.test(run.stderr)) tornTails++;

    const keys = new Set<string>();
    const report = await verifyLedgerFile(file, { signatures: 'tail', ...(signer ? { signer } : {}), onRecord: (record) => keys.add(record.key) }).catch((error: unknown) => {
      // A kill before the first start created the file.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && acknowledged.size === 0) return undefined;
      throw error;
    });
    if (!report) continue;
    signer ??= report.signer;
    if (report.damaged) fail(`run ${i}: ledger damaged: ${JSON.stringify(report.faults.slice(0, 3))}`);
    if (report.tornTail) tornTails++;
    const missing = [...acknowledged].filter((k) => !keys.has(k));
    if (missing.length > 0) fail(`run ${i}: acknowledged but missing: ${missing.slice(0, 5).join(', ')}`);
  }

  // A last start that only opens: healthy, and the whole file verifies with every signature.
  const last = await runWriter(stateDir, 'check', {});
  t.match(last.opened, /^open \d+ healthy$/, 'the last restart opens a healthy ledger');
  t.equal(last.code, 0, last.stderr);
  const keys: string[] = [];
  const report = await verifyLedgerFile(file, { signatures: 'all', onRecord: (record) => keys.push(record.key) });
  t.same(report.faults, [], 'the ledger verifies: chain, own and counterpart signatures');
  const owner = peerIdOf(rawPublicKey(parseKeyPem(await readFile(join(stateDir, KEY_FILE), 'utf8'), KEY_FILE)));
  t.equal(report.signer, owner, 'every record signed by the agent\'s identity key');
  t.same(keys, keys.map((_, i) => `contract:${i + 1}`), 'contract:1..N, each once, in order: re-deliveries added nothing');
  const missing = [...acknowledged].filter((k) => !keys.includes(k));
  t.same(missing, [], 'every acknowledged contract is there');
  t.equal(failures, 0, 'no failure in any iteration');
  t.ok(killedWhileWriting >= ITERATIONS / 2, `${killedWhileWriting} kills while writing, ${killedEarly} during start-up; ${acknowledged.size} contracts acknowledged; ${keys.length} records; ${tornTails} torn tails; ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
