/**
 * What the demo launcher makes of its agents' log lines (pure): agents up,
 * dashboards, links and the mesh, contracts counted once although both parties
 * log them, settlements, errors, exits; and the words it prints.
 */
import t from 'tap';
import { demoHouseholds } from '../../agent/app/community-demo/households.js';
import { readableLogLine } from '../../agent/app/community-demo/launcher.js';
import { CommunityMonitor, type DemoEvent } from '../../agent/app/community-demo/monitor.js';
import { eventText, statusText, summaryLines } from '../../agent/app/community-demo/report.js';

const members = [{ name: 'Sato', peerId: 'tsato' }, { name: 'Suzuki', peerId: 'tsuzuki' }, { name: 'Takahashi', peerId: 'ttaka' }];
const linked = (peer: string) => ({ level: 30, msg: 'neighbour linked', peer, state: 'connected' });
const linkState = (peer: string, state: string) => ({ level: 30, msg: 'neighbour link state', peer, state });
const contract = (id: string, seller: string, buyer: string, energyWh: number, priceSenPerKWh: number) => ({
  level: 30, msg: 'contract', contract: id, slot: '2026-06-21T00:30:00.000Z', energyWh, priceSenPerKWh, seller, buyer,
});
const types = (events: DemoEvent[]) => events.map((e) => e.type);

t.test('agents up, dashboards, and the mesh formed once every running household is linked to every other', async (t) => {
  const m = new CommunityMonitor(members);
  t.same(m.observe(0, { level: 30, msg: 'dashboard', url: 'http://127.0.0.1:4000/' }), [{ type: 'dashboard', household: 'Sato', url: 'http://127.0.0.1:4000/' }]);
  t.same(m.observe(0, { level: 30, msg: 'tonari running' }), [{ type: 'up', household: 'Sato' }]);
  t.same(m.observe(0, { level: 30, msg: 'tonari running' }), [], 'up once');
  t.same(m.counts(), { running: 3, up: 1, total: 3 });

  t.same(m.observe(0, linkState('tsuzuki', 'connecting')), [], 'connecting is not news');
  t.same(m.observe(0, linked('tsuzuki')), [{ type: 'linked', household: 'Sato', peer: 'Suzuki', connected: 1, of: 2 }]);
  t.same(m.observe(0, linked('tsuzuki')), [], 'a repeated line changes nothing');
  m.observe(0, linked('ttaka'));
  m.observe(1, linked('tsato'));
  m.observe(1, linked('ttaka'));
  m.observe(2, linked('tsato'));
  t.notOk(m.formed);
  const last = m.observe(2, linked('tsuzuki'));
  t.same(types(last), ['linked', 'mesh']);
  t.same(last[1], { type: 'mesh', formed: true, households: 3 });
  t.ok(m.totals().meshFormed);

  const lost = m.observe(1, linkState('ttaka', 'waiting'));
  t.same(lost, [
    { type: 'unlinked', household: 'Suzuki', peer: 'Takahashi', state: 'waiting', connected: 1, of: 2 },
    { type: 'mesh', formed: false, households: 3 },
  ]);
  t.same(types(m.observe(1, linked('ttaka'))), ['linked', 'mesh'], 'formed again');

  // A household dies: the mesh of the others is complete without it.
  const died = m.exited(2, 1, null, false);
  t.same(died[0], { type: 'exited', household: 'Takahashi', code: 1, signal: null, expected: false });
  t.notOk(died.some((e) => e.type === 'mesh'), 'the two left are still linked to each other');
  t.ok(m.formed);
  t.same(m.counts(), { running: 2, up: 1, total: 3 });
  t.same(m.exited(2, 1, null, false), [], 'an exit is reported once');
});

t.test('contracts are counted once, with both sides\' energy and money; settlements once; errors surface', async (t) => {
  const m = new CommunityMonitor(members);
  const first = m.observe(0, contract('c1', 'tsato', 'tsuzuki', 1200, 1800));
  t.same(first, [{ type: 'contract', id: 'c1', slot: '2026-06-21T00:30:00.000Z', seller: 'Sato', buyer: 'Suzuki', energyWh: 1200, priceSenPerKWh: 1800 }]);
  t.same(m.observe(1, contract('c1', 'tsato', 'tsuzuki', 1200, 1800)), [], 'the buyer logs the same contract');
  m.observe(1, contract('c2', 'ttaka', 'tsuzuki', 500, 1000));
  t.same(m.observe(0, { level: 30, msg: 'contract settled', contract: 'c1', status: 'settled', deliveredWh: 1150 }),
    [{ type: 'settled', id: 'c1', household: 'Sato', seller: 'Sato', buyer: 'Suzuki', status: 'settled', deliveredWh: 1150 }]);
  t.same(m.observe(1, { level: 30, msg: 'contract settled', contract: 'c1', status: 'settled', deliveredWh: 1150 }), []);
  t.same(types(m.observe(1, { level: 40, msg: 'contract disputed', contract: 'c2', status: 'disputed', deliveredWh: 100 })), ['settled']);
  t.same(m.observe(2, { level: 50, msg: 'market step failed', err: 'boom' }), [{ type: 'problem', household: 'Takahashi', level: 'error', message: 'market step failed: boom' }]);
  t.same(m.observe(2, { level: 40, msg: 'a warning' }), [], 'warnings stay in the log');
  t.same(m.observe(9, linked('tsato')), [], 'an unknown household is ignored');

  const totals = m.totals();
  t.equal(totals.contracts, 2);
  t.equal(totals.energyWh, 1700);
  t.equal(totals.settled, 2);
  const [sato, suzuki, taka] = totals.households;
  t.match(sato, { contracts: 1, soldWh: 1200, boughtWh: 0, receivedMillisen: 1200 * 1800, paidMillisen: 0 });
  t.match(suzuki, { contracts: 2, soldWh: 0, boughtWh: 1700, paidMillisen: 1200 * 1800 + 500 * 1000 });
  t.match(taka, { contracts: 1, soldWh: 500, receivedMillisen: 500 * 1000 });
});

t.test('the launcher\'s words', async (t) => {
  const tz = 'Asia/Tokyo';
  t.equal(eventText({ type: 'contract', id: 'c', slot: '2026-06-21T00:30:00.000Z', seller: 'Sato', buyer: 'Suzuki', energyWh: 1200, priceSenPerKWh: 1800 }, tz),
    'contract: Suzuki buys 1.20 kWh from Sato at 18.00 円/kWh for the 09:30 slot');
  t.equal(eventText({ type: 'linked', household: 'Sato', peer: 'Suzuki', connected: 1, of: 2 }, tz), undefined, 'one link of many is not news');
  t.equal(eventText({ type: 'linked', household: 'Sato', peer: 'Suzuki', connected: 2, of: 2 }, tz), 'Sato is linked to all 2 neighbours');
  t.equal(eventText({ type: 'mesh', formed: true, households: 3 }, tz), 'mesh formed: all 3 households are linked to each other');
  t.equal(eventText({ type: 'exited', household: 'Sato', code: null, signal: 'SIGKILL', expected: false }, tz), 'Sato exited unexpectedly (signal SIGKILL); the others keep trading without it');
  t.equal(eventText({ type: 'exited', household: 'Sato', code: 0, signal: null, expected: true }, tz), undefined);

  const m = new CommunityMonitor(members);
  m.observe(0, { msg: 'tonari running' });
  m.observe(0, contract('c1', 'tsato', 'tsuzuki', 1200, 1800));
  const sim = Date.parse('2026-06-21T01:15:00Z');
  t.equal(statusText(sim, tz, m.totals()), '10:15 simulated · 1 of 3 agents up · mesh forming · 1 contract, 1.20 kWh traded');

  m.exited(0, 0, null, true);
  m.exited(1, 0, null, true);
  const lines = summaryLines({
    totals: m.totals(), households: demoHouseholds(3), realMs: 192_000, simFrom: Date.parse('2026-06-20T21:00:00Z'), simTo: sim, timeZone: tz, dir: '/tmp/x', killed: ['Takahashi'],
  });
  t.equal(lines[0], 'stopped after 3m 12s of real time: simulated 06:00 → 10:15 (4h 15m)');
  t.equal(lines[1], '1 contract, 1.20 kWh traded between neighbours, 0 settled');
  t.match(lines[2], /household\s+equipment\s+contracts\s+sold kWh\s+bought kWh\s+net 円\s+stopped/);
  t.match(lines[3], /Sato\s+6\.0 kWp PV, no battery\s+1\s+1\.20\s+0\.00\s+\+21\.60\s+cleanly/);
  t.match(lines[4], /Suzuki\s+no PV \(buys only\)\s+1\s+0\.00\s+1\.20\s+−21\.60\s+cleanly/);
  t.match(lines[5], /Takahashi.*killed$/);
  t.match(lines.join('\n'), /Takahashi did not stop in time and was killed \(SIGKILL\)/);
  t.match(lines.at(-1), /tonari trades --state-dir \/tmp\/x\/sato\/state/);

  t.equal(readableLogLine('{"level":50,"time":0,"msg":"broke","err":{"message":"EACCES"}}'), '00:00:00 error broke (EACCES)');
  t.equal(readableLogLine('plain text'), 'plain text');
  t.equal(readableLogLine('{"level":30,"time":0,"msg":"neighbour link down; reconnecting later","peer":"t1","error":"connect ECONNREFUSED 127.0.0.1:1"}'),
    '00:00:00 info neighbour link down; reconnecting later (connect ECONNREFUSED 127.0.0.1:1)');
  t.equal(readableLogLine('{"level":30,"time":0,"msg":"neighbour link state","state":"waiting"}'), '00:00:00 info neighbour link state (state waiting)');
  t.equal(readableLogLine('{"level":30,"time":0,"msg":"half'), '{"level":30,"time":0,"msg":"half', 'a torn line as it is');
});
