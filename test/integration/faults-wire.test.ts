/**
 * Wire faults on the simulator: a corrupt frame, a device reboot (lost
 * replies: faults-timeouts.test.ts). The same link object recovers by itself, every poll either throws
 * or reads exactly the simulator's values, and recovery takes a bounded
 * number of requests.
 */
import t, { type Test } from 'tap';
import type { ModbusLink } from '../../agent/devices/modbus/index.js';
import { DEFAULT_LINK_POLICY } from '../../agent/devices/modbus/index.js';
import { exactPoll, faultScenario } from './fault-scenario.js';
import { expectedInverter, expectedMeter, INVERTER_ROLES, METER_ROLES, simWithLink, sunspecDevice, type TransportKind } from './helpers.js';

const K = DEFAULT_LINK_POLICY.timeoutsBeforeReconnect;
const TIMEOUT = 300;

const setup = (t: Test, kind: TransportKind) => simWithLink(t, kind, { timeout: TIMEOUT });

/** Reads the SunSpec marker until it comes back, counting requests (bounded). */
async function requestsUntilMarker(link: ModbusLink, max: number): Promise<{ count: number; kinds: string[] }> {
  const kinds: string[] = [];
  for (let i = 1; i <= max; i++) {
    try {
      const words = await link.read(1, 3, 40000, 2);
      if (words[0] !== 0x5375 || words[1] !== 0x6e53) throw new Error(`wrong marker ${JSON.stringify(words)}`);
      return { count: i, kinds };
    } catch (err) {
      const kind = (err as { kind?: string }).kind;
      if (kind === undefined) throw err;
      kinds.push(kind);
    }
  }
  return { count: Infinity, kinds };
}

t.test('a corrupt MBAP length (modbus-serial wedges): the link replaces the connection within K+1 requests', async (t) => {
  const ctx = (await setup(t, 'tcp'))!;
  t.strictSame(await ctx.link.read(1, 3, 40000, 2), [0x5375, 0x6e53]);
  ctx.s.sim.server.injectCorruptResponse();
  const { count, kinds } = await requestsUntilMarker(ctx.link, K + 1);
  t.equal(count, K + 1, `answered again at request ${K + 1}`);
  t.strictSame(kinds, new Array(K).fill('timeout'), 'the wedged connection shows as timeouts');
  t.equal(ctx.link.stats().connects, 2, 'one reconnect');
});

for (const kind of ['tcp', 'rtu-over-tcp', 'rtu'] as const) {
  t.test(`${kind}: a corrupt reply during polls`, async (t) => {
    const ctx = await setup(t, kind);
    if (!ctx) return;
    const inverter = sunspecDevice(ctx.link, 1, INVERTER_ROLES);
    const out = await faultScenario(t, ctx.s, inverter, expectedInverter, () => ctx.s.sim.server.injectCorruptResponse(), { maxPolls: K + 2, maxMs: 10_000 });
    t.ok(out.failures.length >= 1, `the corrupt reply failed a poll (${out.failures.join(', ')})`);
    // A bad CRC is a garbled reply: reset at once. A wedged MBAP parser needs K timeouts.
    t.ok(out.failures.every((k) => (kind === 'tcp' ? k === 'timeout' : k === 'protocol')), `failure kinds: ${out.failures.join(', ')}`);
    t.ok(ctx.link.stats().connects >= 2, 'the connection was replaced');
    t.strictSame(await sunspecDevice(ctx.link, 2, METER_ROLES).poll(), expectedMeter(ctx.s.state()), 'the meter on the same link reads too');
  });
}

for (const kind of ['tcp', 'rtu-over-tcp'] as const) {
  t.test(`${kind}: the device reboots`, async (t) => {
    const ctx = (await setup(t, kind))!;
    const inverter = sunspecDevice(ctx.link, 1, INVERTER_ROLES);
    let rebooted: Promise<void> | undefined;
    const out = await faultScenario(t, ctx.s, inverter, expectedInverter, () => { rebooted = ctx.s.sim.server.restart(1500); }, { maxPolls: 100, maxMs: 20_000, gapMs: 100 });
    await rebooted;
    t.ok(out.failures.length >= 1, `reads fail while the device is down (${out.failures.length} failed polls)`);
    t.ok(out.failures.every((k) => k === 'connection' || k === 'timeout' || k === 'backoff'), `failure kinds: ${out.failures.join(', ')}`);
    const stats = ctx.link.stats();
    t.ok(stats.connectFailures >= 1, 'connect attempts were refused while down');
    t.equal(stats.connects, 2, 'exactly one reconnect, on the same link object');
    t.strictSame(await sunspecDevice(ctx.link, 2, METER_ROLES).poll(), expectedMeter(ctx.s.state()));
    t.ok((await exactPoll(t, ctx.s, inverter, expectedInverter, 'later')).ok);
  });
}
