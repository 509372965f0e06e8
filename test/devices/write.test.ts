import t from 'tap';
import { ManualClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { ModbusLink } from '../../agent/devices/modbus/index.js';
import { SunSpecDevice } from '../../agent/devices/sunspec/device.js';
import { ProfileDevice } from '../../agent/devices/profile-device.js';
import { WriteRefusedError } from '../../agent/devices/write-policy.js';
import { unitReader, buildDevices, DeviceSetupError } from '../../agent/app/devices.js';
import { defaultConfig } from '../../agent/config/index.js';
import { startSimulator } from '../../agent/sim/simulator.js';
import { loadBuiltinProfile, encodeProfileImage } from '../../agent/devices/profiles/index.js';
import { MapRegisterSpace, startModbusServer } from '../../agent/sim/server/index.js';

const log = silentLogger();

async function simulatorWithLink(t: { teardown(fn: () => Promise<void>): void }) {
  const sim = await startSimulator({ clock: new ManualClock(Date.UTC(2026, 5, 21, 3)), log, transport: { kind: 'tcp', host: '127.0.0.1', port: 0 } });
  const link = new ModbusLink({ name: 'sim', type: 'tcp', host: '127.0.0.1', port: sim.server.address().port, timeout: 1000, connectDelay: 0, interRequestDelay: 0 });
  t.teardown(async () => { await link.close(); await sim.close(); });
  return { sim, link };
}

t.test('an allow-listed SunSpec point is written with its scale factor and read back', async (t) => {
  const { sim, link } = await simulatorWithLink(t);
  const io = unitReader(link, 1);
  const device = new SunSpecDevice({
    name: 'inverter', roles: ['pv', 'battery'], reader: io, writer: io, subdevice: 0, invertGrid: false, maxGap: 31, log,
    writable: [{ point: '124:OutWRte', min: -100, max: 100 }],
  });
  await device.write('124:OutWRte', 50);
  const storage = sim.space.images().get(1)!.models.find((m) => m.id === 124)!;
  // OutWRte sits at offset 12 of model 124; InOutWRte_SF (offset 25) is -2, so 50 % is stored as 5000.
  t.same(await link.read(1, 3, storage.address + 12, 1), [5000]);
  t.same(await link.read(1, 3, storage.address + 25, 1), [0xfffe]);
  await device.write('124:OutWRte', -12.5);
  t.same(await link.read(1, 3, storage.address + 12, 1), [(-1250) & 0xffff], 'negative rates (charging) are written in two\'s complement');
});

t.test('writes outside the allow-list or its range are refused before anything is sent', async (t) => {
  const { sim, link } = await simulatorWithLink(t);
  const io = unitReader(link, 1);
  const device = new SunSpecDevice({
    name: 'inverter', roles: ['pv', 'battery'], reader: io, writer: io, subdevice: 0, invertGrid: false, maxGap: 31, log,
    writable: [{ point: '124:OutWRte', min: 0, max: 100 }],
  });
  const before = sim.server.requestCount();
  await t.rejects(device.write('124:InWRte', 10), new WriteRefusedError('inverter', '124:InWRte', "not in the device's writable list (124:OutWRte)"));
  await t.rejects(device.write('124:OutWRte', 101), /outside the allowed range 0\.\.100/);
  await t.rejects(device.write('124:OutWRte', -1), /outside the allowed range 0\.\.100/);
  await t.rejects(device.write('124:OutWRte', Number.NaN), /is not a number/);
  t.equal(sim.server.requestCount(), before, 'no request reached the device');

  const readOnly = new SunSpecDevice({ name: 'meter', roles: ['grid'], reader: unitReader(link, 2), subdevice: 0, invertGrid: false, maxGap: 31, log });
  await t.rejects(readOnly.write('124:OutWRte', 1), /read-only \(no writable points are configured\)/);
});

t.test('the simulated device refuses writes to points the specification marks read-only', async (t) => {
  const { sim, link } = await simulatorWithLink(t);
  const inverter = sim.space.images().get(1)!.models.find((m) => m.id === 103)!;
  await t.rejects(link.write(1, inverter.address + 14, [1234]), { kind: 'exception', code: 2 });
});

t.test('profile devices write allow-listed points within the profile limits', async (t) => {
  const profile = await loadBuiltinProfile('huawei-sun2000');
  const space = new MapRegisterSpace({ 1: Object.fromEntries(encodeProfileImage(profile, {}).get(3)!) });
  const server = await startModbusServer({ transport: { kind: 'tcp', host: '127.0.0.1', port: 0 }, registers: space });
  const link = new ModbusLink({ name: 'huawei', type: 'tcp', host: '127.0.0.1', port: server.address().port, timeout: 1000, connectDelay: 0, interRequestDelay: 0 });
  t.teardown(async () => { await link.close(); await server.close(); });
  const io = unitReader(link, 1);
  const device = new ProfileDevice({
    name: 'huawei', roles: ['pv', 'battery', 'grid'], reader: io, writer: io, profile, invertGrid: false, maxGap: 31, log,
    writable: [{ point: 'batteryDischargeCutoffSoc', min: 5, max: 50 }],
  });
  await device.write('batteryDischargeCutoffSoc', 12.5);
  t.same(await link.read(1, 3, 47082, 1), [125], 'gain 10: 12.5 % is stored as 125');
  await t.rejects(device.write('batteryDischargeCutoffSoc', 30), /outside 0\.\.20/, 'the profile limit (0..20 %) holds even if the installer allows more');
  await t.rejects(device.write('pvPower', 1), /not in the device's writable list/);
  t.throws(() => new ProfileDevice({
    name: 'huawei', roles: ['pv'], reader: io, writer: io, profile, invertGrid: false, maxGap: 31, log,
    writable: [{ point: 'pvPower', min: 0, max: 1 }],
  }), /profile huawei-sun2000 has no writable point pvPower/, 'a configured write to a read-only profile point stops start-up');
});

t.test('an unknown profile is a set-up error that names the device', async (t) => {
  const config = defaultConfig();
  config.links = { lan: { type: 'tcp', host: '127.0.0.1', port: 1, timeout: 1000, connectDelay: 0, interRequestDelay: 0, maxGap: 31 } };
  config.devices = { inv: { type: 'profile', link: 'lan', unit: 1, profile: 'no-such-vendor', provides: ['pv'], invertGrid: false, writable: [] } };
  await t.rejects(buildDevices(config, { clock: new ManualClock(), log }), DeviceSetupError);
  await t.rejects(buildDevices(config, { clock: new ManualClock(), log }), /devices\.inv: profile: no built-in profile named "no-such-vendor" \(built-in: huawei-sun2000, sungrow-sh-rt\)/);
});
