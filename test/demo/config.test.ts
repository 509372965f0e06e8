/**
 * The demo community's pure pieces: who lives there, the timing stretched for the
 * speed, and the tonari.yaml each household gets (parsed back with the real
 * configuration loader).
 */
import t from 'tap';
import { DEFAULT_LIMITS } from '../../broker/index.js';
import { householdConfigText, type DemoMember } from '../../agent/app/community-demo/config-text.js';
import { DEMO_NAMES, demoHouseholds, describeEquipment, LOOPBACK_MAX_HOUSEHOLDS, MAX_HOUSEHOLDS } from '../../agent/app/community-demo/households.js';
import { DEFAULT_SPEED, demoSimStart, demoTiming, MAX_SPEED, realDayText } from '../../agent/app/community-demo/timing.js';
import { parseConfigText } from '../../agent/config/parse.js';
import { startTime } from '../../agent/cli/commands/demo.js';

t.test('households: distinct names, seeds and equipment; sellers and buyers in any community', async (t) => {
  t.throws(() => demoHouseholds(1), /2 to 20 households/);
  t.throws(() => demoHouseholds(21), /2 to 20 households/);
  t.throws(() => demoHouseholds(2.5));
  const two = demoHouseholds(2);
  t.ok(two[0]!.pvWp > 0 && two[0]!.batteryWh === 0, 'the first sells without a battery');
  t.equal(two[1]!.pvWp, 0, 'the second only buys');
  const all = demoHouseholds(MAX_HOUSEHOLDS);
  t.same(all.map((h) => h.name), DEMO_NAMES);
  t.equal(new Set(all.map((h) => h.slug)).size, MAX_HOUSEHOLDS, 'one directory each');
  t.equal(new Set(all.map((h) => h.seed)).size, MAX_HOUSEHOLDS, 'one seed each');
  for (const h of all) {
    t.ok(h.pvWp >= 0 && h.pvWp <= 8000, `${h.name}: PV within 0..8000 Wp`);
    t.match(h.slug, /^[a-z]+$/);
  }
  const five = demoHouseholds(5);
  t.ok(five.some((h) => h.pvWp === 0), 'a buyer');
  t.ok(five.some((h) => h.pvWp > 0 && h.batteryWh > 0), 'PV with a battery');
  t.ok(five.some((h) => h.pvWp > 0 && h.batteryWh === 0), 'PV without a battery');
  t.same(demoHouseholds(5), five, 'deterministic');
  t.equal(describeEquipment({ pvWp: 0, batteryWh: 0 }), 'no PV (buys only)');
  t.equal(describeEquipment({ pvWp: 6000, batteryWh: 0 }), '6.0 kWp PV, no battery');
  t.equal(describeEquipment({ pvWp: 8000, batteryWh: 10_000 }), '8.0 kWp PV, 10 kWh battery');
});

t.test('the loopback household limit follows the broker\'s per-address connection limit', async (t) => {
  t.equal(LOOPBACK_MAX_HOUSEHOLDS, DEFAULT_LIMITS.maxConnectionsPerAddress + 1,
    'every broker sees N − 1 clients from 127.0.0.1; update LOOPBACK_MAX_HOUSEHOLDS when the broker\'s limit changes');
});

t.test('timing: real-time windows stay at least 2 s at every speed, within the configuration\'s limits', async (t) => {
  for (const speed of [1, 10, 60, DEFAULT_SPEED, 300, 600, MAX_SPEED]) {
    const timing = demoTiming(speed);
    t.ok(timing.reconcileMs >= 20_000 && timing.reconcileMs <= 30 * 60_000, `${speed}×: reconcile within the schema`);
    t.ok(timing.gateClosureMs > timing.reconcileMs && timing.gateClosureMs <= 6 * 3_600_000, `${speed}×: gate closes before reconcile ends`);
    if (speed * 2000 <= 30 * 60_000) t.ok(timing.reconcileMs / speed >= 2000, `${speed}×: ≥ 2 real seconds to reconcile`);
    else t.ok(timing.reconcileMs / speed >= 1800, `${speed}×: ≥ 1.8 real seconds to reconcile (the schema's 30 min at 1000×)`);
    t.ok((timing.gateClosureMs - timing.reconcileMs) / speed >= 2000 || timing.gateClosureMs - timing.reconcileMs >= 60_000, `${speed}×: time to sign after clearing`);
    t.ok(timing.pollIntervalMs >= 1000 && timing.pollIntervalMs <= 15_000, `${speed}×: polls at least 4 times per simulated minute (the market's freshness rule)`);
    t.ok(timing.staleAfterMs >= timing.pollIntervalMs, `${speed}×: staleAfter ≥ interval`);
  }
  t.same(demoTiming(1), { speed: 1, reconcileMs: 20_000, gateClosureMs: 5 * 60_000, pollIntervalMs: 1000, staleAfterMs: 5000 }, 'real time: the defaults');
  t.same(demoTiming(120), { speed: 120, reconcileMs: 240_000, gateClosureMs: 8 * 60_000, pollIntervalMs: 15_000, staleAfterMs: 45_000 });
  t.throws(() => demoTiming(0));
  t.throws(() => demoTiming(MAX_SPEED + 1));
  t.equal(realDayText(120), '12 minutes');
  t.equal(realDayText(600), '2.4 minutes');
  t.equal(realDayText(1), '24 hours');
  t.equal(realDayText(1000), '86 seconds');
});

t.test('the simulated day starts at 06:00 Tokyo time on the Tokyo date of now', async (t) => {
  // 2026-06-21 23:30 UTC is already 06-22 08:30 in Tokyo.
  t.equal(new Date(demoSimStart(Date.parse('2026-06-21T23:30:00Z'), 'Asia/Tokyo')).toISOString(), '2026-06-21T21:00:00.000Z');
  t.equal(new Date(demoSimStart(Date.parse('2026-06-21T10:00:00Z'), 'Asia/Tokyo')).toISOString(), '2026-06-20T21:00:00.000Z');
  // Across a DST change: Berlin's 06:00 on 2026-03-29 is UTC+2.
  t.equal(new Date(demoSimStart(Date.parse('2026-03-29T12:00:00Z'), 'Europe/Berlin')).toISOString(), '2026-03-29T04:00:00.000Z');
  const now = Date.parse('2026-06-21T10:00:00Z');
  t.equal(startTime(undefined, now), demoSimStart(now, 'Asia/Tokyo'));
  t.equal(new Date(startTime('09:30', now)!).toISOString(), '2026-06-21T00:30:00.000Z', 'HH:MM is today in Tokyo');
  t.equal(startTime('2026-06-21T10:00+09:00', now), Date.parse('2026-06-21T01:00:00Z'));
  t.equal(startTime('25:00', now), undefined);
  t.equal(startTime('noon', now), undefined);
});

function members(n: number): DemoMember[] {
  return demoHouseholds(n).map((household, i) => ({
    household, stateDir: `/tmp/demo dir/${household.slug}/state`, meshPort: 20_000 + i, apiPort: 30_000 + i,
    fingerprint: String(i + 1).repeat(64).slice(0, 64), peerId: `peer${i}`,
  }));
}

t.test('each household\'s tonari.yaml parses, with every other household pinned, trusted and dialled on 127.0.0.1', async (t) => {
  const community = members(4);
  const timing = demoTiming(600);
  for (const me of community) {
    const text = householdConfigText(me, community, timing);
    const config = parseConfigText(text, `${me.household.slug}.yaml`);
    const others = community.filter((m) => m !== me);
    t.equal(config.household.name, me.household.name);
    t.equal(config.stateDir, me.stateDir, 'a path with a space survives');
    t.same(config.devices, {}, 'simulated');
    t.same(config.simulator, { ...config.simulator, seed: me.household.seed, pvWp: me.household.pvWp, batteryWh: me.household.batteryWh });
    t.same(config.mesh.listen, { host: '127.0.0.1', port: me.meshPort });
    t.equal(config.mesh.discovery, false, 'never multicasts');
    t.equal(config.mesh.localPort, null);
    t.same(config.mesh.peers.map((p) => [p.host, p.port, p.fingerprint]), others.map((o) => ['127.0.0.1', o.meshPort, o.fingerprint]));
    t.same(config.trust.peers, others.map((o) => ({ fingerprint: o.fingerprint, name: o.household.name })));
    t.same(config.api.listen, { host: '127.0.0.1', port: me.apiPort });
    t.equal(config.api.token, undefined, 'loopback needs no token');
    t.equal(config.market.reconcile, timing.reconcileMs);
    t.equal(config.market.gateClosure, timing.gateClosureMs);
    t.equal(config.poll.interval, timing.pollIntervalMs);
    t.equal(config.poll.staleAfter, timing.staleAfterMs);
    t.equal(config.log.level, 'info');
  }
  const viaRelays = parseConfigText(householdConfigText(community[0]!, community, timing, (to) => 40_000 + to.household.index), 'x.yaml');
  t.same(viaRelays.mesh.peers.map((p) => p.port), [40_001, 40_002, 40_003], 'the ports to dial may be the launcher\'s relays');
});
