/**
 * The demo community's accelerated timeline and the market and poll timing that
 * keep working on it. Pure.
 *
 * Every agent runs its whole life (household, market, mesh timestamps) on one
 * clock `speed` times faster than real time, but messages, TLS handshakes and
 * Modbus requests still take real milliseconds. Windows that are comfortable in
 * simulated time become too short in real time: the default 20 s reconcile
 * window lasts 33 ms at 600×. So each window is stretched to at least a couple
 * of real seconds, and the gate closes early enough to leave the clearing and
 * the fill signatures a couple of real seconds more before the slot starts.
 */
import { formatDuration } from '../../config/duration.js';
import { timeZoneOffsetMs } from '../../sim/physics/load.js';

export const MIN_SPEED = 1;
/**
 * At 1000× a 30-minute slot lasts 1.8 real seconds, as long as the longest reconcile window
 * the configuration allows (30 min); faster, peers would clear before they heard each other.
 */
export const MAX_SPEED = 1000;
/**
 * 120×: a simulated day in 12 real minutes, a slot every 15 s. Slow enough to watch power flows
 * change on the dashboards and read each contract as it happens, fast enough that the first
 * trades come within a minute or two of sunrise, and light enough that five agents polling and
 * ticking at this pace leave a 2-core machine mostly idle.
 */
export const DEFAULT_SPEED = 120;

/** Real time a peer gets to exchange order digests and fetch missing orders after gate closure. */
const REAL_RECONCILE_MS = 2000;
/** Real time left after clearing for the fill signatures before the slot starts. */
const REAL_SIGNING_MS = 2000;
/** Real time between two polls of a simulated household, where the market allows it. */
const REAL_POLL_MS = 250;
/**
 * The market offers nothing for a slot near at hand unless the PV, load and battery readings
 * were measured within the last simulated minute (market/forecast.ts, maxDataAgeMs). Polling
 * every 15 simulated seconds at most leaves room for a late poll or two, at any speed; at 600×
 * that is a poll every 25 real ms.
 */
const MAX_POLL_MS = 15_000;

const SECOND = 1000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

/** The configuration's defaults and limits these stretch from and must stay within. */
const LIMITS = { reconcileMin: 20 * SECOND, reconcileMax: 30 * MINUTE, gateMin: 5 * MINUTE, gateMax: 6 * HOUR, pollMin: SECOND } as const;

export interface DemoTiming {
  speed: number;
  /** market.reconcile, simulated ms. */
  reconcileMs: number;
  /** market.gateClosure, simulated ms. */
  gateClosureMs: number;
  /** poll.interval, simulated ms. */
  pollIntervalMs: number;
  /** poll.staleAfter, simulated ms. */
  staleAfterMs: number;
}

const ceilTo = (ms: number, unit: number) => Math.ceil(ms / unit) * unit;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export function demoTiming(speed: number): DemoTiming {
  if (!(speed >= MIN_SPEED && speed <= MAX_SPEED)) throw new RangeError(`speed must be from ${MIN_SPEED} to ${MAX_SPEED}, got ${speed}`);
  const reconcileMs = clamp(ceilTo(speed * REAL_RECONCILE_MS, SECOND), LIMITS.reconcileMin, LIMITS.reconcileMax);
  const gateClosureMs = clamp(ceilTo(reconcileMs + Math.max(MINUTE, speed * REAL_SIGNING_MS), MINUTE), LIMITS.gateMin, LIMITS.gateMax);
  const pollIntervalMs = clamp(ceilTo(speed * REAL_POLL_MS, SECOND), LIMITS.pollMin, MAX_POLL_MS);
  const staleAfterMs = Math.max(5 * SECOND, 3 * pollIntervalMs);
  return { speed, reconcileMs, gateClosureMs, pollIntervalMs, staleAfterMs };
}

/** How long a simulated day takes in real time, for people: "12 minutes", "2.4 minutes", "24 hours". */
export function realDayText(speed: number): string {
  const minutes = 1440 / speed;
  if (minutes >= 120) return `${+(minutes / 60).toFixed(1)} hours`;
  if (minutes >= 2) return `${+minutes.toFixed(1)} minutes`;
  return `${Math.round(minutes * 60)} seconds`;
}

/** 06:00 (or `hour`) local time in `timeZone` on the day `nowMs` falls in there. */
export function demoSimStart(nowMs: number, timeZone: string, hour = 6): number {
  const offset = timeZoneOffsetMs(timeZone, nowMs);
  const localMidnight = Math.floor((nowMs + offset) / 86_400_000) * 86_400_000;
  // The offset at the target hour (a DST switch may lie between midnight and then).
  const guess = localMidnight + hour * HOUR - offset;
  return localMidnight + hour * HOUR - timeZoneOffsetMs(timeZone, guess);
}

/** The durations as tonari.yaml writes them. */
export function timingYaml(t: DemoTiming): { reconcile: string; gateClosure: string; interval: string; staleAfter: string } {
  return { reconcile: formatDuration(t.reconcileMs), gateClosure: formatDuration(t.gateClosureMs), interval: formatDuration(t.pollIntervalMs), staleAfter: formatDuration(t.staleAfterMs) };
}
