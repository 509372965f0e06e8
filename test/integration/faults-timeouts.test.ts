/**
 * Lost replies (the device hears the request but the reply never comes): up
 * to K-1 in a row cost one failed poll each and no reconnect; more replace
 * the connection and rest the unit, and the same link reads again within a
 * bounded time. Every poll throws or reads exactly the simulator's values.
 */
import t from 'tap';
import { DEFAULT_LINK_POLICY } from '../../agent/devices/modbus/index.js';
import { faultScenario } from './fault-scenario.js';
import { expectedInverter, expectedMeter, INVERTER_ROLES, METER_ROLES, simWithLink, sunspecDevice } from './helpers.js';

const K = DEFAULT_LINK_POLICY.timeoutsBeforeReconnect;

for (const kind of ['tcp', 'rtu-over-tcp', 'rtu'] as const) {
  t.test(`${kind}: lost replies`, async (t) => {
    const ctx = await simWithLink(t, kind, { timeout: 300 });
    if (!ctx) return;
    const { s, link } = ctx;
    const inverter = sunspecDevice(link, 1, INVERTER_ROLES);
    // Fewer than K timeouts: no reconnect needed.
    const short = await faultScenario(t, s, inverter, expectedInverter, () => s.sim.server.dropNextResponses(K - 1), { maxPolls: K + 1, maxMs: 10_000 });
    t.strictSame(short.failures, new Array(K - 1).fill('timeout'), `${K - 1} dropped replies fail ${K - 1} polls`);
    t.equal(short.pollsToRecover, K, 'and the next poll reads');
    t.equal(link.stats().connects, 1, 'without a reconnect');

    // More than K: the connection is replaced and the unit rests; still bounded.
    const timeoutsBefore = link.stats().errors.timeout;
    const long = await faultScenario(t, s, inverter, expectedInverter, () => s.sim.server.dropNextResponses(K + 2), { maxPolls: 60, maxMs: 20_000, gapMs: 200 });
    // A timeout during re-discovery moves on to the next base address, which the resting unit refuses: that poll reports 'backoff'.
    t.equal(link.stats().errors.timeout - timeoutsBefore, K + 2, 'every dropped reply was a timeout, and nothing else timed out');
    t.ok(long.failures.every((k) => k === 'timeout' || k === 'backoff' || k === 'connection'), `failure kinds: ${long.failures.join(', ')}`);
    t.equal(link.stats().connects, 2, 'K timeouts in a row replaced the connection once');
    t.strictSame(await sunspecDevice(link, 2, METER_ROLES).poll(), expectedMeter(s.state()), 'the meter on the same link reads too');
  });
}
