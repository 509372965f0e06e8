import t from 'tap';
import { agentFigures, DAY_MS, headline, mb, table } from './sdcard-figures.js';

const half = {
  name: 'a', simMs: DAY_MS / 2, blockBytes: 1_000_000, deviceBytes: undefined, wcharBytes: 5_000_000, ledgerBytes: 40_000, ledgerRecords: 100,
  rewrites: { 'history.json': 48, 'replay.json': 10 }, sizes: { 'history.json': 2_000, 'replay.json': 500 }, logBytes: 300_000, logLines: 1_000,
};

t.test('half a day measured is doubled to a day', async (t) => {
  const f = agentFigures(half);
  t.same(f, {
    name: 'a', stateBytesPerDay: 2_000_000, pageBytesPerDay: 2_000_000, deviceBytesPerDay: undefined, ledgerBytesPerDay: 80_000, ledgerRecordsPerDay: 200,
    rewritesPerDay: { 'history.json': 96, 'replay.json': 20 }, rewriteBytesPerDay: 2 * (48 * 2_000 + 10 * 500),
    fsyncsPerDay: 2 * (100 + 2 * 58), logBytesPerDay: 600_000, logLinesPerDay: 2_000,
  });
});

t.test('the headline is the worst agent of each figure', async (t) => {
  const a = agentFigures(half);
  const b = agentFigures({ ...half, name: 'b', blockBytes: 3_000_000, logBytes: 100 });
  const h = headline([a, b], { agents: 2, speed: 720, simHours: 12 });
  t.equal(h.bytesPerDay, 6_000_000);
  t.equal(h.deviceMeasured, false);
  const c = agentFigures({ ...half, deviceBytes: 4_000_000 });
  t.equal(c.stateBytesPerDay, 8_000_000, 'the device figure wins when measured');
  t.equal(c.pageBytesPerDay, 2_000_000);
  t.equal(h.logBytesPerDay, 600_000);
  t.match(table([a, b]), /history\.json 96, replay\.json 20/);
  t.equal(mb(2_345_678), '2.3 MB');
  t.equal(mb(45_600), '46 kB');
  t.equal(mb(512), '512 B');
});
