/**
 * The market inside the agent over real sockets: three agents started through
 * startNeighbours (embedded brokers on 127.0.0.1, static peers, allow-lists) and
 * startMarket on one manual clock. Orders go over the mesh, every agent clears the
 * same book, contracts are countersigned into both ledgers, and after the slot the
 * meter readings (from the household's grid registers) settle them.
 */
import { join } from 'node:path';
import t from 'tap';
import { startMarket, type RunningMarket } from '../../agent/app/market.js';
import { startNeighbours, type RunningNeighbours } from '../../agent/app/neighbours.js';
import { defaultConfig } from '../../agent/config/index.js';
import { ManualClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import type { HouseholdState } from '../../agent/household/state.js';
import { LEDGER_FILE, readLedgerFile, verifyLedgerFile } from '../../agent/ledger/index.js';
import { PassThrough } from 'node:stream';
import { tradesCommand } from '../../agent/cli/commands/trades.js';
import { eventually, makeNodes, nodeConfig, removeNodes, type Node } from './helpers.js';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => { out += c.toString(); });
  stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const code = await tradesCommand(argv, { stdout, stderr, isTTY: false });
  return { code, out, err };
}

const SLOT_MS = 30 * 60_000;
const SLOT = Date.UTC(2026, 5, 21, 3, 0, 0); // 12:00 in Tokyo

function state(at: number, importWh: number, exportWh: number): HouseholdState {
  const r = (value: number) => ({ value, at, quality: 'ok' as const });
  return { at, pvW: r(3000), loadW: r(500), gridW: r(-2500), batteryW: r(0), socPct: r(50), gridImportWh: r(importWh), gridExportWh: r(exportWh), pvWh: r(0) };
}

t.test('three agents trade over the mesh: contracts in both ledgers, settled after the slot', async (t) => {
  const clock = new ManualClock(SLOT - 10 * 60_000);
  const nodes = await makeNodes(['a', 'b', 'c']);
  const running: { n: RunningNeighbours; m: RunningMarket; node: Node }[] = [];
  t.teardown(async () => {
    for (const r of running) {
      await r.m.stop();
      await r.n.stop();
    }
    removeNodes(nodes);
  });
  for (const me of nodes) {
    const others = nodes.filter((n) => n !== me);
    const base = nodeConfig(me, { staticPeers: others, trusted: others });
    const n = await startNeighbours(base, { clock, log: silentLogger(), linkOptions: { keepaliveSeconds: 1, backoff: { initialMs: 100, maxMs: 500 } } });
    const config = { ...defaultConfig(), stateDir: me.stateDir, household: { ...defaultConfig().household, zone: 'default' }, mesh: base.mesh, trust: base.trust };
    // Orders are placed by hand here: no re-planning from the forecast.
    const m = await startMarket(config, { clock, log: silentLogger(), identity: n.identity, mesh: n.mesh, replanMs: 1e12, tickMs: 1000 });
    running.push({ n, m, node: me });
  }
  // Links that found a neighbour's broker not yet listening retry on the (manual) clock's backoff timers.
  t.ok(await eventually(async () => {
    await clock.advance(100);
    return running.every((r) => r.n.mesh.peers().filter((p) => p.state === 'connected').length === 2);
  }, 15_000), 'full mesh');
  const [a, b, c] = running as [typeof running[0], typeof running[0], typeof running[0]];
  const order = (side: 'sell' | 'buy', energyWh: number, limitSenPerKWh: number) => ({ side, energyWh, limitSenPerKWh, feeSenPerKWh: 0, zone: 'default' });
  await a.m.session!.placeOrder(SLOT, order('sell', 2000, 1000));
  await b.m.session!.placeOrder(SLOT, order('buy', 1500, 2500));
  await c.m.session!.placeOrder(SLOT, order('buy', 1000, 2000));
  t.ok(await eventually(() => running.every((r) => r.m.session!.orderSet(SLOT).length === 3), 10_000), 'every agent holds all three orders');

  // Registers: a exports 2 kWh during the slot, b and c import 1.5 and 1 kWh.
  const feed = (at: number) => {
    const f = Math.min(1, Math.max(0, (at - SLOT) / SLOT_MS));
    a.m.onState(state(at, 100, 10_000 + 2000 * f));
    b.m.onState(state(at, 20_000 + 1500 * f, 0));
    c.m.onState(state(at, 30_000 + 1000 * f, 0));
  };
  /** Moves the shared clock a second at a time, letting real sockets carry what each step sends. */
  let fedMinute = 0;
  const runUntil = async (until: number, done: () => boolean) => {
    while (clock.now() < until && !done()) {
      await clock.advance(1000);
      const minute = Math.floor(clock.now() / 60_000);
      if (minute !== fedMinute) {
        fedMinute = minute;
        feed(clock.now());
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  await runUntil(SLOT, () => false);
  t.ok(await eventually(() => a.m.session!.contracts().length === 2 && b.m.session!.contracts().length === 1 && c.m.session!.contracts().length === 1, 10_000), 'contracts countersigned');
  t.equal(JSON.stringify(a.m.session!.result(SLOT)), JSON.stringify(b.m.session!.result(SLOT)), 'identical clearing');

  await runUntil(SLOT + SLOT_MS + 3 * 60_000, () => false);
  const settled = async (file: string) => (await readLedgerFile(file)).records.filter((r) => r.kind === 'settlement' || r.kind === 'dispute');
  const ledgerOf = (r: typeof a) => join(r.node.stateDir, LEDGER_FILE);
  t.ok(await eventually(async () => (await settled(ledgerOf(a))).length === 2 && (await settled(ledgerOf(b))).length === 1, 10_000), 'settlements recorded');
  const records = await settled(ledgerOf(a));
  t.same(records.map((r) => [r.kind, r.body.deliveredWh]).sort(), [['settlement', 500], ['settlement', 1500]].sort(), 'delivered as contracted');
  for (const r of running) {
    const report = await verifyLedgerFile(ledgerOf(r), { signatures: 'all' });
    t.notOk(report.damaged, `${r.node.name}'s ledger verifies`);
  }

  const trades = await cli(['--state-dir', b.node.stateDir, '--json']);
  t.equal(trades.code, 0, trades.err);
  const rows = JSON.parse(trades.out) as { side: string; counterparty: string; energyWh: number; status: string; deliveredWh: number; amountMillisen: number; priceSenPerKWh: number }[];
  t.equal(rows.length, 1, 'tonari trades lists b\'s one contract');
  t.match(rows[0], { side: 'buy', counterparty: a.n.identity.peerId, energyWh: 1500, status: 'settled', deliveredWh: 1500 });
  t.equal(rows[0]!.amountMillisen, -1500 * rows[0]!.priceSenPerKWh, 'b paid delivered × price');
  const table = await cli(['--state-dir', a.node.stateDir]);
  t.match(table.out, /SLOT \(UTC\)\s+SIDE/);
  t.equal(table.out.trim().split('\n').length, 3, 'a header and a\'s two contracts');
  t.equal((await cli(['--state-dir', join(a.node.stateDir, 'nowhere')])).code, 66, 'no ledger: exit 66');
});

t.test('the agent orders from its forecast and withdraws what stale data no longer back', async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 5, 21, 1, 0, 0)); // 10:00 in Tokyo, sunny
  const [me] = await makeNodes(['solo']) as [Node];
  const base = nodeConfig(me, { staticPeers: [], trusted: [] });
  const n = await startNeighbours(base, { clock, log: silentLogger() });
  const config = { ...defaultConfig(), stateDir: me.stateDir, mesh: base.mesh, trust: base.trust };
  const m = await startMarket(config, { clock, log: silentLogger(), identity: n.identity, mesh: n.mesh, replanMs: 60_000, tickMs: 1000, equipment: { pvPeakW: 6000, batteryWh: 0 } });
  t.teardown(async () => { await m.stop(); await n.stop(); removeNodes([me]); });
  const reading = (value: number, at: number, quality: 'ok' | 'stale') => ({ value, at, quality });
  const sunny = (at: number, quality: 'ok' | 'stale', measuredAt = at): HouseholdState => ({
    at, pvW: reading(5000, measuredAt, quality), loadW: reading(400, measuredAt, quality), gridW: reading(-4600, measuredAt, quality),
    batteryW: reading(0, measuredAt, quality), socPct: reading(0, measuredAt, quality), gridImportWh: reading(0, measuredAt, quality),
    gridExportWh: reading(0, measuredAt, quality), pvWh: reading(0, measuredAt, quality),
  });
  /** A simulated minute at a time (fed with `feed`), with real time between for the re-planning and its ledger writes, until `done`. */
  const until = (feed: (at: number) => HouseholdState, done: () => boolean) => eventually(async () => {
    await clock.advance(60_000);
    m.onState(feed(clock.now()));
    await new Promise((r) => setTimeout(r, 20));
    return done();
  }, 10_000);
  const SLOT_1030 = Date.UTC(2026, 5, 21, 1, 30, 0);
  t.ok(await until((at) => sunny(at, 'ok'), () => m.session!.orderSet(SLOT_1030).length === 1), 'an order for the next open slot');
  const next = m.session!.orderSet(SLOT_1030);
  t.equal(next[0]?.side, 'sell', 'selling the midday surplus');
  const lastGood = clock.now();
  t.ok(await until((at) => sunny(at, 'stale', lastGood), () => m.session!.orderSet(SLOT_1030).length === 0), 'withdrawn once the data went stale');
  t.ok(clock.now() < SLOT_1030 - 5 * 60_000, 'before the gate closed');
  t.equal(m.session!.ownOrder(SLOT_1030)?.order.energyWh, 0, 'by a cancellation (energy 0)');
});
