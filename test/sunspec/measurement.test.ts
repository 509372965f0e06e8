import t from 'tap';
import { measurementOf, type DecodedHousehold, type PvSources } from '../../agent/devices/sunspec/measurement.js';

const all = () => true;
const opts = (sources: PvSources = {}, invertGrid = false) => ({ invertGrid, sources });

const decoded = (over: Partial<DecodedHousehold> = {}): DecodedHousehold => ({
  inverter: { id: 103, length: 50, values: { W: 2400, DCW: 2600, WH: 7_000_000 }, groups: [] },
  mppt: { id: 160, length: 48, values: {}, groups: [{ DCW: 1500, DCWH: 5_000_000 }, { DCW: 1000, DCWH: 3_000_000 }] },
  storage: { id: 124, length: 24, values: { ChaState: 55.5 }, groups: [] },
  battery: { id: 802, length: 62, values: { SoC: 55, W: -300 }, groups: [] },
  meter: { id: 203, length: 105, values: { W: -1200, TotWhImp: 4000, TotWhExp: 9000 }, groups: [] },
  ...over,
});

t.test('household values from SunSpec points, with the documented sources', async (t) => {
  const sources: PvSources = {};
  t.same(measurementOf(decoded(), all, opts(sources)), {
    acW: 2400, pvW: 2500, pvWh: 8_000_000, batteryW: -300, socPct: 55.5, gridW: -1200, gridImportWh: 4000, gridExportWh: 9000,
  });
  t.same(sources, { power: 'mppt', energy: 'mppt' }, 'the trackers of model 160 are preferred');
});

t.test('invertGrid flips the meter power and swaps its counters', async (t) => {
  const m = measurementOf(decoded(), all, opts({}, true));
  t.same([m.gridW, m.gridImportWh, m.gridExportWh], [1200, 9000, 4000]);
});

t.test('once chosen, a PV source is kept: a missing tracker makes PV missing, never another counter', async (t) => {
  const sources: PvSources = {};
  measurementOf(decoded(), all, opts(sources));
  const m = measurementOf(decoded(), (key) => key !== 'mppt.1.DCWH' && key !== 'mppt.1.DCW', opts(sources));
  t.equal(m.pvW, undefined);
  t.equal(m.pvWh, undefined, 'not the inverter WH, which would make the counter jump backwards');
  t.equal(m.acW, 2400);
});

t.test('a device whose trackers never report (not implemented) gets PV from the inverter, and keeps it', async (t) => {
  const sources: PvSources = {};
  const noTrackers = decoded({ mppt: { id: 160, length: 48, values: {}, groups: [{ DCW: undefined, DCWH: undefined }, { DCW: undefined, DCWH: undefined }] } });
  const first = measurementOf(noTrackers, all, opts(sources));
  t.same([first.pvW, first.pvWh], [2600, 7_000_000]);
  t.same(sources, { power: 'inverter-dc', energy: 'inverter' });
  const later = measurementOf(decoded(), all, opts(sources));
  t.same([later.pvW, later.pvWh], [2600, 7_000_000], 'trackers appearing later do not switch the source');
});

t.test('without model 160, PV comes from the inverter: DCW, else AC power', async (t) => {
  const noMppt = decoded();
  delete noMppt.mppt;
  t.same(measurementOf(noMppt, all, opts()).pvW, 2600);
  t.same(measurementOf(noMppt, (k) => k !== 'inverter.DCW', opts()).pvW, 2400);
  t.same(measurementOf(noMppt, all, opts()).pvWh, 7_000_000);
});

t.test('SoC from 124 ChaState, else 802 SoC; values not read are missing', async (t) => {
  t.equal(measurementOf(decoded(), (k) => k !== 'storage.ChaState', opts()).socPct, 55);
  const m = measurementOf(decoded(), (k) => !k.startsWith('meter.'), opts());
  t.same([m.gridW, m.gridImportWh, m.gridExportWh], [undefined, undefined, undefined]);
});
