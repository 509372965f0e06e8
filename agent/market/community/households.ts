/**
 * The simulated community's households and weather, all drawn from one seed
 * (`tonari simulate --households N`). Pure and reproducible: the same seed gives the same
 * households, the same weather and the same per-slot PV and load energies.
 *
 * - PV: 70 % of households have PV of 3–6 kWp; the rest are consumers only (the buyers a
 *   neighbourhood market needs at midday).
 * - Battery: 40 % of PV households have 5–10 kWh usable (reserve 20 %, 3 kW, η 0.9).
 * - Load: 8–14 kWh a day per household, with the morning and evening peaks of the
 *   history's load prior (history.ts loadPriorW), a per-day factor 0.85–1.15 and per-slot
 *   noise ±30 %.
 * - Weather: per day a community clearness (60 % sunny 0.8–1.0, 25 % cloudy 0.4–0.7, 15 %
 *   rainy 0.1–0.3), per slot a community cloud factor 0.7–1.0 on cloudy days and a
 *   household factor 0.9–1.0. Clear-sky PV is 0.75 × kWp on the half-sine of the day
 *   (sunrise and sunset as history.ts, at the community's latitude).
 */
import { loadPriorW, pvPriorW, PV_PRIOR_PEAK_SHARE } from '../history.js';
import { utcOffsetMinutes } from '../slots.js';
import type { BatterySpec } from '../battery-policy.js';

/** mulberry32: a small, fast, seedable PRNG; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed derived from a seed and labels (FNV-1a), so every stream is independent of the others' draws. */
export function subSeed(seed: number, ...labels: (string | number)[]): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const ch of labels.join('/')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export interface HouseholdSpec {
  index: number;
  /** PV peak power, W; 0 for a household without PV. */
  pvPeakW: number;
  /** Mean daily load, Wh. */
  dailyLoadWh: number;
  battery: BatterySpec | undefined;
}

export interface CommunitySpec {
  seed: number;
  households: HouseholdSpec[];
  timeZone: string;
  latitudeDeg: number;
}

export const PV_SHARE = 0.7;
export const BATTERY_SHARE_OF_PV = 0.4;
const CLEAR_SKY_SHARE = 0.75;

export function makeHouseholds(n: number, seed: number): HouseholdSpec[] {
  return Array.from({ length: n }, (_, index) => {
    const r = seededRandom(subSeed(seed, 'household', index));
    const hasPv = r() < PV_SHARE;
    const pvPeakW = hasPv ? Math.round(3000 + r() * 3000) : 0;
    const hasBattery = hasPv && r() < BATTERY_SHARE_OF_PV;
    const capacityWh = Math.round(5000 + r() * 5000);
    const dailyLoadWh = Math.round(8000 + r() * 6000);
    const battery: BatterySpec | undefined = hasBattery
      ? { capacityWh, reserveSocPct: 20, maxChargeW: 3000, maxDischargeW: 3000, roundTripEfficiency: 0.9 }
      : undefined;
    return { index, pvPeakW, dailyLoadWh, battery };
  });
}

/** The community's clearness of one day, 0–1. */
export function dayClearness(seed: number, day: number): { clearness: number; cloudy: boolean } {
  const r = seededRandom(subSeed(seed, 'weather', day));
  const kind = r();
  if (kind < 0.6) return { clearness: 0.8 + r() * 0.2, cloudy: false };
  if (kind < 0.85) return { clearness: 0.4 + r() * 0.3, cloudy: true };
  return { clearness: 0.1 + r() * 0.2, cloudy: true };
}

const DAY_MS = 86_400_000;
const SAMPLES = 6;

function dayOfYear(localMs: number): number {
  const d = new Date(localMs);
  return Math.floor((localMs - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
}

/** True PV and load energy, Wh (integers), of every household in one slot. */
export interface SlotEnergy {
  pvWh: number[];
  loadWh: number[];
}

/**
 * The energies of the slot [slot, slot + slotMinutes) for every household. `day` numbers the
 * simulated day (for the weather); the randomness is drawn from streams keyed by the slot,
 * so the result does not depend on what was asked before.
 */
export function slotEnergy(spec: CommunitySpec, slot: number, slotMinutes: number, day: number): SlotEnergy {
  const offsetMs = utcOffsetMinutes(slot, spec.timeZone) * 60_000;
  const local = slot + offsetMs;
  const doy = dayOfYear(local);
  const startHour = (((local % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000;
  const hours = slotMinutes / 60;
  const weather = dayClearness(spec.seed, day);
  const shared = seededRandom(subSeed(spec.seed, 'cloud', slot));
  const cloud = weather.cloudy ? 0.7 + shared() * 0.3 : 1;
  let clearPvPerW = 0;
  let loadShare = 0;
  for (let k = 0; k < SAMPLES; k++) {
    const h = startHour + ((k + 0.5) / SAMPLES) * hours;
    clearPvPerW += (pvPriorW(h, doy, 1, spec.latitudeDeg) / PV_PRIOR_PEAK_SHARE) * CLEAR_SKY_SHARE;
    loadShare += loadPriorW(h % 24, 1);
  }
  clearPvPerW /= SAMPLES;
  loadShare /= SAMPLES;
  const pvWh: number[] = [];
  const loadWh: number[] = [];
  for (const h of spec.households) {
    const r = seededRandom(subSeed(spec.seed, 'slot', h.index, slot));
    const dayFactor = 0.85 + seededRandom(subSeed(spec.seed, 'day-load', h.index, day))() * 0.3;
    const own = 0.9 + r() * 0.1;
    const noise = 0.7 + r() * 0.6;
    pvWh.push(Math.round(clearPvPerW * h.pvPeakW * weather.clearness * cloud * own * hours));
    loadWh.push(Math.round(loadShare * h.dailyLoadWh * dayFactor * noise * hours));
  }
  return { pvWh, loadWh };
}
