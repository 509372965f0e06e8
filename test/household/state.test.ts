import t from 'tap';
import { buildHouseholdState } from '../../agent/household/state.js';
import type { DeviceSample } from '../../agent/household/quantities.js';

const NOW = 1_000_000;

const hybrid = (over: Partial<DeviceSample> = {}): DeviceSample => ({
  device: 'inverter',
  roles: ['pv', 'battery'],
  at: NOW - 500,
  ok: true,
  values: { pvW: 3000, acW: 2400, batteryW: -500, socPct: 55, pvWh: 12_000 },
  ...over,
});
const meter = (over: Partial<DeviceSample> = {}): DeviceSample => ({
  device: 'meter',
  roles: ['grid'],
  at: NOW - 200,
  ok: true,
  values: { gridW: -1800, gridImportWh: 5000, gridExportWh: 7000 },
  ...over,
});

t.test('combines a hybrid inverter and a meter into the household balance', async (t) => {
  const s = buildHouseholdState([hybrid(), meter()], NOW, 5000);
  t.same(s.pvW, { value: 3000, at: NOW - 500, quality: 'ok' });
  t.same(s.gridW, { value: -1800, at: NOW - 200, quality: 'ok' });
  t.same(s.batteryW, { value: -500, at: NOW - 500, quality: 'ok' });
  t.equal(s.socPct.value, 55);
  // load = inverter AC output (which already holds the battery) + grid
  t.same(s.loadW, { value: 600, at: NOW - 500, quality: 'ok' });
  t.equal(s.gridImportWh.value, 5000);
  t.equal(s.gridExportWh.value, 7000);
  t.equal(s.pvWh.value, 12_000);
});

t.test('without an AC reading the load is PV + battery + grid', async (t) => {
  const inv = hybrid({ values: { pvW: 3000, batteryW: -500, socPct: 55 } });
  t.equal(buildHouseholdState([inv, meter()], NOW, 5000).loadW.value, 700);
});

t.test('a value older than staleAfter is stale, not ok, and keeps its timestamp', async (t) => {
  const s = buildHouseholdState([hybrid({ at: NOW - 6000 }), meter()], NOW, 5000);
  t.equal(s.pvW.quality, 'stale');
  t.equal(s.pvW.at, NOW - 6000);
  t.equal(s.loadW.quality, 'stale', 'a derived value is stale when one of its parts is');
  t.equal(s.gridW.quality, 'ok');
});

t.test('a failed poll makes the device values stale', async (t) => {
  const s = buildHouseholdState([hybrid(), meter({ ok: false })], NOW, 5000);
  t.equal(s.gridW.quality, 'stale');
  t.match(s.gridW.reason, /meter failed/);
});

t.test('a missing value is missing, never zero, and spoils what is derived from it', async (t) => {
  const s = buildHouseholdState([hybrid({ values: { pvW: undefined, acW: undefined, batteryW: -500, socPct: 55 } }), meter()], NOW, 5000);
  t.equal(s.pvW.value, undefined);
  t.equal(s.pvW.quality, 'missing');
  t.equal(s.loadW.quality, 'missing');
  t.equal(s.batteryW.quality, 'ok');
});

t.test('a device never read is missing; a role nobody provides is missing', async (t) => {
  const s = buildHouseholdState([hybrid({ at: undefined, ok: false, values: {} })], NOW, 5000);
  t.equal(s.pvW.quality, 'missing');
  t.equal(s.gridW.quality, 'missing');
  t.equal(s.gridW.reason, 'no device provides it');
  t.equal(s.loadW.quality, 'missing', 'no load without a grid meter');
});

t.test('two PV inverters add up', async (t) => {
  const roof = hybrid({ device: 'roof', roles: ['pv'], values: { pvW: 1000, acW: 950 } });
  const garage = hybrid({ device: 'garage', roles: ['pv'], values: { pvW: 500, acW: 480 }, at: NOW - 900 });
  const s = buildHouseholdState([roof, garage, meter({ values: { gridW: 100 } })], NOW, 5000);
  t.equal(s.pvW.value, 1500);
  t.equal(s.pvW.at, NOW - 900);
  t.equal(s.loadW.value, 950 + 480 + 100);
});
