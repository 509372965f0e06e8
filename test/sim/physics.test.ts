import t from 'tap';
import fc from 'fast-check';
import { ManualClock } from '../../agent/core/clock.js';
import {
  SimulatedHousehold,
  TOKYO,
  feasibleBatteryPowerW,
  householdParams,
  initialHouseholdState,
  integrateSoc,
  localHourOfDay,
  loadProfileW,
  stepHousehold,
  sunPosition,
  type HouseholdParams,
  type HouseholdState,
} from '../../agent/sim/physics/index.js';

const HOUR = 3_600_000;
/** Local midnight in Tokyo (UTC+9) at the start of a date. */
const tokyoMidnight = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) - 9 * HOUR;

function runDay(params: HouseholdParams, startMs: number, seed: number, stepMs = 10_000, onStep?: (s: HouseholdState, prev: HouseholdState) => void) {
  let state = initialHouseholdState(params, startMs, seed);
  for (let now = startMs + stepMs; now <= startMs + 24 * HOUR; now += stepMs) {
    const next = stepHousehold(state, params, now, stepMs);
    onStep?.(next, state);
    state = next;
  }
  return state;
}

t.test('sun position: solstice declination and Tokyo noon elevation', async (t) => {
  const june = sunPosition(TOKYO.latitudeDeg, TOKYO.longitudeDeg, Date.UTC(2026, 5, 21, 2, 41));
  t.ok(Math.abs(june.declinationDeg - 23.44) < 0.3, `June declination ${june.declinationDeg}`);
  t.ok(Math.abs(june.elevationDeg - (90 - TOKYO.latitudeDeg + 23.44)) < 1, `June noon elevation ${june.elevationDeg}`);
  t.ok(Math.abs(june.azimuthDeg - 180) < 10, 'due south at solar noon');
  const dec = sunPosition(TOKYO.latitudeDeg, TOKYO.longitudeDeg, Date.UTC(2026, 11, 21, 2, 41));
  t.ok(Math.abs(dec.declinationDeg + 23.44) < 0.3, `December declination ${dec.declinationDeg}`);
  t.ok(Math.abs(dec.elevationDeg - (90 - TOKYO.latitudeDeg - 23.44)) < 1.5);
  t.ok(Math.abs(sunPosition(0, 0, Date.UTC(2026, 10, 3, 12)).equationOfTimeMin - 16.4) < 0.5, 'EoT near its November maximum');
  const morning = sunPosition(TOKYO.latitudeDeg, TOKYO.longitudeDeg, Date.UTC(2026, 5, 20, 22));
  t.ok(morning.azimuthDeg > 45 && morning.azimuthDeg < 100, 'morning sun in the east-northeast');
});

t.test('PV is zero at night, peaks near solar noon, June noon above December noon', async (t) => {
  const params = householdParams();
  const peakOf = (start: number) => {
    let peak = { w: 0, at: 0 };
    let nightSteps = 0;
    let nightPvW = 0;
    runDay(params, start, 1, 60_000, (s) => {
      if (s.sunElevationDeg < 0) {
        nightSteps += 1;
        nightPvW += Math.abs(s.inverter.powerW) + s.trackers.reduce((sum, tr) => sum + tr.powerW, 0);
      }
      if (s.inverter.powerW > peak.w) peak = { w: s.inverter.powerW, at: s.timeMs };
    });
    t.ok(nightSteps > 8 * 60, 'the day has a night');
    t.equal(nightPvW, 0, 'no PV with the sun below the horizon');
    return peak;
  };
  const june = peakOf(tokyoMidnight(2026, 6, 21));
  const dec = peakOf(tokyoMidnight(2026, 12, 21));
  // Tokyo solar noon: 12:00 − (139.65 − 135)·4 min − EoT ≈ 11:40 local.
  const juneLocal = localHourOfDay(june.at, 'Asia/Tokyo');
  t.ok(Math.abs(juneLocal - 11.67) < 0.5, `June peak at ${juneLocal.toFixed(2)} h local`);
  t.ok(Math.abs(localHourOfDay(dec.at, 'Asia/Tokyo') - 11.67) < 0.5);
  t.ok(june.w > dec.w, `June ${june.w.toFixed(0)} W > December ${dec.w.toFixed(0)} W`);
  t.ok(june.w <= 5000, 'never above the nameplate');
});

t.test('daily PV energy for 5 kWp in Tokyo on a clear June day is plausible', async (t) => {
  // Clear-sky global irradiation in Tokyo around the solstice is ~7.5–8.5 kWh/m²/day; a 20° south-facing
  // 5 kWp array with a performance ratio of 0.75–0.9 gives ~28–38 kWh. Assert 20–40 kWh as the plausible band.
  const state = runDay(householdParams(), tokyoMidnight(2026, 6, 21), 1);
  const kWh = state.inverter.energyWh / 1000;
  t.ok(kWh > 20 && kWh < 40, `PV ${kWh.toFixed(1)} kWh`);
  const dcWh = state.trackers.reduce((sum, tr) => sum + tr.energyWh, 0);
  t.ok(state.inverter.energyWh < dcWh, 'AC energy below DC energy (inverter losses)');
  t.ok(state.trackers.length === 2 && state.trackers[0]!.energyWh > state.trackers[1]!.energyWh, '60/40 split');
  const cloudy = runDay(householdParams({ pv: { cloudiness: 0.8 } }), tokyoMidnight(2026, 6, 21), 1);
  t.ok(cloudy.inverter.energyWh < 0.85 * state.inverter.energyWh, 'clouds reduce the yield');
});

t.test('tracker values are consistent: V·A = W, zero at night', async (t) => {
  const params = householdParams({ pv: { pvWp: 6000, trackers: [
    { share: 1, tiltDeg: 30, azimuthDeg: 90, vmpNominalV: 300 },
    { share: 1, tiltDeg: 30, azimuthDeg: 270, vmpNominalV: 300 },
    { share: 1, tiltDeg: 20, azimuthDeg: 180, vmpNominalV: 200 },
  ] } });
  const noon = tokyoMidnight(2026, 6, 21);
  let state = initialHouseholdState(params, noon, 3);
  let eastMorning = 0, westMorning = 0;
  for (let now = noon + 60_000; now <= noon + 24 * HOUR; now += 60_000) {
    state = stepHousehold(state, params, now, 60_000);
    for (const tr of state.trackers) {
      if (Math.abs(tr.voltageV * tr.currentA - tr.powerW) > 1e-6) t.fail('V·A != W');
      if (state.sunElevationDeg < 0 && (tr.voltageV !== 0 || tr.powerW !== 0)) t.fail('tracker live at night');
    }
    if (localHourOfDay(now, 'Asia/Tokyo') < 9) {
      eastMorning += state.trackers[0]!.powerW;
      westMorning += state.trackers[1]!.powerW;
    }
  }
  t.equal(state.trackers.length, 3);
  t.ok(eastMorning > 2 * westMorning, 'the east tracker produces more in the morning');
});

t.test('load: about 10 kWh/day, evening peak above midday and morning, local time', async (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const state = runDay(householdParams(), tokyoMidnight(2026, 3, 10), seed);
    const kWh = state.load.energyWh / 1000;
    t.ok(kWh > 8.5 && kWh < 11.5, `seed ${seed}: load ${kWh.toFixed(2)} kWh`);
  }
  const scaled = runDay(householdParams({ load: { dailyKWh: 20 } }), tokyoMidnight(2026, 3, 10), 1);
  t.ok(Math.abs(scaled.load.energyWh / 20_000 - 1) < 0.15, 'daily energy is configurable');
  const lp = householdParams().load;
  t.ok(loadProfileW(20, lp) > loadProfileW(12.5, lp), 'evening > midday');
  t.ok(loadProfileW(20, lp) > loadProfileW(7.5, lp), 'evening is the largest peak');
  t.ok(loadProfileW(7.5, lp) > 2 * loadProfileW(3, lp), 'a real morning peak');
  t.ok(Math.abs(loadProfileW(3, lp) - 200) < 15, 'base load ~200 W at night');
  t.equal(localHourOfDay(Date.UTC(2026, 5, 20, 15), 'Asia/Tokyo'), 0, 'UTC 15:00 is Tokyo midnight');
  t.equal(localHourOfDay(Date.UTC(2026, 5, 20, 15), 'Europe/Berlin'), 17, 'CEST in June');
  t.equal(localHourOfDay(Date.UTC(2026, 0, 20, 15), 'Europe/Berlin'), 16, 'CET in January');

  // With a noisy series, the evening hours still carry more than midday hours.
  let evening = 0, midday = 0;
  runDay(householdParams(), tokyoMidnight(2026, 3, 10), 9, 10_000, (s) => {
    const h = localHourOfDay(s.timeMs, 'Asia/Tokyo');
    if (h >= 19 && h < 21) evening += s.load.powerW;
    if (h >= 11 && h < 13) midday += s.load.powerW;
  });
  t.ok(evening > 1.5 * midday, `evening ${evening.toFixed(0)} vs midday ${midday.toFixed(0)}`);
});

t.test('battery: limits, reserve and round-trip efficiency', async (t) => {
  const b = householdParams().battery; // 10 kWh, 3 kW, RTE 0.9, reserve 10 %
  t.equal(feasibleBatteryPowerW(50, 5000, b, 1000), 3000, 'max discharge');
  t.equal(feasibleBatteryPowerW(50, -5000, b, 1000), -3000, 'max charge');
  t.equal(feasibleBatteryPowerW(10, 1000, b, 1000), 0, 'no discharge at reserve');
  t.equal(feasibleBatteryPowerW(100, -1000, b, 1000), 0, 'no charge when full');
  t.equal(feasibleBatteryPowerW(50, 1000, { ...b, capacityWh: 0 }, 1000), 0, 'no battery');
  const nearFull = feasibleBatteryPowerW(99.99, -3000, b, HOUR);
  t.ok(nearFull < 0 && nearFull > -2, 'clipped to the room left');
  t.equal(integrateSoc(99.99, nearFull, b, HOUR), 100);

  let soc = 50;
  soc = integrateSoc(soc, -1000, b, HOUR); // 1 kWh in from AC
  const gained = soc - 50;
  const back = (gained / 100) * b.capacityWh * Math.sqrt(0.9); // AC energy to discharge it again
  t.ok(Math.abs(back - 900) < 1e-6, `round trip gives back ${back} Wh of 1000`);
});

const stepSequence = fc.array(
  fc.record({
    dtMs: fc.integer({ min: 0, max: 15 * 60_000 }),
    control: fc.oneof(
      fc.constant({ mode: 'self-consumption' as const }),
      fc.constant({ mode: 'idle' as const }),
      fc.record({ mode: fc.constant('setpoint' as const), watts: fc.integer({ min: -8000, max: 8000 }) }),
    ),
  }),
  { minLength: 1, maxLength: 200 },
);

t.test('property: SoC in [reserve, 100], balance closes, counters never decrease', async (t) => {
  fc.assert(
    fc.property(
      stepSequence,
      fc.integer({ min: 0, max: 2 ** 31 }),
      fc.integer({ min: 0, max: 365 * 24 }),
      fc.double({ min: 0, max: 100, noNaN: true }),
      fc.constantFrom(0, 3000, 10_000),
      (steps, seed, startHour, startSoc, capacityWh) => {
        const base = householdParams({ battery: { capacityWh, reserveSocPct: 20 }, pv: { cloudiness: 0.5 } });
        let now = Date.UTC(2026, 0, 1) + startHour * HOUR;
        let state = initialHouseholdState(base, now, seed, startSoc);
        const floor = Math.min(20, state.battery.socPct);
        for (const step of steps) {
          now += step.dtMs;
          const next = stepHousehold(state, { ...base, batteryControl: step.control }, now, step.dtMs);
          const soc = next.battery.socPct;
          if (!(soc >= 0 && soc <= 100)) return false;
          if (soc < floor - 1e-9) return false; // never discharged below the reserve
          if (next.battery.powerW > 0 && state.battery.socPct <= 20) return false;
          const balance = next.load.powerW - next.inverter.powerW - next.battery.powerW - next.meter.powerW;
          if (Math.abs(balance) >= 1) return false;
          const phaseSum = next.meter.phasePowerW.reduce((a, b) => a + b, 0);
          if (Math.abs(phaseSum - next.meter.powerW) >= 1) return false;
          const counters = (s: HouseholdState) => [
            s.meter.importWh, s.meter.exportWh, s.inverter.energyWh, s.battery.chargedWh, s.battery.dischargedWh, s.load.energyWh,
            ...s.trackers.map((tr) => tr.energyWh),
          ];
          const before = counters(state);
          if (counters(next).some((v, i) => v < before[i]!)) return false;
          state = next;
        }
        return true;
      },
    ),
    { numRuns: 150 },
  );
  t.pass('property held');
});

t.test('same seed gives the same trajectory, a different seed a different one', async (t) => {
  const params = householdParams({ pv: { cloudiness: 0.6 } });
  const start = tokyoMidnight(2026, 5, 1);
  const trace = (seed: number) => {
    const out: number[] = [];
    runDay(params, start, seed, 60_000, (s) => out.push(s.meter.powerW, s.battery.socPct, s.inverter.frequencyHz));
    return out;
  };
  const a = trace(42);
  t.same(trace(42), a, 'identical for the same seed');
  const b = trace(43);
  t.not(JSON.stringify(b), JSON.stringify(a), 'different for another seed');
  t.ok(a.some((v, i) => Math.abs(v - b[i]!) > 1), 'and not just by rounding');
});

t.test('stepHousehold does not mutate its input', async (t) => {
  const params = householdParams();
  const s0 = initialHouseholdState(params, tokyoMidnight(2026, 6, 21) + 12 * HOUR, 1);
  const copy = structuredClone(s0);
  stepHousehold(s0, params, s0.timeMs + 1000, 1000);
  t.same(s0, copy);
  t.throws(() => stepHousehold(s0, params, s0.timeMs, -1), RangeError);
});

t.test('meter and inverter carry plausible grid values', async (t) => {
  const params = householdParams();
  const state = runDay(params, tokyoMidnight(2026, 6, 21), 1, 60_000);
  t.equal(state.meter.phasePowerW.length, 2, 'Japanese single-phase three-wire');
  t.ok(Math.abs(state.meter.frequencyHz - 50) < 0.2);
  t.ok(state.meter.phaseVoltageV.every((v) => v > 95 && v < 107));
  t.ok(Math.abs(state.inverter.voltageV - 202) < 12);
  const west = runDay(householdParams({ latitudeDeg: 34.69, longitudeDeg: 135.5, grid: { frequencyHz: 60, phases: 3 } }), tokyoMidnight(2026, 6, 21), 1, 60_000);
  t.ok(Math.abs(west.meter.frequencyHz - 60) < 0.2, '60 Hz in western Japan');
  t.equal(west.meter.phaseCurrentA.length, 3);
});

t.test('SimulatedHousehold steps itself on the injected clock', async (t) => {
  const clock = new ManualClock(tokyoMidnight(2026, 6, 21) + 12 * HOUR);
  const sim = new SimulatedHousehold({ clock, seed: 7, stepMs: 1000 });
  const seen: number[] = [];
  const off = sim.onStep((s) => seen.push(s.timeMs));
  const t0 = sim.state.timeMs;
  sim.start();
  await clock.advance(5000);
  t.equal(sim.state.timeMs, t0 + 5000);
  t.equal(seen.length, 5);
  t.ok(sim.state.inverter.powerW > 1000, 'producing at noon');

  sim.setBatteryControl({ mode: 'setpoint', watts: -2000 });
  await clock.advance(2000);
  t.equal(sim.state.battery.powerW, -2000, 'setpoint applied');
  off();
  sim.stop();
  await clock.advance(5000);
  t.equal(sim.state.timeMs, t0 + 7000, 'stopped');
  t.equal(clock.pending(), 0, 'no timer left behind');

  // A clock jump is caught up in bounded steps with the same result as stepping by hand.
  const jumpClock = new ManualClock(t0);
  const jumper = new SimulatedHousehold({ clock: jumpClock, seed: 7, stepMs: 1000, maxCatchUpSteps: 100 });
  await jumpClock.advance(HOUR);
  const caughtUp = jumper.advanceToNow();
  t.equal(caughtUp.timeMs, t0 + HOUR);
  const balance = caughtUp.load.powerW - caughtUp.inverter.powerW - caughtUp.battery.powerW - caughtUp.meter.powerW;
  t.ok(Math.abs(balance) < 1);
});
