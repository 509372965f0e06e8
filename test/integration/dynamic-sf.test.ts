/**
 * Fronius-style dynamic scale factors: the device picks a finer or coarser
 * W_SF as the power changes. Values must be exact at every power level, and
 * each value must be scaled with the SF read in the same request.
 */
import t from 'tap';
import { decodeModel } from '../../agent/devices/sunspec/decode.js';
import { modelDef } from '../../agent/devices/sunspec/registry.js';
import type { HouseholdState } from '../../agent/sim/physics/household.js';
import { renderHousehold } from '../../agent/sim/sunspec/image.js';
import { layoutFor } from '../../agent/sim/sunspec/layout.js';
import { expectedInverter, expectedMeter, INVERTER_ROLES, METER_ROLES, MINUTE, pointAddress, s16, startSim, sunspecDevice, tcpLink } from './helpers.js';

const HOUR = 60 * MINUTE;

t.test('values are exact while W_SF changes with the power', async (t) => {
  // A full battery at noon: the hybrid inverter exports all its PV (kW, SF 0); at night it covers the load (100s of W, finer SF).
  const s = await startSim(t, { transport: { kind: 'tcp', host: '127.0.0.1', port: 0 }, quirks: ['dynamic-sf'], initialSocPct: 100 });
  const link = tcpLink(t, 'tcp', s.sim.server.address().port);
  const inverter = sunspecDevice(link, 1, INVERTER_ROLES);
  const meter = sunspecDevice(link, 2, METER_ROLES);
  const wAddress = pointAddress(s.sim, 1, 103, 'W');
  const sfAddress = pointAddress(s.sim, 1, 103, 'W_SF');
  t.equal(sfAddress, wAddress + 1, 'W_SF follows W in model 103');

  const seen: number[] = [];
  let changes = 0;
  for (const step of [0, 2 * MINUTE, 7 * HOUR, 4 * HOUR, 5 * HOUR, 2 * HOUR]) {
    await s.clock.advance(step);
    const inv = await inverter.poll();
    const mtr = await meter.poll();
    const state = s.state();
    const when = new Date(state.timeMs).toISOString();
    t.strictSame(inv, expectedInverter(state), `inverter exact at ${when}`);
    t.strictSame(mtr, expectedMeter(state), `meter exact at ${when}`);
    // The raw registers, read in one request: W × 10^W_SF is the value the device means.
    const [w, sf] = (await link.read(1, 3, wAddress, 2)).map(s16) as [number, number];
    t.equal(Math.round(w * 10 ** sf), inv.acW, `raw W ${w} × 10^${sf} is the AC power at ${when}`);
    if (seen.length > 0 && seen.at(-1) !== sf) changes++;
    seen.push(sf);
  }
  t.ok(new Set(seen).size >= 2, `W_SF took several values (${seen.join(', ')})`);
  t.ok(changes >= 1, 'W_SF changed between two polls');
  t.ok(seen.includes(0) && seen.some((sf) => sf < 0), 'both a coarse (0) and a fine (< 0) SF were served');
});

t.test('every SF boundary renders and decodes exactly (power just below and above each step)', async (t) => {
  const s = await startSim(t, { transport: { kind: 'tcp', host: '127.0.0.1', port: 0 }, quirks: ['dynamic-sf'] });
  const base = s.state();
  const layout = layoutFor(['dynamic-sf'], true);
  const identity = { manufacturer: 'tonari', serialPrefix: 'SIM1', version: 'test' };
  const inverterDef = modelDef(103)!;
  const meterDef = modelDef(203)!;
  const batteryDef = modelDef(802)!;
  // 327.67 and 3276.7 W are where int16 needs the next SF; values that round up across them are the hard case.
  for (const w of [0, 1.4, 327.4, 327.5, 327.6, 327.7, 3276.4, 3276.6, 3276.8, 9999.6, -327.6, -3276.6, -3276.8]) {
    const state: HouseholdState = {
      ...base,
      inverter: { ...base.inverter, powerW: w },
      battery: { ...base.battery, powerW: 0 },
      meter: { ...base.meter, powerW: -w, phasePowerW: base.meter.phasePowerW.map(() => -w / base.meter.phasePowerW.length) },
    };
    let images;
    try {
      images = renderHousehold(state, s.sim.household.params, layout, identity);
    } catch (err) {
      t.fail(`rendering ${w} W throws: ${(err as Error).message}`);
      continue;
    }
    const inv = images.find((i) => i.unit === 1)!;
    const decode = (unit: typeof inv, id: number, def: typeof inverterDef) => {
      const m = unit.models.find((x) => x.id === id)!;
      const start = m.address - unit.baseAddress;
      return decodeModel(def, unit.words, start, unit.words[start + 1]!);
    };
    t.equal(decode(inv, 103, inverterDef).values.W, Math.round(w) + 0, `inverter W at ${w} W`);
    t.equal(decode(inv, 802, batteryDef).values.W, 0, `battery W at ${w} W`);
    const mtr = images.find((i) => i.unit === 2)!;
    t.equal(decode(mtr, 203, meterDef).values.W, Math.round(-w) + 0, `meter W at ${-w} W`);
  }
});
