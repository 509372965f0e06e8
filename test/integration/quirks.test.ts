/**
 * Every vendor quirk of the simulator is discovered and decoded exactly:
 * float models (Fronius), SolarEdge's meter as a second device in the
 * inverter's chain, SMA's unit 126 without an end marker, Huawei's single
 * client and deafness after connect, and combinations.
 */
import t, { type Test } from 'tap';
import { discoverSunSpec } from '../../agent/devices/sunspec/discover.js';
import { unitReader } from '../../agent/app/devices.js';
import type { ModbusLink } from '../../agent/devices/modbus/index.js';
import type { Quirk } from '../../agent/sim/sunspec/layout.js';
import { expectedInverter, failureKind, expectedMeter, INVERTER_ROLES, METER_ROLES, MINUTE, startSim, sunspecDevice, tcpLink, untilOk, type Sim } from './helpers.js';

async function tcpSim(t: Test, quirks: Quirk[], extra: { initialSocPct?: number } = {}): Promise<Sim> {
  return startSim(t, { transport: { kind: 'tcp', host: '127.0.0.1', port: 0 }, quirks, ...extra });
}

/** Polls both devices twice, a few minutes apart, and checks every value exactly. */
async function pollTwiceExact(t: Test, s: Sim, inverter: ReturnType<typeof sunspecDevice>, meter: ReturnType<typeof sunspecDevice>): Promise<void> {
  for (const step of [0, 11 * MINUTE]) {
    await s.clock.advance(step);
    const inv = await inverter.poll();
    const mtr = await meter.poll();
    t.strictSame(inv, expectedInverter(s.state()), `inverter at +${step / MINUTE} min`);
    t.strictSame(mtr, expectedMeter(s.state()), `meter at +${step / MINUTE} min`);
  }
}

t.test('float: models 113 and 213 are found and their float32 values read exactly', async (t) => {
  const s = await tcpSim(t, ['float']);
  const link = tcpLink(t, 'tcp', s.sim.server.address().port);
  const inverter = sunspecDevice(link, 1, INVERTER_ROLES);
  const meter = sunspecDevice(link, 2, METER_ROLES);
  await pollTwiceExact(t, s, inverter, meter);
  t.strictSame(inverter.describe()?.models, [1, 113, 120, 160, 124, 802]);
  t.strictSame(meter.describe()?.models, [1, 213]);
});

t.test('solaredge: the meter is subdevice 1 in unit 1\'s chain, common models of length 65', async (t) => {
  const s = await tcpSim(t, ['solaredge']);
  const link = tcpLink(t, 'tcp', s.sim.server.address().port);
  const chain = await discoverSunSpec(unitReader(link, 1));
  t.equal(chain.end, 'end-marker');
  t.strictSame(chain.devices.map((d) => d.models.map((m) => m.id)), [[1, 103, 120, 160, 124, 802], [1, 203]]);
  t.strictSame(chain.devices.map((d) => d.models[0]!.length), [65, 65], 'SolarEdge common model length');
  const inverter = sunspecDevice(link, 1, INVERTER_ROLES);
  const meter = sunspecDevice(link, 1, METER_ROLES, { subdevice: 1 });
  await pollTwiceExact(t, s, inverter, meter);
  t.equal(inverter.describe()?.identity?.serial, 'SIM1-INV');
  t.equal(meter.describe()?.identity?.serial, 'SIM1-MTR', 'subdevice 1 is the meter, with its own identity');
  t.equal(await failureKind(link.read(2, 3, 40000, 2)), 'exception', 'there is no unit 2');
  const missing = sunspecDevice(link, 1, METER_ROLES, { subdevice: 2 });
  await t.rejects(missing.poll(), { name: 'SubdeviceMissingError' }, 'a subdevice beyond the chain is an error, not an empty reading');
});

t.test('sma: unit 126, no end marker; discovery tolerates the exception at the end', async (t) => {
  const s = await tcpSim(t, ['sma']);
  const link = tcpLink(t, 'tcp', s.sim.server.address().port);
  const chain = await discoverSunSpec(unitReader(link, 126));
  t.equal(chain.end, 'exception', 'the chain ends with an exception instead of 0xFFFF');
  t.strictSame(chain.devices.map((d) => d.models.map((m) => m.id)), [[1, 103, 120, 160, 124, 802]]);
  const meterChain = await discoverSunSpec(unitReader(link, 2));
  t.equal(meterChain.end, 'exception');
  t.equal(await failureKind(link.read(1, 3, 40000, 2)), 'exception', 'nothing on unit 1');
  const inverter = sunspecDevice(link, 126, INVERTER_ROLES);
  const meter = sunspecDevice(link, 2, METER_ROLES);
  await pollTwiceExact(t, s, inverter, meter);
});

t.test('float + solaredge + dynamic-sf: quirks combine', async (t) => {
  const s = await tcpSim(t, ['float', 'solaredge', 'dynamic-sf']);
  const link = tcpLink(t, 'tcp', s.sim.server.address().port);
  const inverter = sunspecDevice(link, 1, INVERTER_ROLES);
  const meter = sunspecDevice(link, 1, METER_ROLES, { subdevice: 1 });
  await pollTwiceExact(t, s, inverter, meter);
  t.strictSame(inverter.describe()?.models, [1, 113, 120, 160, 124, 802]);
  t.strictSame(meter.describe()?.models, [1, 213]);
});

t.test('sma + dynamic-sf on RTU over TCP', async (t) => {
  const s = await startSim(t, { transport: { kind: 'rtu-over-tcp', host: '127.0.0.1', port: 0 }, quirks: ['sma', 'dynamic-sf'] });
  const link = tcpLink(t, 'rtu-over-tcp', s.sim.server.address().port);
  await pollTwiceExact(t, s, sunspecDevice(link, 126, INVERTER_ROLES), sunspecDevice(link, 2, METER_ROLES));
});

t.test('huawei: one client at a time, deaf for 1.5 s after connecting', async (t) => {
  const s = await tcpSim(t, ['huawei']);
  const port = s.sim.server.address().port;
  const a: ModbusLink = tcpLink(t, 'tcp', port, { connectDelay: 1600, timeout: 1000 });
  const inverter = sunspecDevice(a, 1, INVERTER_ROLES);
  const meter = sunspecDevice(a, 2, METER_ROLES);
  t.strictSame(await inverter.poll(), expectedInverter(s.state()), 'with connectDelay the first poll reads');
  t.strictSame(await meter.poll(), expectedMeter(s.state()));
  t.equal(a.stats().errors.timeout, 0, 'no request was lost to the deaf period');

  // A second client without connectDelay: it pushes the first one off, and its first request is ignored.
  const b = tcpLink(t, 'tcp', port, { connectDelay: 0, timeout: 1000 });
  t.equal(await failureKind(b.read(1, 3, 40000, 2)), 'timeout', 'a request right after connecting is ignored');
  const attempts = await untilOk(() => b.read(1, 3, 40000, 2), { maxAttempts: 4, maxMs: 8000, gapMs: 0 });
  t.strictSame(attempts.at(-1)?.value, [0x5375, 0x6e53], 'the same link reads once the device listens');
  t.equal(b.stats().connects, 1, 'recovered without reconnecting');
  t.ok(attempts.every((x) => x.ok || (x.error as { kind?: string }).kind === 'timeout'), 'only timeouts on the way');
  t.equal(s.sim.server.connectionCount(), 1, 'the device keeps one client');

  // The first client lost its connection; it reconnects, waits, and reads exactly again.
  await s.clock.advance(3 * MINUTE);
  t.strictSame(await inverter.poll(), expectedInverter(s.state()), 'the first client reconnects and reads');
  t.equal(a.stats().connects, 2);
  t.equal(a.stats().errors.timeout, 0);
});
