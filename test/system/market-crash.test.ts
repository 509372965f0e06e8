/**
 * kill -9 a trading agent at random moments, over and over, while it places orders and
 * signs contracts with two neighbours (real `tonari run` processes on one accelerated
 * timeline). After every restart its ledger must verify, and at the end every contract a
 * neighbour holds with it must be backed by the victim's own durable commitment: the
 * `fill-signed` record it appended (fsynced) before it ever sent that signature.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { loadOrCreateIdentity, type AgentIdentity } from '../../agent/identity/key-store.js';
import { LEDGER_FILE, readLedgerFile } from '../../agent/ledger/index.js';
import { seededRandom } from '../../agent/market/community/households.js';
import { freePort } from '../app/helpers.js';
import { ensureDistFresh, ROOT } from '../helpers/build.js';

const BIN = path.join(ROOT, 'dist/agent/cli/bin.js');
const SPEED = 900; // a 30-minute slot lasts 2 s
const SIM_START = Date.parse('2026-06-21T09:00:00+09:00');
const SLOT_MS = 30 * 60_000;
const GATE_MS = 5 * 60_000;
const KILLS = Number(process.env.TONARI_CRASH_KILLS ?? 100);

// A hundred restarts take a few minutes: more than the suite's default per-file limit.
t.setTimeout(600_000);

t.test(`kill -9 a trading agent ${KILLS} times: its ledger verifies and backs every contract its neighbours hold`, async (t) => {
  ensureDistFresh(['agent', 'broker']);
  const base = mkdtempSync(path.join(tmpdir(), 'tn-crash-'));
  const children = new Set<ChildProcess>();
  t.teardown(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(base, { recursive: true, force: true });
  });
  const nodes: { dir: string; port: number; identity: AgentIdentity }[] = [];
  for (let i = 0; i < 3; i++) {
    const dir = path.join(base, `a${i}`);
    nodes.push({ dir, port: await freePort(), identity: await loadOrCreateIdentity(dir, { clock: systemClock, log: silentLogger() }) });
  }
  // a0 (the victim) sells, a1 and a2 buy.
  for (const [i, me] of nodes.entries()) {
    const others = nodes.filter((n) => n !== me);
    writeFileSync(path.join(me.dir, 'tonari.yaml'), [
      `stateDir: ${me.dir}`, 'household:', '  timezone: Asia/Tokyo', 'log:', `  level: ${process.env.TONARI_CRASH_LOGS ?? 'warn'}`,
      'poll:', '  interval: 30s', '  staleAfter: 2m',
      'simulator:', `  seed: ${i + 1}`, `  pvWp: ${i === 0 ? 6000 : 0}`, '  batteryWh: 0',
      // 20 s of digests and fetches would be 22 ms of real time at this speed: too short for a just-restarted agent.
      'market:', '  reconcile: 3m',
      'mesh:', '  listen:', '    host: 127.0.0.1', `    port: ${me.port}`, '  localPort: none', '  discovery: false',
      '  peers:', ...others.map((o) => `    - { host: 127.0.0.1, port: ${o.port}, fingerprint: ${o.identity.fingerprint} }`),
      'trust:', '  peers:', ...others.map((o) => `    - fingerprint: ${o.identity.fingerprint}`),
      'api:', '  listen:', '    port: 0', '',
    ].join('\n'));
  }
  const realStart = Date.now() + 2000;
  const start = (dir: string) => {
    const child = spawn(process.execPath, [BIN, 'run', '--config', path.join(dir, 'tonari.yaml'), '--speed', String(SPEED), '--sim-start', String(SIM_START), '--real-start', String(realStart)], { stdio: process.env.TONARI_CRASH_LOGS ? ['ignore', 'inherit', 'inherit'] : 'ignore' });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  const exited = (child: ChildProcess) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const stable = [start(nodes[1]!.dir), start(nodes[2]!.dir)];
  const [victim] = nodes as [typeof nodes[0]];
  const random = seededRandom(42);
  let unverified = 0;
  /** Real instant of the first gate closure at least `leadMs` of real time from now. */
  const nextGate = (leadMs: number): number => {
    const simAt = (real: number) => SIM_START + (real - realStart) * SPEED;
    const earliest = simAt(Date.now() + leadMs);
    const slot = Math.ceil((earliest + GATE_MS) / SLOT_MS) * SLOT_MS;
    return realStart + (slot - GATE_MS - SIM_START) / SPEED;
  };
  for (let kill = 0; kill < KILLS; kill++) {
    const child = start(victim.dir);
    // Killed around a gate closure: while it clears, appends its signed fills, sends them and records contracts.
    const at = nextGate(1200) - 100 + Math.floor(random() * 500);
    await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
    child.kill('SIGKILL');
    await exited(child);
    // The ledger as a restart will find it: a torn tail (exit 2) is cut off then; anything else is damage.
    const verify = spawnSync(process.execPath, [BIN, 'ledger', 'verify', '--state-dir', victim.dir], { encoding: 'utf8' });
    if (verify.status !== 0 && verify.status !== 2 && verify.status !== 66) {
      unverified++;
      t.fail(`after kill ${kill + 1}: ${verify.stdout}${verify.stderr}`);
    }
  }
  t.equal(unverified, 0, `the victim's ledger verified after each of ${KILLS} kills`);
  // A last clean run over a few gates, then everyone stops.
  const last = start(victim.dir);
  await new Promise((r) => setTimeout(r, 5000));
  for (const child of [last, ...stable]) child.kill('SIGTERM');
  await Promise.all([last, ...stable].map(exited));

  const verify = spawnSync(process.execPath, [BIN, 'ledger', 'verify', '--state-dir', victim.dir], { encoding: 'utf8' });
  t.equal(verify.status, 0, `final verify: ${verify.stdout}${verify.stderr}`);
  const victimRecords = (await readLedgerFile(path.join(victim.dir, LEDGER_FILE))).records;
  const committed = new Set<string>();
  for (const record of victimRecords.filter((r) => r.kind === 'fill-signed')) {
    for (const entry of (record.body.signed as { fill: unknown }[])) committed.add(JSON.stringify(entry.fill));
  }
  let held = 0;
  for (const other of nodes.slice(1)) {
    for (const record of (await readLedgerFile(path.join(other.dir, LEDGER_FILE))).records.filter((r) => r.kind === 'contract')) {
      const fill = record.body.fill as { seller: string; buyer: string };
      if (fill.seller !== victim.identity.peerId && fill.buyer !== victim.identity.peerId) continue;
      held++;
      if (!committed.has(JSON.stringify(record.body.fill))) t.fail(`a neighbour holds ${record.key} but the victim never recorded signing it`);
    }
  }
  t.ok(held > 0, `the neighbours hold ${held} contracts with the victim, each backed by its fill-signed record`);
  const slots = victimRecords.filter((r) => r.kind === 'fill-signed').map((r) => r.key);
  t.equal(new Set(slots).size, slots.length, 'never two commitments for one slot');
});
