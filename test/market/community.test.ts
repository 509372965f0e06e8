/**
 * The community simulation (`tonari simulate --households N`): a small community on real
 * ledgers trades, reaches the central optimum without loss, saves money, conserves
 * energy, reproduces its report from the seed, and stays consistent under message loss.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { simulateCommand } from '../../agent/cli/commands/simulate.js';
import { verifyLedgerFile } from '../../agent/ledger/index.js';
import { communityReport, deterministicPart } from '../../agent/market/community/report.js';
import { runCommunity } from '../../agent/market/community/runner.js';
import { makeHouseholds, slotEnergy } from '../../agent/market/community/households.js';

const stable = (r: ReturnType<typeof communityReport>) => JSON.stringify(deterministicPart(r));

t.test('six households for a day: contracts, full welfare, savings, conservation, verified ledgers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tn-community-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = await runCommunity({ households: 6, days: 1, seed: 1, stateDir: dir });
  const r = communityReport(run);
  t.equal(r.slots, 48);
  t.ok(r.contracts > 0, `${r.contracts} contracts`);
  t.equal(r.oneSidedContracts, 0, 'both sides hold every contract');
  t.equal(r.mismatches, 0);
  t.equal(r.welfareRatio, 1, 'without loss every peer clears the central optimum');
  t.ok(r.savingsYen > 0, `the community saves ${r.savingsYen} 円`);
  t.ok(r.tradedWh > 0 && r.tradedWh <= r.exportedWh, 'traded energy <= exported');
  t.ok(r.tradedWh <= r.contractedWh, 'delivered <= contracted');
  t.ok(r.utilityImportWh === r.importedWh - r.tradedWh, 'utility import = grid import − energy bought locally');
  t.ok(r.selfSufficiency > r.baselineSelfSufficiency, `self-sufficiency ${r.selfSufficiency} > ${r.baselineSelfSufficiency}`);
  t.ok(r.peakImportRatio <= 1);
  t.ok(r.messagesPerContract > 0);
  t.equal(r.perHousehold.length, 6);
  t.ok(Math.abs(r.perHousehold.reduce((s, h) => s + h.savingsYen, 0) - r.savingsYen) <= 0.01 * 6, 'household savings add up (to rounding)');
  const files = readdirSync(dir);
  t.equal(files.length, 6, 'one ledger per household');
  for (const f of files) t.notOk((await verifyLedgerFile(join(dir, f), { signatures: 'all' })).damaged, `${f} verifies`);
});

t.test('the same seed gives the same report, another seed another', async (t) => {
  const a = communityReport(await runCommunity({ households: 4, days: 1, seed: 7, ledger: 'nosync' }));
  const b = communityReport(await runCommunity({ households: 4, days: 1, seed: 7, ledger: 'memory' }));
  const c = communityReport(await runCommunity({ households: 4, days: 1, seed: 8, ledger: 'nosync' }));
  t.equal(stable(a), stable(b), 'identical apart from timing (and independent of the ledger mode)');
  t.not(stable(a), stable(c));
});

t.test('with 5 % message loss welfare never exceeds the optimum and every ledger verifies', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tn-community-loss-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = communityReport(await runCommunity({ households: 6, days: 1, seed: 3, loss: 0.05, stateDir: dir }));
  t.ok(r.lost > 0, `${r.lost} deliveries lost`);
  t.ok(r.welfareRatio <= 1, `welfare ratio ${r.welfareRatio}`);
  t.ok(r.contracts > 0);
  t.ok(r.tradedWh <= r.exportedWh);
  for (const f of readdirSync(dir)) t.notOk((await verifyLedgerFile(join(dir, f), { signatures: 'all' })).damaged, `${f} verifies`);
});

t.test('households and weather are drawn from the seed within their ranges', async (t) => {
  const hs = makeHouseholds(200, 5);
  t.same(hs, makeHouseholds(200, 5));
  for (const h of hs) {
    t.ok(h.pvPeakW === 0 || (h.pvPeakW >= 3000 && h.pvPeakW <= 6000));
    t.ok(h.dailyLoadWh >= 8000 && h.dailyLoadWh <= 14_000);
    if (h.battery) t.ok(h.pvPeakW > 0 && h.battery.capacityWh >= 5000 && h.battery.capacityWh <= 10_000);
  }
  t.ok(hs.some((h) => h.pvPeakW === 0) && hs.some((h) => h.battery), 'consumers and batteries both occur');
  const spec = { seed: 5, households: hs.slice(0, 3), timeZone: 'Asia/Tokyo', latitudeDeg: 35.7 };
  const night = slotEnergy(spec, Date.UTC(2026, 4, 1, 15, 0), 30, 0); // 00:00 JST
  t.same(night.pvWh, [0, 0, 0], 'no PV at midnight');
  t.ok(night.loadWh.every((x) => x > 0));
});

t.test('tonari simulate --households prints one JSON object', async (t) => {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write(chunk, _enc, cb) { f(String(chunk)); cb(); } });
  const io = { stdout: sink((s) => { out += s; }), stderr: sink((s) => { err += s; }), isTTY: false };
  const code = await simulateCommand(['--households', '3', '--days', '1', '--seed', '2', '--json', '--ledger', 'nosync'], io);
  t.equal(code, 0, err);
  const r = JSON.parse(out) as Record<string, unknown>;
  for (const key of ['households', 'days', 'contracts', 'tradedWh', 'selfSufficiency', 'baselineSelfSufficiency', 'savingsYen', 'savingsPercent', 'peakImportRatio', 'welfareRatio', 'messagesPerContract']) {
    t.ok(key in r, key);
  }
  t.equal(r.households, 3);
  t.equal(await simulateCommand(['--households', '1'], io), 64, 'one household is not a community');
  t.equal(await simulateCommand(['--households', '3', '--loss', '2'], io), 64);
});
