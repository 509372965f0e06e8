/**
 * The agent reads the simulated household over every transport: Modbus TCP,
 * RTU frames over TCP (a transparent gateway), and RTU on a serial line (a
 * socat pty pair). Every value must equal what the physics state implies,
 * with the register image's rounding and scale factors, at several times of
 * the day; counters never decrease.
 */
import t, { type Test } from 'tap';
import type { ModbusLink } from '../../agent/devices/modbus/index.js';
import type { DeviceMeasurement } from '../../agent/household/quantities.js';
import {
  COUNTERS, expectedInverter, expectedMeter, INVERTER_ROLES, METER_ROLES, MINUTE, ptyPair, rtuLink, startSim, sunspecDevice, tcpLink,
  type Sim,
} from './helpers.js';

/** Polls inverter and meter at several clock times and checks every value exactly. */
async function pollThroughTheDay(t: Test, s: Sim, link: ModbusLink): Promise<void> {
  const inverter = sunspecDevice(link, 1, INVERTER_ROLES, { name: 'inverter' });
  const meter = sunspecDevice(link, 2, METER_ROLES, { name: 'meter' });
  let previous: DeviceMeasurement | undefined;
  let sawPv = false;
  for (const step of [0, 7 * MINUTE, 30 * MINUTE, 90 * MINUTE]) {
    await s.clock.advance(step);
    const inv = await inverter.poll();
    const mtr = await meter.poll();
    const state = s.state();
    t.strictSame(inv, expectedInverter(state), `inverter at ${new Date(state.timeMs).toISOString()}`);
    t.strictSame(mtr, expectedMeter(state), `meter at ${new Date(state.timeMs).toISOString()}`);
    // The meter closes the balance: load = AC output + grid, never negative.
    t.ok(inv.acW! + mtr.gridW! >= 0, 'the derived load is not negative');
    sawPv ||= inv.pvW! > 0;
    const now = { ...inv, ...mtr };
    if (previous) for (const key of COUNTERS) t.ok(now[key]! >= previous[key]!, `${key} does not decrease`);
    previous = now;
  }
  t.ok(sawPv, 'the sun was up: PV produced');
  t.strictSame(inverter.describe()?.models, [1, 103, 120, 160, 124, 802], 'inverter chain discovered');
  t.strictSame(meter.describe()?.models, [1, 203], 'meter chain discovered');
  t.equal(inverter.describe()?.identity?.serial, 'SIM1-INV');
  t.equal(meter.describe()?.identity?.serial, 'SIM1-MTR');
  // Discovery happens once: later polls cost exactly the planned requests.
  const before = link.stats().requests;
  await inverter.poll();
  await meter.poll();
  t.equal(link.stats().requests - before, inverter.requestsPerPoll()! + meter.requestsPerPoll()!, 'a steady poll makes only the planned requests');
  t.equal(link.stats().connects, 1, 'one connection for the whole session');
}

t.test('Modbus TCP', async (t) => {
  const s = await startSim(t, { transport: { kind: 'tcp', host: '127.0.0.1', port: 0 } });
  const link = tcpLink(t, 'tcp', s.sim.server.address().port);
  await pollThroughTheDay(t, s, link);
});

t.test('RTU over TCP (transparent gateway)', async (t) => {
  const s = await startSim(t, { transport: { kind: 'rtu-over-tcp', host: '127.0.0.1', port: 0 } });
  const link = tcpLink(t, 'rtu-over-tcp', s.sim.server.address().port);
  await pollThroughTheDay(t, s, link);
});

t.test('RTU on a serial line (socat pty pair, 9600 8N1)', async (t) => {
  const pair = await ptyPair(t);
  if (!pair) return;
  const s = await startSim(t, { transport: { kind: 'rtu', path: pair.b, baudRate: 9600 } });
  const link = rtuLink(t, pair.a);
  await pollThroughTheDay(t, s, link);
});

t.test('a sign flip shows: a meter mounted the other way round is read with invertGrid', async (t) => {
  const s = await startSim(t, { transport: { kind: 'tcp', host: '127.0.0.1', port: 0 } });
  const link = tcpLink(t, 'tcp', s.sim.server.address().port);
  const inverted = sunspecDevice(link, 2, METER_ROLES, { invertGrid: true });
  const got = await inverted.poll();
  const want = expectedMeter(s.state());
  t.strictSame(got, { gridW: -want.gridW! + 0, gridImportWh: want.gridExportWh, gridExportWh: want.gridImportWh });
});
