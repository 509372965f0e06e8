/**
 * Five real `tonari run` processes on loopback trade on one accelerated timeline
 * (--speed with a shared --sim-start/--real-start): three simulated households with
 * PV sell at midday, two without PV buy. Orders, clearing, countersigned contracts and
 * settlement all happen between the processes over their embedded brokers. Afterwards
 * every contract is in both parties' ledgers with identical bytes, and every ledger
 * passes `tonari ledger verify`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { silentLogger } from '../../agent/core/log.js';
import { systemClock } from '../../agent/core/clock.js';
import { loadOrCreateIdentity, type AgentIdentity } from '../../agent/identity/key-store.js';
import { LEDGER_FILE, readLedgerFile, type LedgerRecord } from '../../agent/ledger/index.js';
import { freePort } from '../app/helpers.js';
import { ensureDistFresh, ROOT } from '../helpers/build.js';

const BIN = path.join(ROOT, 'dist/agent/cli/bin.js');
const SPEED = 180; // a 30-minute slot lasts 10 s
const SIM_START = Date.parse('2026-06-21T10:00:00+09:00');
const SIM_END = Date.parse('2026-06-21T11:45:00+09:00'); // slots 10:30 and 11:00 traded, settled by 11:31 and 12:01… the first at least
const SELLERS = 3;
const AGENTS = 5;

interface Proc { child: ChildProcess; out: string; err: string }

t.test('five agents trade as real processes and their ledgers agree contract by contract', async (t) => {
  ensureDistFresh(['agent', 'broker']);
  const base = mkdtempSync(path.join(tmpdir(), 'tn-trade-'));
  const procs: Proc[] = [];
  t.teardown(() => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    rmSync(base, { recursive: true, force: true });
  });

  const nodes: { dir: string; port: number; identity: AgentIdentity }[] = [];
  for (let i = 0; i < AGENTS; i++) {
    const dir = path.join(base, `a${i}`);
    nodes.push({ dir, port: await freePort(), identity: await loadOrCreateIdentity(dir, { clock: systemClock, log: silentLogger() }) });
  }
  for (const [i, me] of nodes.entries()) {
    const others = nodes.filter((n) => n !== me);
    const seller = i < SELLERS;
    writeFileSync(path.join(me.dir, 'tonari.yaml'), [
      `stateDir: ${me.dir}`,
      'household:', '  timezone: Asia/Tokyo', '  zone: default',
      'log:', '  level: info',
      'poll:', '  interval: 10s', '  staleAfter: 1m',
      'simulator:', `  seed: ${i + 1}`, `  pvWp: ${seller ? 6000 : 0}`, '  batteryWh: 0',
      'mesh:', '  listen:', '    host: 127.0.0.1', `    port: ${me.port}`, '  localPort: none', '  discovery: false',
      '  peers:', ...others.map((o) => `    - { host: 127.0.0.1, port: ${o.port}, fingerprint: ${o.identity.fingerprint} }`),
      'trust:', '  peers:', ...others.map((o) => `    - fingerprint: ${o.identity.fingerprint}`),
      // Several agents on one machine: each API on a free port (the default 7464 is one).
      'api:', '  listen:', '    port: 0',
      '',
    ].join('\n'));
  }
  const realStart = Date.now() + 3000;
  for (const me of nodes) {
    const child = spawn(process.execPath, [BIN, 'run', '--config', path.join(me.dir, 'tonari.yaml'), '--speed', String(SPEED), '--sim-start', String(SIM_START), '--real-start', String(realStart)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const proc: Proc = { child, out: '', err: '' };
    child.stdout!.on('data', (c: Buffer) => { proc.out = (proc.out + c.toString()).slice(-400_000); });
    child.stderr!.on('data', (c: Buffer) => { proc.err = (proc.err + c.toString()).slice(-20_000); });
    procs.push(proc);
  }
  const realEnd = realStart + (SIM_END - SIM_START) / SPEED;
  while (Date.now() < realEnd && procs.every((p) => p.child.exitCode === null)) await new Promise((r) => setTimeout(r, 250));
  t.ok(procs.every((p) => p.child.exitCode === null), `every agent ran to the end ${procs.map((p) => p.err).join('')}`);
  await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
    if (p.child.exitCode !== null) return resolve();
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
    p.child.once('exit', () => { clearTimeout(timer); resolve(); });
    p.child.kill('SIGTERM');
  })));
  t.same(procs.map((p) => p.child.exitCode), procs.map(() => 0), 'every agent stopped cleanly on SIGTERM');

  const ledgers = new Map<string, LedgerRecord[]>();
  for (const me of nodes) ledgers.set(me.identity.peerId, (await readLedgerFile(path.join(me.dir, LEDGER_FILE))).records);
  const contracts = [...ledgers.values()].flat().filter((r) => r.kind === 'contract');
  t.ok(contracts.length >= 2, `contracts were made (${contracts.length} records)`);
  for (const [owner, records] of ledgers) {
    for (const record of records.filter((r) => r.kind === 'contract')) {
      const fill = record.body.fill as { seller: string; buyer: string; energyWh: number };
      const other = fill.seller === owner ? fill.buyer : fill.seller;
      const theirs = ledgers.get(other)?.find((r) => r.key === record.key);
      t.ok(theirs, `${record.key.slice(0, 20)}… is in the counterparty's ledger too`);
      t.equal(JSON.stringify(theirs?.body), JSON.stringify(record.body), 'with the same fill and signatures');
    }
    // No agent committed beyond its orders: per slot, its contracts sum to at most its last order before the gate.
    const orders = records.filter((r) => r.kind === 'order').map((r) => (r.body as { order: { slot: number; energyWh: number; rev: number } }).order);
    const bySlot = new Map<number, number>();
    for (const record of records.filter((r) => r.kind === 'contract')) {
      const fill = record.body.fill as { slot: number; energyWh: number };
      bySlot.set(fill.slot, (bySlot.get(fill.slot) ?? 0) + fill.energyWh);
    }
    for (const [slot, committed] of bySlot) {
      const last = orders.filter((o) => o.slot === slot).sort((a, b) => b.rev - a.rev)[0];
      t.ok(last && committed <= last.energyWh, `committed ${committed} Wh within the order of ${last?.energyWh} Wh`);
    }
  }
  const settled = [...ledgers.values()].flat().filter((r) => r.kind === 'settlement' || r.kind === 'dispute');
  t.ok(settled.length >= 1, `contracts were settled (${settled.length} records)`);
  for (const me of nodes) {
    const verify = spawnSync(process.execPath, [BIN, 'ledger', 'verify', '--state-dir', me.dir], { encoding: 'utf8' });
    t.equal(verify.status, 0, `tonari ledger verify: ${verify.stdout}${verify.stderr}`);
  }
});
