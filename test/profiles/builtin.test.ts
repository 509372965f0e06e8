import { basename, join } from 'node:path';
import t from 'tap';
import {
  builtinProfileDir, builtinProfileNames, decodeProfileValues, encodeProfileWrite, findPackageRoot,
  loadBuiltinProfile, lookupFromImage, resolveProfile, type RegisterImage,
} from '../../agent/devices/profiles/index.js';

/** A register image written word by word, independent of the profile encoder. */
function image(fc: 3 | 4, words: Record<number, number[]>): RegisterImage {
  const space = new Map<number, number>();
  for (const [address, list] of Object.entries(words)) list.forEach((w, i) => space.set(Number(address) + i, w));
  return new Map([[fc, space]]);
}

t.test('the built-in profiles are found, load, and are named after their files', async (t) => {
  const names = await builtinProfileNames();
  t.ok(names.includes('huawei-sun2000'));
  t.ok(names.includes('sungrow-sh-rt'));
  for (const name of names) {
    const profile = await loadBuiltinProfile(name);
    t.equal(profile.name, name);
    t.ok(profile.source.length > 20, `${name} cites its source`);
  }
  t.equal(basename(builtinProfileDir()), 'builtin');
});

t.test('the package root is found from sources and from compiled code under dist/', async (t) => {
  const root = findPackageRoot();
  t.equal(findPackageRoot(join(root, 'dist', 'agent', 'devices', 'profiles')), root);
  t.equal(findPackageRoot(join(root, 'agent', 'devices', 'profiles')), root);
});

t.test('resolveProfile takes a built-in name or a path', async (t) => {
  t.equal((await resolveProfile('sungrow-sh-rt')).name, 'sungrow-sh-rt');
  t.equal((await resolveProfile(join(builtinProfileDir(), 'huawei-sun2000.yaml'))).name, 'huawei-sun2000');
  await t.rejects(resolveProfile('huawei'), { message: /no built-in profile named "huawei" \(built-in: .*huawei-sun2000/ });
});

t.test('Huawei SUN2000: signs, gains and kWh → Wh', async (t) => {
  const profile = await loadBuiltinProfile('huawei-sun2000');
  t.same(profile.defaults, { unit: 1, port: 502, timeoutMs: 15000, connectDelayMs: 2000 });
  const regs = image(3, {
    32064: [0x0000, 0x10e1],         // input power 4321 W
    32080: [0x0000, 0x0bb8],         // active power 3000 W
    32085: [0x138a],                 // 5002 / 100 = 50.02 Hz
    32087: [0xffc9],                 // -55 / 10 = -5.5 °C
    32089: [0x0200],                 // on-grid
    32106: [0x0045, 0xb352],         // 4567890 / 100 kWh = 45678.9 kWh
    37113: [0xffff, 0xfa24],         // -1500: Huawei < 0 = taking power from the grid
    37119: [0x0001, 0xe240],         // 123456 / 100 kWh fed in
    37121: [0x0001, 0x81cd],         // 98765 / 100 kWh taken from the grid
    37758: [0x0000, 0x3a98],         // 15000 Wh
    37760: [0x036b],                 // 875 / 10 = 87.5 %
    37762: [0x0002],                 // running
    37765: [0x0000, 0x09c4],         // +2500: Huawei > 0 = charging
    37780: [0xffff, 0xffff],         // U32 invalid
    47082: [0x0064],                 // 100 / 10 = 10 %
  });
  const values = decodeProfileValues(profile, lookupFromImage(regs));
  t.same(values, {
    pvPower: 4321,
    inverterPower: 3000,
    gridFrequency: 50.02,
    inverterTemperature: -5.5,
    inverterState: 0x0200,
    pvEnergy: 45_678_900,
    meterStatus: undefined,
    gridPower: 1500,
    gridExportEnergy: 1_234_560,
    gridImportEnergy: 987_650,
    batteryCapacity: 15000,
    batterySoc: 87.5,
    batteryStatus: 2,
    batteryPower: -2500,
    batteryChargeEnergy: undefined,
    batteryDischargeEnergy: undefined,
    batteryDischargeCutoffSoc: 10,
  });
});

t.test('Huawei SUN2000: export and discharge come out with the opposite signs; I32 invalid is undefined', async (t) => {
  const profile = await loadBuiltinProfile('huawei-sun2000');
  const values = decodeProfileValues(profile, lookupFromImage(image(3, {
    32064: [0x7fff, 0xffff],  // I32 invalid
    37113: [0x0000, 0x07d0],  // +2000: feeding in
    37765: [0xffff, 0xf830],  // -2000: discharging
    37760: [0xffff],          // U16 invalid
  })));
  t.equal(values.pvPower, undefined);
  t.equal(values.gridPower, -2000);
  t.equal(values.batteryPower, 2000);
  t.equal(values.batterySoc, undefined);
});

t.test('Huawei SUN2000: the end-of-discharge SoC is the only writable point, within 0..20 %', async (t) => {
  const profile = await loadBuiltinProfile('huawei-sun2000');
  t.same(encodeProfileWrite(profile, 'batteryDischargeCutoffSoc', 15), { fc: 3, address: 47082, words: [150] });
  t.throws(() => encodeProfileWrite(profile, 'batteryDischargeCutoffSoc', 25), { message: '25 is outside 0..20 for batteryDischargeCutoffSoc' });
  t.throws(() => encodeProfileWrite(profile, 'gridPower', 0), { message: 'point gridPower of profile huawei-sun2000 is not writable' });
  t.throws(() => encodeProfileWrite(profile, 'nope', 0), { message: 'profile huawei-sun2000 has no point nope' });
});

t.test('Sungrow SH-RT: input registers, low word first, signs and 0.1 kWh → Wh', async (t) => {
  const profile = await loadBuiltinProfile('sungrow-sh-rt');
  t.ok(profile.points.filter((p) => p.size === 2).every((p) => p.wordOrder === 'little'), 'every 32-bit point is low word first');
  t.ok(profile.points.filter((p) => p.access === 'r').every((p) => p.fc === 4), 'every reading is an input register');
  const regs = image(4, {
    4999: [0x0e0f],
    5016: [0x1170, 0x0001],   // 0x00011170 = 70000 W
    5213: [0xf448, 0xffff],   // -3000: Sungrow < 0 = charging
    5241: [0x1386],           // 4998 / 100 = 49.98 Hz
    13000: [0x0002],          // charging bit
    13002: [0x86a1, 0x0001],  // 100001 × 0.1 kWh
    13007: [0x0190, 0x0000],  // 400 W load
    13009: [0xfb50, 0xffff],  // -1200: Sungrow < 0 = importing
    13019: [0x0fa0],          // 400.0 V
    13022: [0x028f],          // 655 / 10 = 65.5 %
    13024: [0xfffb],          // -0.5 °C
    13026: [0x0010, 0x0000],  // 1.6 kWh
    13033: [0x0064, 0x0000],  // 100 W
    13036: [0xe240, 0x0001],  // 123456 × 0.1 kWh
    13040: [0x0000, 0x0000],
    13045: [0x0007, 0x0000],  // 0.7 kWh
  });
  const values = decodeProfileValues(profile, lookupFromImage(regs));
  t.same(values, {
    deviceTypeCode: 0x0e0f,
    pvPower: 70000,
    batteryPower: -3000,
    gridFrequency: 49.98,
    batteryRunningState: 2,
    pvEnergy: 10_000_100,
    loadPower: 400,
    gridPower: 1200,
    batteryVoltage: 400,
    batterySoc: 65.5,
    batteryTemperature: -0.5,
    batteryDischargeEnergy: 1600,
    inverterPower: 100,
    gridImportEnergy: 12_345_600,
    batteryChargeEnergy: 0,
    gridExportEnergy: 700,
    batteryMaxSoc: undefined,
    batteryMinSoc: undefined,
    batteryReserveSoc: undefined,
  });
  const exporting = decodeProfileValues(profile, lookupFromImage(image(4, { 13009: [0x0898, 0x0000], 5213: [0x0bb8, 0x0000] })));
  t.equal(exporting.gridPower, -2200, 'Sungrow export (+2200) is negative grid power');
  t.equal(exporting.batteryPower, 3000, 'Sungrow discharge (+3000) stays positive');
});
