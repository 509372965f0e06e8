/**
 * The slot forecast: for each open slot, how much energy this household can offer (a
 * surplus, positive Wh) or wants (a need, negative Wh). Pure: the caller passes `now`,
 * the slot starts (the slot calendar is slots.ts's business), the household state, the
 * history and the battery.
 *
 * Per slot, in order:
 *
 * 1. Expected PV and load energy from the history (its prior before it has any).
 * 2. Nowcast for the near slots. The weight of the present is
 *      w = clamp(1 − (slot middle − now) / nowcastMs, 0, 1)
 *    (with the default hour: ≈ 0.67 for a 30-minute slot starting in 5 minutes, ≈ 0.17
 *    for the one after, 0 beyond). Load: (1 − w) × history + w × current power × slot
 *    length. PV: the history scaled by the ratio of current PV to the history's PV
 *    around now, k = clamp(current / expected, 0, 2), as history × (1 + w × (k − 1)),
 *    which keeps the shape of the day (afternoon PV still falls); when the history
 *    expects under 100 W now (dawn, dusk, no history) it blends like the load does.
 *    "Current power" is `recent` (the history's smoothed power) when given, else the
 *    household state's reading. PV and load are then rounded to whole Wh.
 * 3. The battery, simulated forward from the current state of charge through every
 *    step from `now` (the time before the first open slot included), with the policy
 *    of battery-policy.ts: self-consumption first, PV surplus charges it first
 *    (unless `pvSurplus: 'sell-first'`), the reserve is never touched, and battery
 *    energy is offered only with `batteryMaySell` (and then only what tomorrow's PV
 *    refills without the home buying more).
 * 4. What is left: a surplus (PV export plus any battery sale) is offered less the
 *    safety margin, floor(surplus × (100 − safetyMarginPct) / 100); a need is wanted
 *    whole, floor(import). Integers, never more than the expectation.
 *
 * Backing. A slot is `backed: false` (the agent must not hold an order for it) when
 * - it is near (w > 0) and the PV or load reading is not current: not `ok`, or measured
 *   more than `maxDataAgeMs` before `now` (a household without PV, `hasPv: false`,
 *   needs only the load);
 * - the PV or load reading is not current and was last measured more than
 *   `offlineAfterMs` before `now`, or never: the device is offline, every slot is
 *   unbacked (a short outage withdraws only the near slots, a long one everything);
 * - the household has a battery whose state of charge is not current, and the slot's
 *   result depends on it: the simulation is run from the reserve and from 100 %, and a
 *   slot is unbacked where the two disagree (they agree again once the battery has been
 *   full or empty in both). The numbers reported are those from the reserve, the lower
 *   bound for what can be sold.
 */
import type { MarketConfig } from '../config/schema.js';
import type { HouseholdState, Reading } from '../household/state.js';
import { planBattery, type BatteryPolicy, type BatterySpec, type BatteryStep, type EnergyStep, type PvSurplusPolicy } from './battery-policy.js';
import type { EnergyExpectation } from './history.js';
import type { SlotStart } from './types.js';

export interface ForecastPolicy {
  /** Taken off every surplus before it is offered, %. Default 10. */
  safetyMarginPct: number;
  /** Whether battery energy may be offered (config market.battery.maySell). Default false. */
  batteryMaySell: boolean;
  /** What PV surplus does first. Default 'charge-first' (see battery-policy.ts). */
  pvSurplus: PvSurplusPolicy;
  /** How far ahead the current measurements count (step 2). Default 1 hour. */
  nowcastMs: number;
  /** A reading measured longer ago than this is not current, whatever its quality. Default 1 minute. */
  maxDataAgeMs: number;
  /**
   * PV or load data not current and last measured longer ago than this (or never):
   * the device is taken as offline and every slot is unbacked, not only the near ones.
   * Default 15 minutes.
   */
  offlineAfterMs: number;
}

export const DEFAULT_FORECAST_POLICY: ForecastPolicy = {
  safetyMarginPct: 10,
  batteryMaySell: false,
  pvSurplus: 'charge-first',
  nowcastMs: 3_600_000,
  maxDataAgeMs: 60_000,
  offlineAfterMs: 900_000,
};

export interface ForecastInput {
  now: number;
  /** Start instants of the slots to forecast, ascending, all after `now`. */
  slots: readonly SlotStart[];
  /** Nominal slot length. */
  slotMinutes: number;
  household: HouseholdState;
  /** Expected PV and load (an EnergyHistory). */
  expectation: EnergyExpectation;
  /** Smoothed current power (EnergyHistory.recentW); falls back to the state's readings. */
  recent?: { pvW?: number | undefined; loadW?: number | undefined } | undefined;
  /** False for a household without PV: PV is 0 and no PV reading is needed. Default true. */
  hasPv?: boolean | undefined;
  /** The home battery; undefined: none. A household that has one must pass it (see batteryFromConfig). */
  battery?: BatterySpec | undefined;
  policy?: Partial<ForecastPolicy> | undefined;
}

export interface SlotForecast {
  slot: SlotStart;
  /** Expected PV energy in the slot, Wh (after the nowcast). */
  pvWh: number;
  /** Expected load energy in the slot, Wh (after the nowcast). */
  loadWh: number;
  /** Battery AC energy: positive out of it (for the home or for sale), negative into it. Wh. */
  batteryWh: number;
  /** Part of the offer that comes out of the battery, Wh (0 unless batteryMaySell). */
  batterySaleWh: number;
  /** What could be sold before the safety margin (export + battery sale), Wh >= 0. */
  grossSurplusWh: number;
  /**
   * The result: > 0 can be sold (after the safety margin), < 0 is wanted, 0 neither.
   * Integer Wh.
   */
  surplusWh: number;
  /** Simulated state of charge at the end of the slot, %; undefined without a battery. */
  socEndPct: number | undefined;
  /** False: the forecast rests on data the agent does not have; hold no order for this slot. */
  backed: boolean;
  /** Why it is not backed. */
  reason?: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Below this expected PV power now, PV is nowcast by blending, not by ratio. */
const RATIO_MIN_EXPECTED_W = 100;
const MAX_PV_RATIO = 2;

interface Step extends EnergyStep {
  start: number;
  /** Index into input.slots, or -1 for a lead-in or gap step. */
  slotIndex: number;
}

/** Why a reading is not current, or undefined when it is. */
function current(reading: Reading, now: number, maxAgeMs: number): string | undefined {
  const age = reading.at === undefined ? '' : `, measured ${Math.round((now - reading.at) / 1000)} s ago`;
  if (reading.quality !== 'ok' || reading.value === undefined || reading.at === undefined) {
    return `${reading.quality === 'ok' ? 'no value' : reading.quality}${reading.reason ? `: ${reading.reason}` : ''}${age}`;
  }
  if (now - reading.at > maxAgeMs) return `measured ${Math.round((now - reading.at) / 1000)} s ago`;
  return undefined;
}

/** Whether a reading that is not current has been so for longer than `limitMs` (or was never read). */
function offline(reading: Reading, now: number, limitMs: number): boolean {
  return reading.at === undefined || now - reading.at > limitMs;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export function forecastSlots(input: ForecastInput): SlotForecast[] {
  const policy: ForecastPolicy = { ...DEFAULT_FORECAST_POLICY, ...input.policy };
  const { now, household, expectation } = input;
  const minutes = input.slotMinutes;
  const slotMs = minutes * MINUTE_MS;
  const hasPv = input.hasPv ?? true;
  const marginPct = clamp(policy.safetyMarginPct, 0, 100);

  const pvProblem = hasPv ? current(household.pvW, now, policy.maxDataAgeMs) : undefined;
  const loadProblem = current(household.loadW, now, policy.maxDataAgeMs);
  const dataProblem = pvProblem ? `PV reading not current (${pvProblem})`
    : loadProblem ? `load reading not current (${loadProblem})` : undefined;
  const isOffline = (pvProblem !== undefined && offline(household.pvW, now, policy.offlineAfterMs))
    || (loadProblem !== undefined && offline(household.loadW, now, policy.offlineAfterMs));
  const pvNowW = hasPv ? input.recent?.pvW ?? household.pvW.value ?? 0 : 0;
  const loadNowW = input.recent?.loadW ?? household.loadW.value ?? 0;
  const around = expectation.expectedWh(now - slotMs / 2, minutes);
  const expectedPvNowW = hasPv ? around.pvWh / (minutes / 60) : 0;
  const pvRatio = expectedPvNowW >= RATIO_MIN_EXPECTED_W ? clamp(pvNowW / expectedPvNowW, 0, MAX_PV_RATIO) : undefined;

  const nowcast = (start: number, end: number): { pvWh: number; loadWh: number } => {
    const expected = expectation.expectedWh(start, (end - start) / MINUTE_MS);
    const hours = (end - start) / HOUR_MS;
    const weight = dataProblem ? 0 : clamp(1 - ((start + end) / 2 - now) / policy.nowcastMs, 0, 1);
    const pvHist = hasPv ? Math.max(0, expected.pvWh) : 0;
    const pv = pvRatio !== undefined ? pvHist * (1 + weight * (pvRatio - 1)) : pvHist + weight * (Math.max(0, pvNowW) * hours - pvHist);
    const load = expected.loadWh + weight * (Math.max(0, loadNowW) * hours - expected.loadWh);
    return { pvWh: Math.max(0, Math.round(pv)), loadWh: Math.max(0, Math.round(load)) };
  };

  // Steps: the lead-in from now to the first slot (cut at slot-length boundaries), the
  // slots, and any gap between two slots that do not follow each other.
  const steps: Step[] = [];
  const near: boolean[] = [];
  const addFiller = (from: number, to: number) => {
    let t = from;
    while (t < to) {
      const phase = ((((to - t) % slotMs) + slotMs) % slotMs) || slotMs;
      const end = Math.min(to, t + phase);
      const e = nowcast(t, end);
      steps.push({ start: t, pvWh: e.pvWh, loadWh: e.loadWh, hours: (end - t) / HOUR_MS, tradable: false, slotIndex: -1 });
      t = end;
    }
  };
  let cursor = now;
  input.slots.forEach((slot, i) => {
    if (slot > cursor) addFiller(cursor, slot);
    const e = nowcast(slot, slot + slotMs);
    steps.push({ start: slot, pvWh: e.pvWh, loadWh: e.loadWh, hours: minutes / 60, tradable: true, slotIndex: i });
    near[i] = clamp(1 - (slot + slotMs / 2 - now) / policy.nowcastMs, 0, 1) > 0;
    cursor = Math.max(cursor, slot + slotMs);
  });

  const batteryPolicy: BatteryPolicy = { maySell: policy.batteryMaySell, pvSurplus: policy.pvSurplus };
  const battery = input.battery && input.battery.capacityWh > 0 ? input.battery : undefined;
  const socProblem = battery ? current(household.socPct, now, policy.maxDataAgeMs) : undefined;
  let plan: BatteryStep[];
  let other: BatteryStep[] | undefined;
  if (!battery) plan = planBattery(steps, 0, undefined, batteryPolicy);
  else if (!socProblem) plan = planBattery(steps, household.socPct.value as number, battery, batteryPolicy);
  else {
    plan = planBattery(steps, battery.reserveSocPct, battery, batteryPolicy);
    other = planBattery(steps, 100, battery, batteryPolicy);
  }

  const result = (b: BatteryStep) => {
    const gross = Math.max(0, Math.floor(b.exportWh + b.saleWh + 1e-6));
    const sell = Math.floor((gross * (100 - marginPct)) / 100);
    const need = Math.floor(b.importWh + 1e-6);
    return { gross, surplus: sell > 0 ? sell : need > 0 ? -need : 0 };
  };

  const out: SlotForecast[] = [];
  steps.forEach((step, k) => {
    if (step.slotIndex < 0) return;
    const b = plan[k]!;
    const { gross, surplus } = result(b);
    let reason: string | undefined;
    if ((near[step.slotIndex] || isOffline) && dataProblem) reason = dataProblem;
    else if (other && result(other[k]!).surplus !== surplus) reason = `battery state of charge not current (${socProblem})`;
    const forecast: SlotForecast = {
      slot: step.start,
      pvWh: step.pvWh,
      loadWh: step.loadWh,
      batteryWh: Math.round(b.dischargeWh + b.saleWh - b.chargeWh),
      batterySaleWh: Math.floor(b.saleWh + 1e-6),
      grossSurplusWh: gross,
      surplusWh: surplus,
      socEndPct: battery ? Math.round(b.socEndPct * 10) / 10 : undefined,
      backed: reason === undefined,
    };
    if (reason !== undefined) forecast.reason = reason;
    out.push(forecast);
  });
  return out;
}

/**
 * The battery spec from the market config, falling back to what the devices report for
 * the capacity and the power. No capacity anywhere (or 0): no battery. A household that
 * has a battery of unknown capacity must not trade on a forecast without it: PV surplus
 * would be offered that the battery then absorbs.
 */
export function batteryFromConfig(
  config: MarketConfig['battery'], devices: { capacityWh?: number | undefined; maxPowerW?: number | undefined } = {},
): BatterySpec | undefined {
  const capacityWh = config.capacityWh ?? devices.capacityWh;
  if (capacityWh === undefined || !(capacityWh > 0)) return undefined;
  const maxPowerW = config.maxPowerW ?? devices.maxPowerW;
  return { capacityWh, reserveSocPct: config.reserveSocPct, maxChargeW: maxPowerW, maxDischargeW: maxPowerW };
}

/** The forecast policy from the market config (nowcast and data age at their defaults). */
export function forecastPolicyFromConfig(config: MarketConfig): ForecastPolicy {
  return { ...DEFAULT_FORECAST_POLICY, safetyMarginPct: config.safetyMarginPct, batteryMaySell: config.battery.maySell };
}
