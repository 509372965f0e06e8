/**
 * The slot calendar: trading slots aligned to LOCAL wall-clock time in an IANA time zone
 * (:00/:15/:30/:45 of the household's clock, not of UTC), mapped to UTC instants.
 *
 * The rule, which also covers daylight-saving time. Let wall(t) be the local wall-clock
 * reading at instant t and L the slot length (15, 30 or 60 minutes; each divides a day, so
 * multiples of L count from local midnight). A slot begins
 *
 *   1. at every instant at which the wall clock reads a multiple of L (:00, :30, …), and
 *   2. at a spring-forward jump that skips a multiple of L: the skipped wall time begins
 *      its slot at the instant of the jump;
 *
 * and runs until the next such instant (exclusive). A slot is named by its start instant.
 * The starts are a discrete set of instants, so the slots partition the time line: no
 * instant belongs to two slots and there is no gap. What it means at DST changes:
 *
 * - Spring forward (Europe/Berlin 2026-03-29, 02:00 → 03:00): the skipped wall hour has
 *   no slots; the 01:30 slot ends at the jump and the 03:00 slot starts there. The day
 *   has 46 half-hour slots (23 hourly ones).
 * - Fall back (Europe/Berlin 2026-10-25, 03:00 → 02:00): the repeated wall hour gets its
 *   slots twice, as distinct instants: 02:00 (and 02:30) at +02:00, then 02:00 (and
 *   02:30) at +01:00. The day has 50 half-hour slots (25 hourly ones). The repeated slots
 *   share a label (`slotLabel`); `slotLabel(…, { offset: true })` tells them apart.
 * - A shift that is not a multiple of the slot length (Australia/Lord_Howe moves by 30
 *   minutes) makes one slot shorter or longer than nominal, and with 60-minute slots the
 *   spring-forward slot begins at the jump, at wall 02:30.
 *
 * Offsets come from `Intl.DateTimeFormat` (the tz database Node was built with). The
 * calendar assumes that a zone's offset changes at most once within one slot length,
 * which holds for every zone in the tz database for the years it is meant for.
 * Instants are ms since the epoch, from 1970 to the end of 9999.
 *
 * Pure apart from bounded memo caches; no clock is read: the caller passes `now`.
 */
import type { SlotStart } from './types.js';

export const SLOT_MINUTES = [15, 30, 60] as const;
export type SlotMinutes = (typeof SLOT_MINUTES)[number];

/** How many slots are open for trading at once (DESIGN: the next 48 slots). */
export const DEFAULT_OPEN_SLOTS = 48;
/** Minutes before a slot's start at which its order book closes. */
export const DEFAULT_GATE_MINUTES = 5;

const MINUTE_MS = 60_000;
const MIN_INSTANT = 0;
/** 9999-12-31T23:59:59.999Z. */
const MAX_INSTANT = 253_402_300_799_999;
const MEMO_LIMIT = 8192;

export function isSlotMinutes(value: unknown): value is SlotMinutes {
  return value === 15 || value === 30 || value === 60;
}

/** Per time zone: its formatter and memo tables of computed slot starts and ends. */
interface ZoneState {
  readonly timeZone: string;
  readonly format: Intl.DateTimeFormat;
  readonly starts: Map<number, number>[];
  readonly ends: Map<number, number>[];
}

const zones = new Map<string, ZoneState>();

function zoneState(timeZone: string): ZoneState {
  let zone = zones.get(timeZone);
  if (zone) return zone;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  } catch {
    throw new RangeError(`not an IANA time zone: ${JSON.stringify(timeZone)}`);
  }
  zone = { timeZone, format, starts: [new Map(), new Map(), new Map()], ends: [new Map(), new Map(), new Map()] };
  zones.set(timeZone, zone);
  return zone;
}

const FORMATTED = /^(\d{1,2})\/(\d{1,2})\/(\d{4}), (\d{2}):(\d{2}):(\d{2})$/;

/** Local wall-clock fields at an instant (whole seconds). */
function wallFields(zone: ZoneState, instant: number): [number, number, number, number, number, number] {
  // `format` is about three times faster than `formatToParts`; parts are the fallback
  // should an ICU version print the date differently.
  const m = FORMATTED.exec(zone.format.format(instant));
  if (m) return [Number(m[3]), Number(m[1]), Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6])];
  const parts: Record<string, number> = {};
  for (const part of zone.format.formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const field = (name: string): number => {
    const value = parts[name];
    if (value === undefined || !Number.isInteger(value)) throw new Error(`Intl gave no ${name} for ${instant} in ${zone.timeZone}`);
    return value;
  };
  return [field('year'), field('month'), field('day'), field('hour'), field('minute'), field('second')];
}

/** UTC offset in ms at an instant (local wall time − UTC). */
function offsetAt(zone: ZoneState, instant: number): number {
  const second = Math.floor(instant / 1000) * 1000;
  const [year, month, day, hour, minute, sec] = wallFields(zone, second);
  return Date.UTC(year, month - 1, day, hour, minute, sec) - second;
}

/**
 * The first instant in (lo, hi] whose offset differs from the offset at lo, given that
 * the offsets at lo and hi differ and change once in between. Binary search to the ms.
 */
function transitionIn(zone: ZoneState, lo: number, hi: number): number {
  const before = offsetAt(zone, lo);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(zone, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

const MAX_STEPS = 16;

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/**
 * Whether the offset change at `change` (the first instant with the new offset) begins a
 * slot: when the wall clock lands on a multiple of L there, or when it jumps forward
 * over one (the skipped wall time begins its slot at the jump).
 */
function boundaryAtChange(zone: ZoneState, change: number, length: number): boolean {
  const before = offsetAt(zone, change - 1);
  const after = offsetAt(zone, change);
  const wall = change + after;
  if (mod(wall, length) === 0) return true;
  return after > before && Math.floor(wall / length) !== Math.floor((change - 1 + before) / length);
}

/** Start of the slot holding `instant`: the latest boundary <= instant. */
function startOf(zone: ZoneState, instant: number, length: number): number {
  let t = instant;
  for (let step = 0; step < MAX_STEPS; step++) {
    const offset = offsetAt(zone, t);
    // Where the wall clock last read a multiple of L, had the offset stayed as it is at t.
    const candidate = Math.floor((t + offset) / length) * length - offset;
    if (offsetAt(zone, candidate) === offset) return candidate;
    // The offset changed in (candidate, t]; between that change and t the wall clock
    // passes no multiple of L, so the change is the only possible boundary.
    const change = transitionIn(zone, candidate, t);
    if (boundaryAtChange(zone, change, length)) return change;
    t = change - 1;
  }
  throw new Error(`slot start of ${instant} in ${zone.timeZone} not found`);
}

/** End of the slot holding `instant`: the earliest boundary > instant. */
function endOf(zone: ZoneState, instant: number, length: number): number {
  let t = instant;
  for (let step = 0; step < MAX_STEPS; step++) {
    const offset = offsetAt(zone, t);
    // Where the wall clock next reads a multiple of L, had the offset stayed.
    const candidate = (Math.floor((t + offset) / length) + 1) * length - offset;
    if (offsetAt(zone, candidate - 1) === offset) {
      // No change in (t, candidate); at candidate either the wall reads the multiple or
      // the offset changes exactly there.
      if (offsetAt(zone, candidate) === offset || boundaryAtChange(zone, candidate, length)) return candidate;
      t = candidate;
    } else {
      const change = transitionIn(zone, t, candidate - 1);
      if (boundaryAtChange(zone, change, length)) return change;
      t = change;
    }
  }
  throw new Error(`slot end of ${instant} in ${zone.timeZone} not found`);
}

function lengthOf(minutes: number): number {
  if (!isSlotMinutes(minutes)) throw new RangeError(`slot length must be 15, 30 or 60 minutes, got ${String(minutes)}`);
  return minutes * MINUTE_MS;
}

function memoIndex(minutes: SlotMinutes): number {
  return minutes === 15 ? 0 : minutes === 30 ? 1 : 2;
}

function checkInstant(what: string, instant: number): void {
  if (!Number.isFinite(instant) || instant < MIN_INSTANT || instant > MAX_INSTANT) {
    throw new RangeError(`${what} must be an instant from 1970 to 9999 in ms, got ${String(instant)}`);
  }
}

function memoised(table: Map<number, number>, key: number, compute: () => number): number {
  const hit = table.get(key);
  if (hit !== undefined) return hit;
  const value = compute();
  if (table.size >= MEMO_LIMIT) table.clear();
  table.set(key, value);
  return value;
}

/** Start instant of the slot that holds `instantMs` (the latest slot boundary <= instantMs). */
export function slotStartAt(instantMs: number, minutes: SlotMinutes, timeZone: string): SlotStart {
  const length = lengthOf(minutes);
  checkInstant('instant', instantMs);
  const zone = zoneState(timeZone);
  return memoised(zone.starts[memoIndex(minutes)]!, instantMs, () => startOf(zone, instantMs, length));
}

/**
 * End of the slot that holds `instantMs`, which is the start of the next slot (the
 * earliest slot boundary > instantMs). Nominally start + minutes; other at DST changes.
 */
export function slotEnd(instantMs: number, minutes: SlotMinutes, timeZone: string): SlotStart {
  const length = lengthOf(minutes);
  checkInstant('instant', instantMs);
  const zone = zoneState(timeZone);
  return memoised(zone.ends[memoIndex(minutes)]!, instantMs, () => endOf(zone, instantMs, length));
}

/** Whether `instantMs` is a slot boundary. */
export function isSlotStart(instantMs: number, minutes: SlotMinutes, timeZone: string): boolean {
  return Number.isInteger(instantMs) && instantMs >= MIN_INSTANT && instantMs <= MAX_INSTANT
    && slotStartAt(instantMs, minutes, timeZone) === instantMs;
}

/**
 * The next `count` slots whose start is strictly after `nowMs`, in order. The slot
 * holding `nowMs` is never included, not even when `nowMs` is its exact start: its
 * gate has closed. The first ones may already be past their own gate closure too;
 * `openSlots` leaves those out.
 */
export function nextSlots(nowMs: number, minutes: SlotMinutes, count: number = DEFAULT_OPEN_SLOTS, timeZone: string): SlotStart[] {
  checkCount(count);
  const slots: SlotStart[] = [];
  let t = nowMs;
  for (let i = 0; i < count; i++) {
    t = slotEnd(t, minutes, timeZone);
    slots.push(t);
  }
  return slots;
}

/** The next `count` slots still open for orders at `nowMs` (see `isOpen`), in order. */
export function openSlots(
  nowMs: number, minutes: SlotMinutes, count: number = DEFAULT_OPEN_SLOTS, timeZone: string,
  gateMinutesBefore: number = DEFAULT_GATE_MINUTES,
): SlotStart[] {
  checkCount(count);
  const slots: SlotStart[] = [];
  let t = slotEnd(nowMs, minutes, timeZone);
  while (!isOpen(t, nowMs, gateMinutesBefore)) t = slotEnd(t, minutes, timeZone);
  for (let i = 0; i < count; i++) {
    slots.push(t);
    t = slotEnd(t, minutes, timeZone);
  }
  return slots;
}

function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be an integer >= 0, got ${String(count)}`);
}

/** The instant a slot's order book closes: `gateMinutesBefore` whole minutes before its start. */
export function gateClosure(slotStart: SlotStart, gateMinutesBefore: number = DEFAULT_GATE_MINUTES): number {
  if (!Number.isFinite(gateMinutesBefore) || gateMinutesBefore < 0) {
    throw new RangeError(`gate must be a number of minutes >= 0, got ${String(gateMinutesBefore)}`);
  }
  return slotStart - gateMinutesBefore * MINUTE_MS;
}

/** Whether orders for `slot` are still accepted at `nowMs`: strictly before its gate closure. */
export function isOpen(slot: SlotStart, nowMs: number, gateMinutesBefore: number = DEFAULT_GATE_MINUTES): boolean {
  return nowMs < gateClosure(slot, gateMinutesBefore);
}

/** UTC offset of `timeZone` at an instant, in whole minutes (e.g. 540 for Asia/Tokyo). */
export function utcOffsetMinutes(instantMs: number, timeZone: string): number {
  checkInstant('instant', instantMs);
  return Math.round(offsetAt(zoneState(timeZone), instantMs) / MINUTE_MS);
}

/**
 * A slot's start for people: local 'YYYY-MM-DD HH:mm'; with `offset`, followed by the
 * UTC offset ('2026-10-25 02:00 +02:00'), which tells the two fall-back copies apart.
 */
export function slotLabel(slot: SlotStart, timeZone: string, options: { offset?: boolean } = {}): string {
  checkInstant('slot', slot);
  const zone = zoneState(timeZone);
  const [year, month, day, hour, minute] = wallFields(zone, Math.floor(slot / 1000) * 1000);
  const label = `${year}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}`;
  if (!options.offset) return label;
  const offset = utcOffsetMinutes(slot, timeZone);
  const abs = Math.abs(offset);
  return `${label} ${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
