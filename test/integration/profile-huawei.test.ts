/**
 * The register-profile path end to end: the built-in Huawei SUN2000 profile's
 * register image, served by the simulator's Modbus server with Huawei's
 * transport quirks (one client, deaf after connecting), read through a real
 * link by ProfileDevice. Huawei counts meter export and battery charging as
 * positive; tonari must turn both into its own sign conventions.
 */
import t from 'tap';
import { systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { unitReader } from '../../agent/app/devices.js';
import { ProfileDevice } from '../../agent/devices/profile-device.js';
import { encodeProfileImage, loadBuiltinProfile, type Profile } from '../../agent/devices/profiles/index.js';
import type { DeviceMeasurement } from '../../agent/household/quantities.js';
import { MapRegisterSpace, startModbusServer } from '../../agent/sim/server/index.js';
import { LIFETIME_OFFSETS_WH } from '../../agent/sim/sunspec/image.js';
import { s16, startSim, tcpLink } from './helpers.js';

/** Canonical values (W, Wh, %; import and discharge positive) of the points the household uses. */
type Values = {
  pvPower: number; inverterPower: number; pvEnergy: number; gridPower: number; gridImportEnergy: number; gridExportEnergy: number;
  batteryPower: number; batterySoc: number;
};

/** Energy in 0.01 kWh steps, as the registers hold it. */
const tenWh = (wh: number): number => Math.round(wh / 10) * 10;

function serve(space: MapRegisterSpace, profile: Profile, values: Values): void {
  for (const [fc, words] of encodeProfileImage(profile, values)) {
    if (fc !== 3) throw new Error('the Huawei profile is all holding registers');
    for (const [address, word] of words) space.set(1, address, [word]);
  }
}

const expected = (v: Values): DeviceMeasurement => ({
  pvW: v.pvPower, pvWh: v.pvEnergy, acW: v.inverterPower, batteryW: v.batteryPower, socPct: v.batterySoc,
  gridW: v.gridPower, gridImportWh: v.gridImportEnergy, gridExportWh: v.gridExportEnergy,
});

const s32At = (words: number[], i: number): number => (s16(words[i]!) * 0x10000) + words[i + 1]!;

t.test('Huawei SUN2000 profile over Modbus TCP with the SDongle quirks', async (t) => {
  const profile = await loadBuiltinProfile('huawei-sun2000');
  // Noon in the simulated household: PV charges the battery and exports the rest.
  const s = await startSim(t, { transport: { kind: 'tcp', host: '127.0.0.1', port: 0 } });
  const st = s.state();
  const noon: Values = {
    pvPower: Math.round(st.trackers.reduce((sum, tr) => sum + tr.powerW, 0)),
    inverterPower: Math.round(st.inverter.powerW + st.battery.powerW),
    pvEnergy: tenWh(LIFETIME_OFFSETS_WH.pv + st.trackers.reduce((sum, tr) => sum + tr.energyWh, 0)),
    gridPower: Math.round(st.meter.powerW),
    gridImportEnergy: tenWh(LIFETIME_OFFSETS_WH.import + st.meter.importWh),
    gridExportEnergy: tenWh(LIFETIME_OFFSETS_WH.export + st.meter.exportWh),
    batteryPower: Math.round(st.battery.powerW),
    batterySoc: Math.round(st.battery.socPct * 10) / 10,
  };
  t.ok(noon.gridPower < 0 && noon.batteryPower < 0, `at noon the house exports (${noon.gridPower} W) and charges (${noon.batteryPower} W)`);

  const space = new MapRegisterSpace({ 1: {} });
  serve(space, profile, noon);
  const server = await startModbusServer({
    transport: { kind: 'tcp', host: '127.0.0.1', port: 0 }, registers: space, clock: systemClock, logger: silentLogger(),
    singleClient: true, connectDelayMs: 1500,
  });
  t.teardown(() => server.close());
  const link = tcpLink(t, 'tcp', server.address().port, { connectDelay: profile.defaults.connectDelayMs ?? 2000, timeout: 2000 });
  const device = new ProfileDevice({ name: 'huawei', roles: ['pv', 'battery', 'grid'], reader: unitReader(link, 1), profile, invertGrid: false, maxGap: 31, log: silentLogger() });

  t.strictSame(await device.poll(), expected(noon), 'noon: every value in tonari\'s conventions');
  t.equal(link.stats().errors.timeout, 0, 'the profile\'s connectDelay outwaits the deaf period');
  const exceptionsAfterFirstPoll = link.stats().errors.exception;

  // Huawei's own signs on the wire: export and charging are positive.
  const meterWords = await link.read(1, 3, 37113, 2);
  t.equal(s32At(meterWords, 0), -noon.gridPower, 'meter active power register: export is positive for Huawei');
  const batteryWords = await link.read(1, 3, 37765, 2);
  t.equal(s32At(batteryWords, 0), -noon.batteryPower, 'battery power register: charging is positive for Huawei');

  // Evening: the battery discharges and the house imports.
  const evening: Values = {
    ...noon, pvPower: 0, inverterPower: 800, batteryPower: 800, gridPower: 1500, batterySoc: 41.3,
    gridImportEnergy: noon.gridImportEnergy + 2340, pvEnergy: noon.pvEnergy + 15_670,
  };
  serve(space, profile, evening);
  t.strictSame(await device.poll(), expected(evening), 'evening: import and discharge are positive');
  t.equal(s32At(await link.read(1, 3, 37113, 2), 0), -1500, 'import is negative for Huawei');

  // A point the device marks invalid (sentinel) is missing, never 0.
  serve(space, profile, { ...evening, batterySoc: undefined as unknown as number });
  const withoutSoc = await device.poll();
  t.ok('socPct' in withoutSoc && withoutSoc.socPct === undefined, 'an invalid SoC is missing');
  t.equal(withoutSoc.gridW, 1500);
  t.equal(link.stats().connects, 1);
  // Registers between the profile's points are unmapped here and refused (exception 2), as on many real devices:
  // the first poll learned those holes, later polls plan around them.
  t.equal(link.stats().errors.exception, exceptionsAfterFirstPoll, 'no exception after the first poll');
});
