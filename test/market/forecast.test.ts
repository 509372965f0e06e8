import t from 'tap';
import fc from 'fast-check';
import type { HouseholdState, Reading } from '../../agent/household/state.js';
import { planBattery, type BatterySpec, type EnergyStep } from '../../agent/market/battery-policy.js';
import { forecastSlots, type ForecastInput, type SlotForecast } from '../../agent/market/forecast.js';
import {
  EnergyHistory, HistoryFormatError, daylightHours, loadPriorW, pvPriorW, type EnergyExpectation, type HistoryJson,
} from '../../agent/market/history.js';

const MIN = 60_000;
const HALF_HOUR = 30 * MIN;
/** 2026-06-21 00:00 JST. */
const MIDNIGHT = Date.UTC(2026, 5, 20, 15, 0);
const at = (hour: number, minute = 0) => MIDNIGHT + hour * 3_600_000 + minute * MIN;

const ok = (value: number, when: number): Reading => ({ value, at: when, quality: 'ok' });
const stale = (value: number, when: number): Reading => ({ value, at: when, quality: 'stale', reason: 'last poll of inverter failed' });
const missing: Reading = { value: undefined, at: undefined, quality: 'missing', reason: 'battery not available from inverter' };

function state(now: number, values: { pvW?: Reading; loadW?: Reading; socPct?: Reading } = {}): HouseholdState {
  return {
    at: now,
    pvW: values.pvW ?? ok(0, now),
    loadW: values.loadW ?? ok(0, now),
    gridW: ok(0, now),
    batteryW: ok(0, now),
    socPct: values.socPct ?? ok(50, now),
    gridImportWh: ok(0, now),
    gridExportWh: ok(0, now),
    pvWh: ok(0, now),
  };
}

/**
 * A flat expectation: each half hour starting at `from` + i × 30 min has pv[i] and load[i]
 * Wh (0 outside the table), spread evenly inside the half hour.
 */
function table(from: number, pv: readonly number[], load: readonly number[]): EnergyExpectation {
  return {
    expectedWh(start: number, minutes: number) {
      let pvWh = 0;
      let loadWh = 0;
      const end = start + minutes * MIN;
      for (let i = 0; i < Math.max(pv.length, load.length); i++) {
        const a = Math.max(start, from + i * HALF_HOUR);
        const b = Math.min(end, from + (i + 1) * HALF_HOUR);
        if (b <= a) continue;
        pvWh += ((pv[i] ?? 0) * (b - a)) / HALF_HOUR;
        loadWh += ((load[i] ?? 0) * (b - a)) / HALF_HOUR;
      }
      return { pvWh, loadWh };
    },
  };
}

const slotsFrom = (start: number, count: number) => Array.from({ length: count }, (_, i) => start + i * HALF_HOUR);
const IDEAL: BatterySpec = { capacityWh: 10_000, reserveSocPct: 20, maxChargeW: 3000, maxDischargeW: 3000, roundTripEfficiency: 1 };

function forecast(input: Partial<ForecastInput> & Pick<ForecastInput, 'now' | 'slots' | 'expectation'>): SlotForecast[] {
  return forecastSlots({ slotMinutes: 30, household: state(input.now), ...input });
}

const surpluses = (f: readonly SlotForecast[]) => f.map((s) => s.surplusWh);

t.test('sunny noon: the surplus is offered less the 10 % margin; far slots take the history as it is', async (t) => {
  const now = at(9);
  const f = forecast({ now, slots: slotsFrom(at(12), 2), expectation: table(at(12), [1500, 1400], [300, 250]) });
  t.same(f.map((s) => [s.pvWh, s.loadWh, s.grossSurplusWh, s.surplusWh, s.backed]), [[1500, 300, 1200, 1080, true], [1400, 250, 1150, 1035, true]]);
  t.same(f[0]!.socEndPct, undefined, 'no battery');
  t.same(surpluses(forecast({ now, slots: slotsFrom(at(12), 1), expectation: table(at(12), [1500], [300]), policy: { safetyMarginPct: 0 } })), [1200]);
  t.same(surpluses(forecast({ now, slots: slotsFrom(at(12), 1), expectation: table(at(12), [1001], [0]), policy: { safetyMarginPct: 25 } })), [750], 'rounded down');
});

t.test('evening: a need is wanted whole (negative)', async (t) => {
  const f = forecast({ now: at(15), slots: slotsFrom(at(19), 3), expectation: table(at(19), [0, 0, 0], [600, 550, 400]) });
  t.same(surpluses(f), [-600, -550, -400]);
  t.ok(f.every((s) => s.backed));
});

t.test('the battery covers the evening need down to its reserve, and no further', async (t) => {
  // 10 kWh at 30 %: 1,000 Wh above the 20 % reserve.
  const f = forecast({
    now: at(18), household: state(at(18), { socPct: ok(30, at(18)) }), battery: IDEAL,
    slots: slotsFrom(at(19), 4), expectation: table(at(19), [0, 0, 0, 0], [600, 600, 600, 600]),
  });
  t.same(f.map((s) => [s.batteryWh, s.surplusWh, s.socEndPct]), [[600, 0, 24], [400, -200, 20], [0, -600, 20], [0, -600, 20]]);

  // With the default 90 % round trip, discharging loses √0.9: 1,000 Wh stored give 948 Wh.
  const lossy = forecast({
    now: at(18), household: state(at(18), { socPct: ok(30, at(18)) }), battery: { ...IDEAL, roundTripEfficiency: undefined },
    slots: slotsFrom(at(19), 2), expectation: table(at(19), [0, 0], [600, 600]),
  });
  t.same(surpluses(lossy), [0, -251]);
  t.same(lossy.map((s) => s.socEndPct), [23.7, 20]);

  // Discharge power limits too: 1,000 W is 500 Wh per half hour.
  const slow = forecast({
    now: at(18), household: state(at(18), { socPct: ok(90, at(18)) }), battery: { ...IDEAL, maxDischargeW: 1000 },
    slots: slotsFrom(at(19), 1), expectation: table(at(19), [0], [800]),
  });
  t.same(surpluses(slow), [-300]);
});

t.test('PV surplus charges the battery first; only what it cannot take is offered', async (t) => {
  const f = forecast({
    now: at(9), household: state(at(9), { socPct: ok(90, at(9)) }), battery: IDEAL,
    slots: slotsFrom(at(11), 3), expectation: table(at(11), [2000, 2000, 2000], [200, 200, 200]),
  });
  // 1,000 Wh of room: 1,000 of the first 1,800 go in (charge power 3 kW = 1,500 Wh per half hour is no limit here).
  t.same(f.map((s) => [s.batteryWh, s.grossSurplusWh, s.surplusWh, s.socEndPct]), [[-1000, 800, 720, 100], [0, 1800, 1620, 100], [0, 1800, 1620, 100]]);
  const sellFirst = forecast({
    now: at(9), household: state(at(9), { socPct: ok(90, at(9)) }), battery: IDEAL, policy: { pvSurplus: 'sell-first' },
    slots: slotsFrom(at(11), 1), expectation: table(at(11), [2000], [200]),
  });
  t.same(sellFirst.map((s) => [s.batteryWh, s.surplusWh, s.socEndPct]), [[0, 1620, 90]], 'sell-first: the battery is not counted on to charge');
  const slowCharge = forecast({
    now: at(9), household: state(at(9), { socPct: ok(20, at(9)) }), battery: { ...IDEAL, maxChargeW: 1000 },
    slots: slotsFrom(at(11), 1), expectation: table(at(11), [2000], [200]),
  });
  t.same(slowCharge.map((s) => [s.batteryWh, s.grossSurplusWh]), [[-500, 1300]], 'charge power limits what it absorbs');
});

t.test('battery energy is offered only with maySell, and only what the next PV refills', async (t) => {
  // A full battery at night, then a sunny slot with 3,000 Wh to spare.
  const base = {
    now: at(2), household: state(at(2), { socPct: ok(100, at(2)) }), battery: { ...IDEAL, maxDischargeW: 2000 },
    slots: slotsFrom(at(3), 2), expectation: table(at(3), [0, 3000], [0, 0]),
  };
  const never = forecast(base);
  t.same(never.map((s) => [s.batterySaleWh, s.surplusWh]), [[0, 0], [0, 2700]], 'maySell false: the battery is never offered');
  const may = forecast({ ...base, policy: { batteryMaySell: true } });
  // 2 kW for half an hour = 1,000 Wh; the sunny slot refills it, and offers that much less.
  t.same(may.map((s) => [s.batterySaleWh, s.batteryWh, s.surplusWh, s.socEndPct]), [[1000, 1000, 900, 90], [0, -1000, 1800, 100]]);

  // Without the sunny slot the sale would leave the battery emptier at the end: none.
  const noRefill = forecast({ ...base, slots: slotsFrom(at(3), 1), policy: { batteryMaySell: true } });
  t.same(noRefill.map((s) => s.batterySaleWh), [0]);

  // A sale that would make the household buy later is refused. At 30 % (1,000 Wh above the
  // reserve), 800 Wh are needed at 03:30: only 200 Wh may go, refilled at 04:00 (the battery
  // is full there either way, so its end state is unchanged).
  const needLater = forecast({
    ...base, household: state(at(2), { socPct: ok(30, at(2)) }), policy: { batteryMaySell: true },
    battery: { ...IDEAL, maxDischargeW: 2000, maxChargeW: undefined },
    slots: slotsFrom(at(3), 3), expectation: table(at(3), [0, 0, 9000], [0, 800, 0]),
  });
  t.same(needLater.map((s) => [s.batterySaleWh, s.surplusWh, s.socEndPct]), [[200, 180, 28], [0, 0, 20], [0, 900, 100]]);
  // If the battery would not be full at the end, the dip would remain: no sale.
  const notFull = forecast({
    ...base, household: state(at(2), { socPct: ok(30, at(2)) }), policy: { batteryMaySell: true },
    battery: { ...IDEAL, maxDischargeW: 2000, maxChargeW: undefined },
    slots: slotsFrom(at(3), 3), expectation: table(at(3), [0, 0, 3000], [0, 800, 0]),
  });
  t.same(notFull.map((s) => s.batterySaleWh), [0, 0, 0]);

  // No discharge power known: no battery sales.
  const unknownPower = forecast({ ...base, battery: { ...IDEAL, maxDischargeW: undefined }, policy: { batteryMaySell: true } });
  t.same(unknownPower.map((s) => s.batterySaleWh), [0, 0]);
});

t.test('stale or missing data: the near slots are not backed, the far ones still are; offline: none is', async (t) => {
  const now = at(12, 10);
  const expectation = table(at(12), [1000, 1000, 1000, 1000, 1000, 1000], [200, 200, 200, 200, 200, 200]);
  // 12:30 is the first open slot (gate 12:25); its middle is 35 minutes away, the next one's 65.
  const slots = slotsFrom(at(12, 30), 4);
  const fresh = forecast({ now, slots, expectation, household: state(now, { pvW: ok(2000, now), loadW: ok(200, now) }) });
  t.ok(fresh.every((s) => s.backed));
  const old = forecast({ now, slots, expectation, household: state(now, { pvW: stale(2000, now - 30_000), loadW: ok(200, now) }) });
  t.same(old.map((s) => s.backed), [false, true, true, true]);
  t.equal(old[0]!.reason, 'PV reading not current (stale: last poll of inverter failed, measured 30 s ago)');
  t.same(old.map((s) => s.surplusWh), [720, 720, 720, 720], 'unbacked slots still carry the history\'s numbers');
  const tooOld = forecast({ now, slots, expectation, household: state(now, { pvW: ok(2000, now - 5 * MIN), loadW: ok(200, now) }) });
  t.same(tooOld.map((s) => s.backed), [false, true, true, true], 'an ok reading older than maxDataAgeMs is not current either');
  t.equal(tooOld[0]!.reason, 'PV reading not current (measured 300 s ago)');
  const longer = forecast({ now, slots, expectation, household: state(now, { loadW: stale(200, now - 2 * MIN) }), policy: { nowcastMs: 2 * 3_600_000 } });
  t.same(longer.map((s) => s.backed), [false, false, false, true], 'a longer nowcast reaches further');
  t.match(longer[0]!.reason, /^load reading not current/);

  const offline = forecast({ now, slots, expectation, household: state(now, { pvW: stale(2000, now - 16 * MIN) }) });
  t.same(offline.map((s) => s.backed), [false, false, false, false], 'last measured over 15 minutes ago: offline, withdraw everything');
  const never = forecast({ now, slots, expectation, household: state(now, { loadW: missing }) });
  t.same(never.map((s) => s.backed), [false, false, false, false], 'never measured: the same');
  const consumer = forecast({ now, slots, expectation, hasPv: false, household: state(now, { pvW: missing, loadW: ok(400, now) }) });
  t.ok(consumer.every((s) => s.backed), 'a household without PV needs no PV reading');
  t.ok(consumer.every((s) => s.pvWh === 0 && s.surplusWh === -200));
});

t.test('battery state of charge unknown: slots that depend on it are not backed until the battery is full either way', async (t) => {
  const now = at(8);
  const f = forecast({
    now, battery: { ...IDEAL, maxChargeW: undefined }, household: state(now, { socPct: missing }),
    slots: slotsFrom(at(9), 6), expectation: table(at(9), [3000, 3000, 3000, 3000, 3000, 0], [0, 0, 0, 0, 0, 500]),
  });
  // From the reserve (2,000 Wh) it takes 8,000 Wh: full after the third slot (3,000 + 3,000 + 2,000).
  t.same(f.map((s) => s.backed), [false, false, false, true, true, true]);
  t.same(f.map((s) => s.surplusWh), [0, 0, 900, 2700, 2700, 0], 'the reported numbers are those from the reserve');
  t.match(f[0]!.reason, /battery state of charge not current \(missing: battery not available from inverter\)/);
});

t.test('nowcast: the near slot leans on the current measurement', async (t) => {
  const now = at(12, 10);
  const expectation = table(at(11, 30), [1000, 1000, 1000, 1000, 1000], [200, 200, 200, 200, 200]);
  // The expected PV around now is 2,000 W; measured 1,000 W: ratio 0.5.
  const f = forecast({ now, slots: slotsFrom(at(12, 30), 3), expectation, household: state(now, { pvW: ok(1000, now), loadW: ok(1400, now) }) });
  // Weights: slot 12:30 (middle 12:45): 1 − 35/60; 13:00: 1 − 65/60 → 0.
  const w = 1 - 35 / 60;
  t.same(f.map((s) => s.pvWh), [Math.round(1000 * (1 + w * (0.5 - 1))), 1000, 1000]);
  t.same(f.map((s) => s.loadWh), [Math.round(200 + w * (700 - 200)), 200, 200]);
  const recent = forecast({
    now, slots: slotsFrom(at(12, 30), 1), expectation, recent: { pvW: 2000, loadW: 400 },
    household: state(now, { pvW: ok(1000, now), loadW: ok(1400, now) }),
  });
  t.same(recent.map((s) => [s.pvWh, s.loadWh]), [[1000, Math.round(200 + w * (200 - 200))]], 'smoothed powers win over the instant reading');
  const stalePv = forecast({ now, slots: slotsFrom(at(12, 30), 1), expectation, household: state(now, { pvW: stale(0, now) }) });
  t.same(stalePv.map((s) => [s.pvWh, s.backed]), [[1000, false]], 'stale data is not blended in');
});

t.test('the lead-in before the first open slot moves the battery too', async (t) => {
  // At 18:10 with 1,100 Wh above the reserve; the 18:00 and 18:30 slots are closed. Load 600 Wh per half hour.
  const now = at(18, 10);
  const f = forecast({
    now, battery: IDEAL, household: state(now, { socPct: ok(31, now), loadW: ok(1200, now) }),
    slots: slotsFrom(at(19), 2), expectation: table(at(18), [0, 0, 0, 0], [600, 600, 600, 600]),
  });
  // 18:10–19:00 uses 1,000 Wh (the measured 1,200 W is the history's own level), 100 Wh are left for 19:00.
  t.same(surpluses(f), [-500, -600]);
});

t.test('property: offers never exceed PV surplus plus sellable battery energy; the reserve holds; integers', async (t) => {
  const arbInput = fc.record({
    pv: fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 1, maxLength: 30 }),
    load: fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 30, maxLength: 30 }),
    battery: fc.option(fc.record({
      capacityWh: fc.integer({ min: 1, max: 20_000 }),
      reserveSocPct: fc.integer({ min: 0, max: 100 }),
      maxChargeW: fc.option(fc.integer({ min: 1, max: 8000 }), { nil: undefined }),
      maxDischargeW: fc.option(fc.integer({ min: 1, max: 8000 }), { nil: undefined }),
      roundTripEfficiency: fc.option(fc.double({ min: 0.5, max: 1, noNaN: true }), { nil: undefined }),
    }), { nil: undefined }),
    soc: fc.double({ min: 0, max: 100, noNaN: true }),
    maySell: fc.boolean(),
    sellFirst: fc.boolean(),
    margin: fc.integer({ min: 0, max: 50 }),
  });
  fc.assert(fc.property(arbInput, (x) => {
    const n = x.pv.length;
    const now = at(0);
    const slots = slotsFrom(now, n);
    const run = (maySell: boolean) => forecast({
      now, slots, battery: x.battery, household: state(now, { socPct: ok(x.soc, now) }),
      expectation: table(now, x.pv, x.load.slice(0, n)),
      policy: { batteryMaySell: maySell, safetyMarginPct: x.margin, pvSurplus: x.sellFirst ? 'sell-first' : 'charge-first', nowcastMs: 1 },
    });
    const f = run(x.maySell);
    const eta = Math.sqrt(x.battery?.roundTripEfficiency ?? 0.9);
    const aboveReserve = x.battery ? Math.max(0, ((x.soc - x.battery.reserveSocPct) / 100) * x.battery.capacityWh) * eta : 0;
    let offered = 0;
    let pvSurplus = 0;
    for (const s of f) {
      for (const v of [s.pvWh, s.loadWh, s.surplusWh, s.grossSurplusWh, s.batteryWh, s.batterySaleWh]) if (!Number.isInteger(v)) return false;
      const own = Math.max(0, s.pvWh - s.loadWh);
      if (s.surplusWh > 0 && s.surplusWh > Math.floor((s.grossSurplusWh * (100 - x.margin)) / 100)) return false;
      if (!x.maySell && (s.batterySaleWh !== 0 || s.surplusWh > own)) return false;
      if (x.battery?.maxDischargeW !== undefined && s.surplusWh > own + (x.battery.maxDischargeW / 2)) return false;
      if (x.battery) {
        const floor = Math.min(x.battery.reserveSocPct, x.soc);
        if (s.socEndPct === undefined || s.socEndPct < floor - 0.05 || s.socEndPct > 100) return false;
      }
      offered += Math.max(0, s.surplusWh);
      pvSurplus += own;
    }
    if (offered > pvSurplus + aboveReserve + 1e-6) return false;
    if (x.maySell) {
      // Selling battery energy never makes the household buy more.
      const needs = (g: readonly SlotForecast[]) => g.reduce((sum, s) => sum + Math.min(0, s.surplusWh), 0);
      if (needs(f) !== needs(run(false))) return false;
    }
    return true;
  }), { numRuns: 300 });
});

t.test('property: the battery plan keeps the energy balance of every step', async (t) => {
  const arbStep = fc.record({ pvWh: fc.integer({ min: 0, max: 3000 }), loadWh: fc.integer({ min: 0, max: 3000 }) });
  fc.assert(fc.property(fc.array(arbStep, { minLength: 1, maxLength: 24 }), fc.double({ min: 0, max: 100, noNaN: true }), fc.boolean(), (raw, soc, maySell) => {
    const steps: EnergyStep[] = raw.map((s) => ({ ...s, hours: 0.5, tradable: true }));
    const plan = planBattery(steps, soc, { ...IDEAL, maxDischargeW: 2000 }, { maySell, pvSurplus: 'charge-first' });
    return plan.every((b, i) => {
      const s = steps[i]!;
      // PV + discharge + import = load + charge + export, sale aside.
      const balance = s.pvWh + b.dischargeWh + b.importWh - s.loadWh - b.chargeWh - b.exportWh;
      const soc0 = i === 0 ? soc : plan[i - 1]!.socEndPct;
      const stored = ((b.socEndPct - soc0) / 100) * IDEAL.capacityWh;
      return Math.abs(balance) < 1e-6 && Math.abs(stored - (b.chargeWh - b.dischargeWh - b.saleWh)) < 1e-6
        && b.chargeWh >= 0 && b.dischargeWh >= 0 && b.saleWh >= 0 && b.exportWh >= -1e-9 && b.importWh >= -1e-9;
    });
  }), { numRuns: 300 });
});

t.test('history: the prior before any data', async (t) => {
  // Tokyo: about 14.4 h of day at the June solstice, 9.6 h at the December one; 12 h at the equinox.
  const june = daylightHours(172, 35.68);
  const december = daylightHours(355, 35.68);
  t.ok(Math.abs(june.sunset - june.sunrise - 14.4) < 0.2, `june day ${june.sunset - june.sunrise}`);
  t.ok(Math.abs(december.sunset - december.sunrise - 9.6) < 0.2, `december day ${december.sunset - december.sunrise}`);
  t.same(daylightHours(172, undefined), { sunrise: 6, sunset: 18 });
  t.equal(pvPriorW(12, 80, 5000), 2000, 'no latitude: half-sine 6–18 peaking at 0.4 × peak');
  t.equal(pvPriorW(5.9, 80, 5000), 0);
  t.equal(pvPriorW(12, 80, 0), 0);

  const history = new EnergyHistory({ slotMinutes: 30, timeZone: 'Asia/Tokyo', pvPeakW: 5000 });
  let pv = 0;
  let load = 0;
  for (let i = 0; i < 48; i++) {
    const e = history.expectedWh(MIDNIGHT + i * HALF_HOUR, 30);
    pv += e.pvWh;
    load += e.loadWh;
  }
  // 0.4 × 5 kW × 12 h × 2/π ≈ 15.3 kWh: about 3.06 kWh per kWp, Japan's 1,098 kWh/kWp a year.
  t.ok(Math.abs(pv - (0.4 * 5000 * 12 * 2) / Math.PI) < 1, `pv ${pv}`);
  t.ok(Math.abs(load - 11_000) < 1e-6, `load ${load}`);
  const day = new EnergyHistory({ slotMinutes: 30, timeZone: 'Asia/Tokyo' });
  t.equal(day.expectedWh(at(12), 30).pvWh, 0, 'no PV peak: no PV prior');
  t.ok(loadPriorW(20) > 2 * loadPriorW(3), 'the evening peak stands out over the night');
  t.ok(loadPriorW(7.5) > 1.5 * loadPriorW(10), 'so does the morning');
  const a = day.expectedWh(at(19), 30).loadWh;
  t.ok(Math.abs(day.expectedWh(at(19), 15).loadWh + day.expectedWh(at(19, 15), 15).loadWh - a) < 1e-9, 'expectations add up over any split');
});

/** Feeds a constant PV and load for [from, to), one sample every `stepMs`. */
function feed(history: EnergyHistory, from: number, to: number, pvW: number, loadW: number, stepMs = 10_000): void {
  for (let now = from; now <= to; now += stepMs) history.observe(state(now, { pvW: ok(pvW, now), loadW: ok(loadW, now) }));
}

t.test('history: learns per slot of day from samples, blending out the prior', async (t) => {
  const history = new EnergyHistory({ slotMinutes: 30, timeZone: 'Asia/Tokyo', pvPeakW: 4000, alpha: 0.5 });
  const prior = history.expectedWh(at(12), 30);
  feed(history, at(12), at(12, 30) - 10_000, 3000, 500);
  t.same(history.profile('pv').n[24], 0, 'the slot is not closed until a reading at or after its end');
  history.observe(state(at(12, 30), { pvW: ok(3000, at(12, 30)), loadW: ok(500, at(12, 30)) }));
  const pv = history.profile('pv');
  t.equal(pv.n[24], 1);
  t.ok(Math.abs(pv.wh[24]! - 1500) < 1e-6, `learnt ${pv.wh[24]}`);
  t.ok(Math.abs(history.profile('load').wh[24]! - 250) < 1e-6);
  const e = history.expectedWh(at(12), 30);
  t.ok(Math.abs(e.pvWh - (prior.pvWh + 1500) / 2) < 1e-6, 'one observation: half prior, half learnt');
  // The next day at the same time: 1,000 W. n = 1 → weight max(0.5, 1/2).
  feed(history, at(36), at(36, 30) + 10_000, 1000, 500);
  t.ok(Math.abs(history.profile('pv').wh[24]! - 1000) < 1e-6);
  t.equal(history.profile('pv').n[24], 2);
  t.same(history.recentW(at(36, 30) + 10_000), { pvW: 1000, loadW: 500 });
  t.same(history.recentW(at(37)), { pvW: undefined, loadW: undefined }, 'recent power expires');
});

t.test('history: stale readings and long gaps are not integrated; thin coverage does not count', async (t) => {
  const history = new EnergyHistory({ slotMinutes: 30, timeZone: 'Asia/Tokyo' });
  // 12:00–12:10 ok, then stale until 12:30, then ok: 10 of 30 minutes covered → dropped.
  feed(history, at(12), at(12, 10), 2000, 400);
  for (let now = at(12, 10) + 10_000; now < at(12, 30); now += 10_000) history.observe(state(now, { pvW: stale(2000, at(12, 10)), loadW: stale(400, at(12, 10)) }));
  feed(history, at(12, 30), at(13), 1000, 400);
  history.observe(state(at(13) + 10_000, { pvW: ok(1000, at(13) + 10_000), loadW: ok(400, at(13) + 10_000) }));
  t.equal(history.profile('pv').n[24], 0, 'the 12:00 slot had too little coverage');
  t.equal(history.profile('pv').n[25], 1);
  t.ok(Math.abs(history.profile('pv').wh[25]! - 500) < 1e-6);

  // 14:00–14:20 every 5 minutes (gaps over 2 minutes): nothing integrated.
  const sparse = new EnergyHistory({ slotMinutes: 30, timeZone: 'Asia/Tokyo' });
  feed(sparse, at(14), at(14, 40), 1000, 400, 5 * MIN);
  t.same(sparse.profile('pv').n, new Array(48).fill(0));
  // A gap within a slot: the rest is scaled up to the whole slot.
  const gappy = new EnergyHistory({ slotMinutes: 30, timeZone: 'Asia/Tokyo' });
  feed(gappy, at(15), at(15, 10), 1200, 0);
  feed(gappy, at(15, 15), at(15, 30) + 10_000, 1200, 0);
  t.ok(Math.abs(gappy.profile('pv').wh[30]! - 600) < 1e-6, `scaled ${gappy.profile('pv').wh[30]}`);
  // Readings whose measurement time does not move are not integrated twice.
  const repeated = new EnergyHistory({ slotMinutes: 30, timeZone: 'Asia/Tokyo' });
  for (let now = at(16); now <= at(16, 30) + 10_000; now += 1000) {
    const measured = now - (now % 10_000);
    repeated.observe(state(now, { pvW: ok(800, measured), loadW: ok(0, measured) }));
  }
  t.ok(Math.abs(repeated.profile('pv').wh[32]! - 400) < 1e-6);
});

t.test('history: trapezoids split at slot boundaries', async (t) => {
  const history = new EnergyHistory({ slotMinutes: 15, timeZone: 'Asia/Tokyo', maxGapMs: 15 * MIN });
  // 0 W at 12:10, 2,000 W at 12:20: 1,000 W at 12:15. 12:10–12:15: 41.67 Wh; 12:15–12:20: 125 Wh.
  history.observe(state(at(12, 10), { pvW: ok(0, at(12, 10)) }));
  history.observe(state(at(12, 20), { pvW: ok(2000, at(12, 20)) }));
  history.observe(state(at(12, 30), { pvW: ok(2000, at(12, 30)) }));
  history.observe(state(at(12, 45), { pvW: ok(2000, at(12, 45)) }));
  const pv = history.profile('pv');
  t.equal(pv.n[48], 0, '12:00–12:15 covered only a third');
  t.ok(Math.abs(pv.wh[49]! - (125 + 333.333333)) < 1e-3, `12:15 ${pv.wh[49]}`);
  t.ok(Math.abs(pv.wh[50]! - 500) < 1e-6);
});

t.test('history: JSON round trip, validation, re-bucketing', async (t) => {
  const history = new EnergyHistory({ slotMinutes: 30, timeZone: 'Asia/Tokyo' });
  feed(history, at(12), at(13) + 10_000, 1000, 300);
  const json = JSON.parse(JSON.stringify(history)) as HistoryJson;
  t.equal(json.version, 1);
  t.equal(json.pv.wh.length, 48);
  const back = EnergyHistory.fromJSON(json, { slotMinutes: 30, timeZone: 'Asia/Tokyo' });
  t.same(back.toJSON(), history.toJSON());
  t.ok(Math.abs(back.expectedWh(at(12), 60).pvWh - history.expectedWh(at(12), 60).pvWh) < 0.1);

  const quarter = EnergyHistory.fromJSON(json, { slotMinutes: 15, timeZone: 'Asia/Tokyo' });
  t.same(quarter.profile('pv').wh.slice(48, 52), [250, 250, 250, 250]);
  t.same(quarter.profile('pv').n.slice(47, 53), [0, 1, 1, 1, 1, 0]);
  const hourly = EnergyHistory.fromJSON(json, { slotMinutes: 60, timeZone: 'Asia/Tokyo' });
  t.same(hourly.profile('pv').wh[12], 1000);
  t.same(hourly.profile('pv').n.slice(11, 14), [0, 1, 0]);

  const bad: [unknown, RegExp][] = [
    [null, /expected an object/],
    [{ ...json, version: 2 }, /expected version 1, got 2/],
    [{ ...json, slotMinutes: 20 }, /expected slotMinutes 15, 30 or 60/],
    [{ ...json, pv: { ...json.pv, wh: json.pv.wh.slice(1) } }, /pv\.wh to be a list of 48 numbers/],
    [{ ...json, load: { ...json.load, n: json.load.n.map((v, i) => (i === 3 ? -1 : v)) } }, /load\.n\[3\] is not a count/],
    [{ ...json, pv: { ...json.pv, wh: json.pv.wh.map((v, i) => (i === 5 ? Number.NaN : v)) } }, /pv\.wh\[5\] is not an energy/],
    [{ ...json, pv: 'lots' }, /expected pv to be an object/],
  ];
  for (const [value, message] of bad) {
    t.throws(() => EnergyHistory.fromJSON(value, { slotMinutes: 30, timeZone: 'Asia/Tokyo' }), message);
    t.throws(() => EnergyHistory.fromJSON(value, { slotMinutes: 30, timeZone: 'Asia/Tokyo' }), HistoryFormatError);
  }
  t.ok(JSON.stringify(history).length < 2000, 'bounded size');
});

t.test('history drives the forecast end to end', async (t) => {
  const history = new EnergyHistory({ slotMinutes: 30, timeZone: 'Asia/Tokyo', pvPeakW: 5000, latitudeDeg: 35.68 });
  const now = at(9);
  const f = forecastSlots({
    now, slots: slotsFrom(at(12), 2), slotMinutes: 30, expectation: history, recent: history.recentW(now),
    household: state(now, { pvW: ok(1500, now), loadW: ok(300, now) }),
  });
  t.ok(f[0]!.surplusWh > 0, 'a sunny June noon has a surplus from the prior alone');
  t.ok(f.every((s) => s.backed));
});
