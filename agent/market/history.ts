/**
 * What this household usually produces and uses at each time of day: an exponentially
 * weighted profile of PV and load energy per slot of the local day (48 buckets for
 * 30-minute slots, 96 for 15, 24 for 60), learnt from household state samples, with a
 * prior for the days before there is any history. Pure: no I/O and no clock; time comes
 * with the samples and the questions. Bounded: two numbers per bucket and quantity.
 *
 * Learning. Each quantity (pvW, loadW) is integrated on its own, trapezoid between two
 * consecutive `ok` readings (by their measurement time), split at slot boundaries. An
 * interval is dropped when either end is stale or missing or when the readings are more
 * than `maxGapMs` apart. When a slot is over, its energy counts if the integrated time
 * covers at least `minCoverage` of it: the energy is scaled up to the whole (nominal)
 * slot and folded into the bucket of its local start time:
 *
 *   n = 0: value = observed;  otherwise value += max(alpha, 1/(n+1)) × (observed − value)
 *
 * (a plain mean for the first 1/alpha days, then an exponential average with weight
 * alpha per day; n is capped at 1000).
 *
 * Prior. Until a bucket has observations the expectation is the prior; afterwards the
 * prior keeps a weight of 1/(1+n): expected = (prior + n × learnt) / (1 + n).
 *
 * - PV: a half-sine between sunrise and sunset, peaking at local 12:00, with an amplitude
 *   of 0.4 × `pvPeakW`. Sunrise and sunset come from the declination on the day of year
 *   (Cooper's formula) at `latitudeDeg`; without a latitude the day is 06:00–18:00. The
 *   amplitude makes it an expectation, not a clear-sky best case: a 12-hour day gives
 *   0.4 × 12 h × 2/π ≈ 3.06 kWh per kWp, the Japanese average of about 1,098 kWh/kWp
 *   per year (≈ 3.0 a day; eco-megane user statistics). Solar noon is taken as 12:00
 *   (Tokyo's is about 11:40 JST); longitude and the equation of time are ignored. With
 *   no `pvPeakW` the PV prior is 0: the agent offers no PV until it has seen some.
 * - Load: `dailyLoadWh` (default 11 kWh, a typical Japanese household's 10–12 kWh a day)
 *   spread as 40 % flat base load plus a morning peak (07:30), a small midday bump
 *   (12:30) and the evening peak (19:30), the shape of the simulator's load model.
 */
import type { HouseholdState, Reading } from '../household/state.js';
import { slotEnd, slotStartAt, utcOffsetMinutes, type SlotMinutes } from './slots.js';

export const HISTORY_VERSION = 1;
/** Observations per bucket are counted up to this; it bounds the prior's weight from below. */
export const MAX_OBSERVATIONS = 1000;
export const DEFAULT_DAILY_LOAD_WH = 11_000;
/** Amplitude of the PV prior as a share of the peak power (see the module comment). */
export const PV_PRIOR_PEAK_SHARE = 0.4;

const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;
const HOUR_MS = 3_600_000;
const MAX_BUCKET_WH = 10_000_000;

export interface HistoryOptions {
  /** Slot length; the profile has 1440 / slotMinutes buckets. */
  slotMinutes: SlotMinutes;
  /** IANA time zone of the household's clock (config household.timezone). */
  timeZone: string;
  /** PV peak power for the prior, W. 0 or undefined: no PV prior. */
  pvPeakW?: number | undefined;
  /** Latitude for sunrise and sunset in the PV prior (config household.latitude). Undefined: 06:00–18:00. */
  latitudeDeg?: number | undefined;
  /** Daily energy of the load prior, Wh. Default 11,000. */
  dailyLoadWh?: number | undefined;
  /** Weight of a new day once a bucket has 1/alpha observations. Default 0.2. */
  alpha?: number | undefined;
  /** Readings further apart than this are not integrated. Default 2 minutes. */
  maxGapMs?: number | undefined;
  /** Share of a slot that must be covered by readings for it to count. Default 0.5. */
  minCoverage?: number | undefined;
  /** Time constant of the smoothed current power (`recentW`). Default 5 minutes. */
  recentTimeConstantMs?: number | undefined;
}

/** The persisted form (JSON-safe). `wh[i]` only means something where `n[i] > 0`. */
export interface HistoryJson {
  version: typeof HISTORY_VERSION;
  slotMinutes: SlotMinutes;
  pv: { wh: number[]; n: number[] };
  load: { wh: number[]; n: number[] };
}

export class HistoryFormatError extends Error {
  override name = 'HistoryFormatError';
}

export interface ExpectedEnergy {
  pvWh: number;
  loadWh: number;
}

/** What the forecast needs from a history; EnergyHistory is one, tests use others. */
export interface EnergyExpectation {
  /** Expected PV and load energy, Wh, over [start, start + minutes) (any length, any start). */
  expectedWh(start: number, minutes: number): ExpectedEnergy;
}

type Kind = 'pv' | 'load';

interface Profile {
  wh: number[];
  n: number[];
}

interface OpenSlot {
  start: number;
  end: number;
  bucket: number;
  wh: number;
  ms: number;
}

interface Integrator {
  last: { at: number; value: number } | undefined;
  open: OpenSlot | undefined;
  recent: { at: number; value: number } | undefined;
}

const newIntegrator = (): Integrator => ({ last: undefined, open: undefined, recent: undefined });

export class EnergyHistory implements EnergyExpectation {
  readonly slotMinutes: SlotMinutes;
  readonly timeZone: string;
  private readonly buckets: number;
  private readonly pvPeakW: number;
  private readonly latitudeDeg: number | undefined;
  private readonly dailyLoadWh: number;
  private readonly alpha: number;
  private readonly maxGapMs: number;
  private readonly minCoverage: number;
  private readonly recentTimeConstantMs: number;
  private readonly profiles: Record<Kind, Profile>;
  private readonly integrators: Record<Kind, Integrator> = { pv: newIntegrator(), load: newIntegrator() };

  constructor(options: HistoryOptions, profiles?: Record<Kind, Profile>) {
    this.slotMinutes = options.slotMinutes;
    this.timeZone = options.timeZone;
    this.buckets = DAY_MINUTES / options.slotMinutes;
    if (!Number.isInteger(this.buckets)) throw new RangeError(`slot length must be 15, 30 or 60 minutes, got ${String(options.slotMinutes)}`);
    utcOffsetMinutes(0, options.timeZone); // throws a RangeError for an unknown zone
    this.pvPeakW = Math.max(0, options.pvPeakW ?? 0);
    this.latitudeDeg = options.latitudeDeg;
    this.dailyLoadWh = Math.max(0, options.dailyLoadWh ?? DEFAULT_DAILY_LOAD_WH);
    this.alpha = options.alpha ?? 0.2;
    if (!(this.alpha > 0 && this.alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${String(this.alpha)}`);
    this.maxGapMs = options.maxGapMs ?? 120_000;
    this.minCoverage = options.minCoverage ?? 0.5;
    this.recentTimeConstantMs = options.recentTimeConstantMs ?? 300_000;
    this.profiles = profiles ?? {
      pv: { wh: new Array<number>(this.buckets).fill(0), n: new Array<number>(this.buckets).fill(0) },
      load: { wh: new Array<number>(this.buckets).fill(0), n: new Array<number>(this.buckets).fill(0) },
    };
  }

  /**
   * Takes one household state sample. Call it with every new state (more often is
   * harmless: a reading whose measurement time has not moved is skipped).
   */
  observe(state: HouseholdState): void {
    this.observeReading('pv', state.pvW, state.at);
    this.observeReading('load', state.loadW, state.at);
  }

  /** The learnt profile of one quantity (copies), for dashboards and tests. */
  profile(kind: Kind): { wh: readonly number[]; n: readonly number[] } {
    return { wh: [...this.profiles[kind].wh], n: [...this.profiles[kind].n] };
  }

  /**
   * Smoothed recent power (exponential, time constant `recentTimeConstantMs`) of PV and
   * load, or undefined for a quantity with no `ok` reading within `maxGapMs` before `now`.
   */
  recentW(now: number): { pvW: number | undefined; loadW: number | undefined } {
    const get = (kind: Kind): number | undefined => {
      const recent = this.integrators[kind].recent;
      return recent && now - recent.at <= this.maxGapMs && now >= recent.at ? recent.value : undefined;
    };
    return { pvW: get('pv'), loadW: get('load') };
  }

  expectedWh(start: number, minutes: number): ExpectedEnergy {
    let pvWh = 0;
    let loadWh = 0;
    const end = start + minutes * MINUTE_MS;
    let t = start;
    while (t < end) {
      const offsetMs = utcOffsetMinutes(t, this.timeZone) * MINUTE_MS;
      const local = t + offsetMs;
      const minuteOfDay = mod(local, DAY_MS) / MINUTE_MS;
      const bucket = Math.min(this.buckets - 1, Math.floor(minuteOfDay / this.slotMinutes));
      const bucketEndMinute = (bucket + 1) * this.slotMinutes;
      const segmentEnd = Math.min(end, t + (bucketEndMinute - minuteOfDay) * MINUTE_MS);
      const a = minuteOfDay;
      const b = minuteOfDay + (segmentEnd - t) / MINUTE_MS;
      const dayOfYear = localDayOfYear(local);
      const share = (b - a) / this.slotMinutes;
      pvWh += this.blend('pv', bucket, pvPriorWh(a, b, dayOfYear, this.pvPeakW, this.latitudeDeg), share);
      loadWh += this.blend('load', bucket, loadPriorWh(a, b, this.dailyLoadWh), share);
      t = segmentEnd;
    }
    return { pvWh, loadWh };
  }

  toJSON(): HistoryJson {
    const out = (p: Profile) => ({ wh: p.wh.map((v, i) => (p.n[i]! > 0 ? Math.round(v * 10) / 10 : 0)), n: [...p.n] });
    return { version: HISTORY_VERSION, slotMinutes: this.slotMinutes, pv: out(this.profiles.pv), load: out(this.profiles.load) };
  }

  /**
   * A history from its persisted form. A history saved with another slot length is
   * re-bucketed (energy spread evenly over each old bucket; a new bucket's count is the
   * least of the old ones it overlaps). Throws HistoryFormatError if `value` is not a
   * history this version wrote; the caller then starts afresh.
   */
  static fromJSON(value: unknown, options: HistoryOptions): EnergyHistory {
    const fail = (why: string): never => {
      throw new HistoryFormatError(`not an energy history: ${why}`);
    };
    if (!isObject(value)) return fail('expected an object');
    if (value.version !== HISTORY_VERSION) return fail(`expected version ${HISTORY_VERSION}, got ${JSON.stringify(value.version)}`);
    const minutes = value.slotMinutes;
    if (minutes !== 15 && minutes !== 30 && minutes !== 60) return fail(`expected slotMinutes 15, 30 or 60, got ${JSON.stringify(minutes)}`);
    const buckets = DAY_MINUTES / minutes;
    const profile = (kind: Kind): Profile => {
      const p = value[kind];
      if (!isObject(p)) return fail(`expected ${kind} to be an object`);
      const { wh, n } = p;
      if (!Array.isArray(wh) || wh.length !== buckets) return fail(`expected ${kind}.wh to be a list of ${buckets} numbers`);
      if (!Array.isArray(n) || n.length !== buckets) return fail(`expected ${kind}.n to be a list of ${buckets} counts`);
      wh.forEach((v, i) => {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_BUCKET_WH) fail(`${kind}.wh[${i}] is not an energy from 0 to ${MAX_BUCKET_WH} Wh`);
      });
      n.forEach((v, i) => {
        if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > MAX_OBSERVATIONS) fail(`${kind}.n[${i}] is not a count from 0 to ${MAX_OBSERVATIONS}`);
      });
      const counts = n as number[];
      return { wh: (wh as number[]).map((v, i) => (counts[i]! > 0 ? v : 0)), n: [...counts] };
    };
    const stored = { pv: profile('pv'), load: profile('load') };
    if (minutes === options.slotMinutes) return new EnergyHistory(options, stored);
    return new EnergyHistory(options, {
      pv: rebucket(stored.pv, minutes, options.slotMinutes),
      load: rebucket(stored.load, minutes, options.slotMinutes),
    });
  }

  private blend(kind: Kind, bucket: number, priorWh: number, share: number): number {
    const profile = this.profiles[kind];
    const n = profile.n[bucket]!;
    if (n === 0) return priorWh;
    return (priorWh + n * profile.wh[bucket]! * share) / (1 + n);
  }

  private observeReading(kind: Kind, reading: Reading, now: number): void {
    const integ = this.integrators[kind];
    const ok = reading.quality === 'ok' && reading.value !== undefined && reading.at !== undefined && Number.isFinite(reading.value);
    if (!ok) {
      integ.last = undefined;
      this.closeIfDone(kind, now);
      return;
    }
    const at = reading.at as number;
    const value = Math.max(0, reading.value as number);
    const last = integ.last;
    if (last && at <= last.at) {
      if (at < last.at) integ.last = undefined; // the clock went back: start a new chain
      this.closeIfDone(kind, now);
      return;
    }
    if (last && at - last.at <= this.maxGapMs) this.integrate(kind, last.at, last.value, at, value);
    integ.last = { at, value };
    const recent = integ.recent;
    if (!recent || at - recent.at > this.maxGapMs || at < recent.at) {
      integ.recent = { at, value };
    } else {
      const k = 1 - Math.exp(-(at - recent.at) / this.recentTimeConstantMs);
      integ.recent = { at, value: recent.value + k * (value - recent.value) };
    }
    this.closeIfDone(kind, now);
  }

  /** Trapezoid integration of [t0, t1], split at slot boundaries. */
  private integrate(kind: Kind, t0: number, v0: number, t1: number, v1: number): void {
    const integ = this.integrators[kind];
    const valueAt = (t: number) => v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
    let a = t0;
    while (a < t1) {
      if (!integ.open || a >= integ.open.end || a < integ.open.start) {
        if (integ.open) this.close(kind);
        integ.open = this.openSlot(a);
      }
      const open = integ.open;
      const b = Math.min(t1, open.end);
      open.wh += ((valueAt(a) + valueAt(b)) / 2) * ((b - a) / HOUR_MS);
      open.ms += b - a;
      a = b;
    }
  }

  /** Closes the open slot of `kind` once no later reading can add to it. */
  private closeIfDone(kind: Kind, now: number): void {
    const integ = this.integrators[kind];
    const open = integ.open;
    if (!open || now < open.end) return;
    const last = integ.last;
    if (!last || last.at >= open.end || now - last.at > this.maxGapMs) this.close(kind);
  }

  private openSlot(instant: number): OpenSlot {
    const start = slotStartAt(instant, this.slotMinutes, this.timeZone);
    const end = slotEnd(instant, this.slotMinutes, this.timeZone);
    const minuteOfDay = mod(start + utcOffsetMinutes(start, this.timeZone) * MINUTE_MS, DAY_MS) / MINUTE_MS;
    return { start, end, bucket: Math.min(this.buckets - 1, Math.floor(minuteOfDay / this.slotMinutes)), wh: 0, ms: 0 };
  }

  private close(kind: Kind): void {
    const integ = this.integrators[kind];
    const open = integ.open;
    integ.open = undefined;
    if (!open) return;
    if (open.ms < this.minCoverage * (open.end - open.start) || open.ms <= 0) return;
    const observed = Math.min(MAX_BUCKET_WH, (open.wh * this.slotMinutes * MINUTE_MS) / open.ms);
    const profile = this.profiles[kind];
    const n = profile.n[open.bucket]!;
    const old = profile.wh[open.bucket]!;
    profile.wh[open.bucket] = n === 0 ? observed : old + Math.max(this.alpha, 1 / (n + 1)) * (observed - old);
    profile.n[open.bucket] = Math.min(MAX_OBSERVATIONS, n + 1);
  }
}

const DAY_MS = 86_400_000;

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Day of the year, 1–366, of a local wall-clock instant (ms of local time as if UTC). */
function localDayOfYear(localMs: number): number {
  const year = new Date(localMs).getUTCFullYear();
  return Math.floor((localMs - Date.UTC(year, 0, 1)) / DAY_MS) + 1;
}

function rebucket(profile: Profile, fromMinutes: number, toMinutes: number): Profile {
  const buckets = DAY_MINUTES / toMinutes;
  const wh = new Array<number>(buckets).fill(0);
  const n = new Array<number>(buckets).fill(0);
  for (let i = 0; i < buckets; i++) {
    const a = i * toMinutes;
    const b = a + toMinutes;
    let energy = 0;
    let count = Number.POSITIVE_INFINITY;
    for (let j = Math.floor(a / fromMinutes); j * fromMinutes < b; j++) {
      const overlap = Math.min(b, (j + 1) * fromMinutes) - Math.max(a, j * fromMinutes);
      energy += (profile.wh[j]! * overlap) / fromMinutes;
      count = Math.min(count, profile.n[j]!);
    }
    n[i] = count === Number.POSITIVE_INFINITY ? 0 : count;
    wh[i] = n[i]! > 0 ? energy : 0;
  }
  return { wh, n };
}

/** Sunrise and sunset, local hours, for a latitude and day of year (solar noon at 12:00). */
export function daylightHours(dayOfYear: number, latitudeDeg: number | undefined): { sunrise: number; sunset: number } {
  if (latitudeDeg === undefined) return { sunrise: 6, sunset: 18 };
  const rad = Math.PI / 180;
  const declination = 23.44 * rad * Math.sin((2 * Math.PI * (284 + dayOfYear)) / 365);
  const cosHourAngle = -Math.tan(latitudeDeg * rad) * Math.tan(declination);
  const hourAngleDeg = Math.acos(Math.min(1, Math.max(-1, cosHourAngle))) / rad;
  const half = hourAngleDeg / 15;
  return { sunrise: 12 - half, sunset: 12 + half };
}

/** The PV prior's power, W, at a local hour of the day. */
export function pvPriorW(localHour: number, dayOfYear: number, pvPeakW: number, latitudeDeg?: number): number {
  const { sunrise, sunset } = daylightHours(dayOfYear, latitudeDeg);
  if (pvPeakW <= 0 || localHour <= sunrise || localHour >= sunset) return 0;
  return PV_PRIOR_PEAK_SHARE * pvPeakW * Math.sin((Math.PI * (localHour - sunrise)) / (sunset - sunrise));
}

/** The PV prior's energy, Wh, between local minutes of day a and b (b may pass 1440 by a little). */
function pvPriorWh(a: number, b: number, dayOfYear: number, pvPeakW: number, latitudeDeg: number | undefined): number {
  if (pvPeakW <= 0) return 0;
  const { sunrise, sunset } = daylightHours(dayOfYear, latitudeDeg);
  const lo = Math.max(a / 60, sunrise);
  const hi = Math.min(b / 60, sunset);
  if (hi <= lo) return 0;
  const length = sunset - sunrise;
  const amplitude = PV_PRIOR_PEAK_SHARE * pvPeakW;
  return ((amplitude * length) / Math.PI) * (Math.cos((Math.PI * (lo - sunrise)) / length) - Math.cos((Math.PI * (hi - sunrise)) / length));
}

const LOAD_BASE_SHARE = 0.4;
const LOAD_PEAKS = [
  { hour: 7.5, width: 1.0, share: 0.25 },
  { hour: 12.5, width: 1.5, share: 0.15 },
  { hour: 19.5, width: 1.5, share: 0.6 },
] as const;

/** Cumulative share of a day's load by local minute: LOAD_CUMULATIVE[m] = share of minutes [0, m). */
const LOAD_CUMULATIVE: Float64Array = (() => {
  const raw = new Float64Array(DAY_MINUTES);
  let peaks = 0;
  for (let m = 0; m < DAY_MINUTES; m++) {
    const hour = (m + 0.5) / 60;
    let v = 0;
    for (const peak of LOAD_PEAKS) {
      const d = Math.abs(hour - peak.hour);
      const distance = Math.min(d, 24 - d);
      v += (peak.share / peak.width) * Math.exp(-0.5 * (distance / peak.width) ** 2);
    }
    raw[m] = v;
    peaks += v;
  }
  const cumulative = new Float64Array(DAY_MINUTES + 1);
  for (let m = 0; m < DAY_MINUTES; m++) {
    cumulative[m + 1] = cumulative[m]! + LOAD_BASE_SHARE / DAY_MINUTES + ((1 - LOAD_BASE_SHARE) * raw[m]!) / peaks;
  }
  return cumulative;
})();

function loadCumulative(minute: number): number {
  const m = Math.min(DAY_MINUTES, Math.max(0, minute));
  const i = Math.min(DAY_MINUTES - 1, Math.floor(m));
  return LOAD_CUMULATIVE[i]! + (LOAD_CUMULATIVE[i + 1]! - LOAD_CUMULATIVE[i]!) * (m - i);
}

/** The load prior's energy, Wh, between local minutes of day a and b. */
function loadPriorWh(a: number, b: number, dailyLoadWh: number): number {
  return dailyLoadWh * (loadCumulative(b) - loadCumulative(a));
}

/** The load prior's mean power, W, over the local minute of day that holds `localHour`. */
export function loadPriorW(localHour: number, dailyLoadWh: number = DEFAULT_DAILY_LOAD_WH): number {
  const m = Math.floor(localHour * 60);
  return loadPriorWh(m, m + 1, dailyLoadWh) * 60;
}
