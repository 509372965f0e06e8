/** The pure figures of bench:devices: which spans a poll wants and how the request counts compare. No timing. */
import t from 'tap';
import { defaultMaxGap } from '../../agent/devices/planner.js';
import { modelDef } from '../../agent/devices/sunspec/registry.js';
import { householdSpans } from '../../agent/devices/sunspec/spans.js';
import { householdModels } from '../../agent/devices/sunspec/roles.js';
import { fullPollSpans, householdPollSpans, plan, pollFigures, simulatedChains, type UnitChain } from './devices-figures.js';

const GAPS = [defaultMaxGap('tcp'), defaultMaxGap('rtu')];

/** A hybrid system laid out by hand: models back to back from 40002, as the simulator's default inverter chain plus a meter. */
const FIXED: UnitChain = {
  unit: 1,
  devices: [{
    index: 0,
    models: [
      { id: 1, address: 40002, length: 66 },
      { id: 103, address: 40070, length: 50 },
      { id: 160, address: 40122, length: 48 }, // 8 fixed + 2 modules of 20
      { id: 124, address: 40172, length: 24 },
      { id: 203, address: 40198, length: 105 },
    ],
  }],
};

t.test('a full poll of a fixed chain: planner count equals the DP minimum and is far below one read per point', async (t) => {
  const units = [fullPollSpans(FIXED)];
  for (const maxGap of GAPS) {
    const f = pollFigures(units, maxGap);
    t.same(f.planErrors, [], `maxGap ${maxGap}: the planner reads everything`);
    t.equal(f.requests, f.minRequests, `maxGap ${maxGap}: planner == DP`);
    t.ok(f.requests < f.naiveRequests, `maxGap ${maxGap}: fewer than naive`);
    // 303 contiguous registers need at least ceil(303 / 125) = 3 requests.
    t.ok(f.minRequests >= 3);
  }
});

t.test('full poll spans: every point once, each scaled value bundled with its own scale factor', async (t) => {
  const { spans, points } = fullPollSpans(FIXED);
  const fixedPoints = [1, 103, 160, 124, 203].reduce((s, id) => s + modelDef(id)!.points.length, 0);
  t.equal(points, fixedPoints + 2 * modelDef(160)!.group!.points.length, 'fixed points and both 160 modules');
  t.equal(spans.filter((s) => !s.key.endsWith('#sf')).length, points);
  // 160 module 1's DCW (offset 10 + 20 + 11) with the fixed block's DCW_SF (offset 4).
  const dcw = spans.find((s) => s.key === 'u1.160@40122.module1.DCW');
  const dcwSf = spans.find((s) => s.key === 'u1.160@40122.module1.DCW#sf');
  t.same(dcw, { key: 'u1.160@40122.module1.DCW', address: 40122 + 41, size: 1, fc: 3, bundle: 'u1.160@40122.module1.DCW' });
  t.same(dcwSf, { key: 'u1.160@40122.module1.DCW#sf', address: 40122 + 4, size: 1, fc: 3, bundle: 'u1.160@40122.module1.DCW' });
  // Scale factors are points too (read on their own, unbundled); enums and strings have none.
  t.notOk(spans.find((s) => s.key === 'u1.103@40070.W_SF')?.bundle);
  t.notOk(spans.find((s) => s.key === 'u1.1@40002.Mn')?.bundle);
  // A common model of length 65 (SolarEdge) has no Pad.
  const short = fullPollSpans({ unit: 1, devices: [{ index: 0, models: [{ id: 1, address: 40002, length: 65 }] }] });
  t.equal(short.points, 8);
  t.equal(pollFigures([short], 31).requests, 1);
});

t.test('the household set is exactly what SunSpecDevice reads', async (t) => {
  const { spans, points } = householdPollSpans(FIXED);
  const agent = householdSpans(householdModels(FIXED.devices[0]!.models, ['pv', 'battery', 'grid']));
  t.same(spans.map((s) => ({ ...s, key: s.key.replace(/^d0\./, ''), bundle: s.bundle?.replace(/^d0\./, '') })), agent);
  t.equal(points, agent.filter((s) => !s.key.endsWith('#sf')).length);
  t.equal(plan(spans, 31).blocks.length, plan(agent, 31).blocks.length);
});

t.test('the simulated household: planner == DP < naive for every poll set and gap', async (t) => {
  for (const quirks of [[], ['solaredge']] as const) {
    const chains = await simulatedChains(quirks);
    t.ok(chains.some((c) => c.devices.some((d) => d.models.some((m) => m.id === 203))), 'the meter is found');
    for (const units of [chains.map((c) => fullPollSpans(c)), chains.map((c) => householdPollSpans(c))]) {
      for (const maxGap of GAPS) {
        const f = pollFigures(units, maxGap);
        t.same(f.planErrors, []);
        t.equal(f.requests, f.minRequests, `${quirks.join(',') || 'default'} maxGap ${maxGap}`);
        t.ok(f.requests < f.naiveRequests);
      }
    }
  }
});
