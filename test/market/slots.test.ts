import t from 'tap';
import fc from 'fast-check';
import {
  gateClosure, isOpen, isSlotStart, nextSlots, openSlots, slotEnd, slotLabel, slotStartAt, utcOffsetMinutes, type SlotMinutes,
} from '../../agent/market/slots.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Slots from one instant up to (not including) another. */
function slotsBetween(from: number, to: number, minutes: SlotMinutes, tz: string): number[] {
  const out: number[] = [];
  for (let s = slotStartAt(from, minutes, tz); s < to; s = slotEnd(s, minutes, tz)) out.push(s);
  return out;
}

t.test('Asia/Tokyo: half-hour slots on the local :00 and :30', async (t) => {
  const tz = 'Asia/Tokyo';
  const noon = Date.UTC(2026, 5, 21, 3, 0); // 12:00 JST
  t.equal(slotStartAt(noon + 10 * MIN, 30, tz), noon);
  t.equal(slotStartAt(noon, 30, tz), noon);
  t.equal(slotStartAt(noon - 1, 30, tz), noon - 30 * MIN);
  t.equal(slotEnd(noon, 30, tz), noon + 30 * MIN);
  t.equal(slotLabel(noon, tz), '2026-06-21 12:00');
  t.equal(slotLabel(noon, tz, { offset: true }), '2026-06-21 12:00 +09:00');
  const next = nextSlots(noon + 10 * MIN, 30, 48, tz);
  t.equal(next.length, 48);
  t.equal(next[0], noon + 30 * MIN, 'the current slot (gate closed) is not included');
  t.equal(next[47], noon + 24 * HOUR);
  t.ok(next.every((s, i) => i === 0 || s - next[i - 1]! === 30 * MIN));
  t.equal(nextSlots(noon, 30, undefined, tz)[0], noon + 30 * MIN, 'not even at its exact start');
  t.equal(nextSlots(noon, 30, undefined, tz).length, 48, 'count defaults to 48');
  t.same(nextSlots(noon, 60, 3, tz), [noon + HOUR, noon + 2 * HOUR, noon + 3 * HOUR]);
  t.same(nextSlots(noon, 15, 2, tz), [noon + 15 * MIN, noon + 30 * MIN]);
  t.same(nextSlots(noon, 15, 0, tz), []);
  t.ok(isSlotStart(noon, 60, tz));
  t.notOk(isSlotStart(noon + 30 * MIN, 60, tz));
  t.notOk(isSlotStart(noon + 0.5, 30, tz));
  t.equal(utcOffsetMinutes(noon, tz), 540);
});

t.test('Asia/Kolkata: local alignment, not UTC alignment', async (t) => {
  const tz = 'Asia/Kolkata';
  const s = slotStartAt(Date.UTC(2026, 0, 1, 0, 45), 60, tz);
  t.equal(s, Date.UTC(2026, 0, 1, 0, 30), '06:00 IST is 00:30 UTC');
  t.equal(slotLabel(s, tz, { offset: true }), '2026-01-01 06:00 +05:30');
  t.equal(slotStartAt(Date.UTC(2026, 0, 1, 0, 45), 30, tz), Date.UTC(2026, 0, 1, 0, 30));
  t.equal(slotStartAt(Date.UTC(2026, 0, 1, 0, 45), 15, tz), Date.UTC(2026, 0, 1, 0, 45));
});

t.test('23- and 25-hour days: slots per local day', async (t) => {
  const days: [string, number, number, number][] = [
    // zone, local midnight (UTC instant), next local midnight, half-hour slots
    ['Europe/Berlin', Date.UTC(2026, 2, 28, 23), Date.UTC(2026, 2, 29, 22), 46],
    ['Europe/Berlin', Date.UTC(2026, 9, 24, 22), Date.UTC(2026, 9, 25, 23), 50],
    ['Europe/Berlin', Date.UTC(2026, 5, 20, 22), Date.UTC(2026, 5, 21, 22), 48],
    ['America/New_York', Date.UTC(2026, 2, 8, 5), Date.UTC(2026, 2, 9, 4), 46],
    ['America/New_York', Date.UTC(2026, 10, 1, 4), Date.UTC(2026, 10, 2, 5), 50],
    ['Asia/Tokyo', Date.UTC(2026, 2, 28, 15), Date.UTC(2026, 2, 29, 15), 48],
  ];
  for (const [tz, from, to, halfHours] of days) {
    t.equal(slotsBetween(from, to, 30, tz).length, halfHours, `${tz} ${slotLabel(from, tz)}: ${halfHours} half-hours`);
    t.equal(slotsBetween(from, to, 60, tz).length, halfHours / 2, `${tz} ${slotLabel(from, tz)}: hours`);
    t.equal(slotsBetween(from, to, 15, tz).length, halfHours * 2, `${tz} ${slotLabel(from, tz)}: quarters`);
    t.equal(slotStartAt(from, 30, tz), from, 'local midnight starts a slot');
  }
});

t.test('Europe/Berlin: the spring gap has no slots; the autumn hour repeats', async (t) => {
  const tz = 'Europe/Berlin';
  const spring = nextSlots(Date.UTC(2026, 2, 29, 0, 0) - 1, 30, 4, tz).map((s) => slotLabel(s, tz, { offset: true }));
  t.same(spring, ['2026-03-29 01:00 +01:00', '2026-03-29 01:30 +01:00', '2026-03-29 03:00 +02:00', '2026-03-29 03:30 +02:00']);
  const autumn = nextSlots(Date.UTC(2026, 9, 25, 0, 0) - 1, 30, 6, tz);
  t.same(autumn.map((s) => slotLabel(s, tz, { offset: true })), [
    '2026-10-25 02:00 +02:00', '2026-10-25 02:30 +02:00', '2026-10-25 02:00 +01:00', '2026-10-25 02:30 +01:00', '2026-10-25 03:00 +01:00', '2026-10-25 03:30 +01:00',
  ]);
  t.same(autumn.map((s) => slotLabel(s, tz)).slice(0, 4), ['2026-10-25 02:00', '2026-10-25 02:30', '2026-10-25 02:00', '2026-10-25 02:30'], 'same labels, distinct instants');
  t.same(autumn.slice(0, 4), [0, 30, 60, 90].map((m) => Date.UTC(2026, 9, 25, 0, m)));
  const hourly = nextSlots(Date.UTC(2026, 9, 25, 0, 0) - 1, 60, 3, tz);
  t.same(hourly, [Date.UTC(2026, 9, 25, 0), Date.UTC(2026, 9, 25, 1), Date.UTC(2026, 9, 25, 2)], 'hourly slots repeat 02:00 too');
});

t.test('Australia/Lord_Howe: a 30-minute shift with hourly slots', async (t) => {
  const tz = 'Australia/Lord_Howe';
  // 2026-10-04 02:00 +10:30 → 02:30 +11:00 at 15:30 UTC on the 3rd.
  const labels = nextSlots(Date.UTC(2026, 9, 3, 14, 31), 60, 3, tz).map((s) => slotLabel(s, tz, { offset: true }));
  t.same(labels, ['2026-10-04 02:30 +11:00', '2026-10-04 03:00 +11:00', '2026-10-04 04:00 +11:00'], 'the skipped 02:00 begins its slot at the jump');
  // 2026-04-05 02:00 +11:00 → 01:30 +10:30 at 15:00 UTC on the 4th: 01:30 repeats, 02:00 does not.
  const back = nextSlots(Date.UTC(2026, 3, 4, 14, 1), 30, 4, tz).map((s) => slotLabel(s, tz, { offset: true }));
  t.same(back, ['2026-04-05 01:30 +11:00', '2026-04-05 01:30 +10:30', '2026-04-05 02:00 +10:30', '2026-04-05 02:30 +10:30']);
  const backHourly = nextSlots(Date.UTC(2026, 3, 4, 14, 1), 60, 2, tz);
  t.same(backHourly, [Date.UTC(2026, 3, 4, 15, 30), Date.UTC(2026, 3, 4, 16, 30)], 'the 01:00 +11:00 slot lasts 90 minutes');
});

t.test('gate closure and open slots', async (t) => {
  const tz = 'Asia/Tokyo';
  const noon = Date.UTC(2026, 5, 21, 3, 0);
  t.equal(gateClosure(noon), noon - 5 * MIN);
  t.equal(gateClosure(noon, 60), noon - HOUR);
  t.equal(gateClosure(noon, 0), noon);
  t.ok(isOpen(noon, noon - 5 * MIN - 1));
  t.notOk(isOpen(noon, noon - 5 * MIN), 'closed at the gate instant');
  t.notOk(isOpen(noon, noon + 1));
  t.ok(isOpen(noon, noon - 61 * MIN, 60));
  t.notOk(isOpen(noon, noon - 60 * MIN, 60));
  // At 11:57 the 12:00 slot is past its gate; the first open slot is 12:30.
  const open = openSlots(noon - 3 * MIN, 30, 48, tz);
  t.equal(open.length, 48);
  t.equal(open[0], noon + 30 * MIN);
  t.equal(nextSlots(noon - 3 * MIN, 30, 1, tz)[0], noon, 'nextSlots still lists it');
  t.equal(openSlots(noon - 6 * MIN, 30, 1, tz)[0], noon);
  t.equal(openSlots(noon - 6 * MIN, 30, 1, tz, 10)[0], noon + 30 * MIN);
  t.throws(() => gateClosure(noon, -1), RangeError);
});

t.test('bad arguments are refused', async (t) => {
  t.throws(() => slotStartAt(0, 45 as SlotMinutes, 'Asia/Tokyo'), /15, 30 or 60/);
  t.throws(() => slotStartAt(0, 30, 'Mars/Olympus'), /not an IANA time zone/);
  t.throws(() => slotStartAt(Number.NaN, 30, 'Asia/Tokyo'), RangeError);
  t.throws(() => slotStartAt(-1, 30, 'Asia/Tokyo'), RangeError);
  t.throws(() => nextSlots(0, 30, -1, 'Asia/Tokyo'), RangeError);
  t.notOk(isSlotStart(-HOUR, 30, 'Asia/Tokyo'));
});

// ---------------------------------------------------------------------------------
// Property (e): slots partition time, checked against a brute-force scan

const formats = new Map<string, Intl.DateTimeFormat>();
/** Local wall time at t as a UTC-based ms count, read independently of slots.ts. */
function wall(tz: string, t: number): number {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('sv-SE', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
}

/**
 * Slot starts in (from, to] by the definition, scanning every minute (these zones change
 * offset on whole minutes): the wall clock reads a multiple of L, or jumps forward past one.
 */
function scanBoundaries(tz: string, minutes: number, from: number, to: number): number[] {
  const length = minutes * MIN;
  const out: number[] = [];
  let before = wall(tz, from);
  for (let m = from + MIN; m <= to; m += MIN) {
    const now = wall(tz, m);
    const jumpedForward = now - before > MIN && Math.floor(now / length) !== Math.floor(before / length);
    if (now % length === 0 || jumpedForward) out.push(m);
    before = now;
  }
  return out;
}

/** DST changes 2020–2035 (EU: last Sundays of March and October at 01:00 UTC; US: second Sunday of March, first of November). */
function transitions(): number[] {
  const out: number[] = [];
  const sunday = (y: number, m: number, d: number) => { const x = new Date(Date.UTC(y, m, d)); return d + ((7 - x.getUTCDay()) % 7); };
  const lastSunday = (y: number, m: number) => { const last = new Date(Date.UTC(y, m + 1, 0)); return last.getUTCDate() - last.getUTCDay(); };
  for (let y = 2020; y <= 2035; y++) {
    out.push(Date.UTC(y, 2, lastSunday(y, 2), 1), Date.UTC(y, 9, lastSunday(y, 9), 1));
    out.push(Date.UTC(y, 2, sunday(y, 2, 8), 7), Date.UTC(y, 10, sunday(y, 10, 1), 6));
    out.push(Date.UTC(y, 3, sunday(y, 3, 1), -9), Date.UTC(y, 9, sunday(y, 9, 1), -8, -30)); // Lord Howe
  }
  return out;
}

const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Asia/Kolkata', 'Australia/Lord_Howe'];
const SPAN = 12 * HOUR;

t.test('property (e): every instant lies in exactly one slot; slots are contiguous and match the definition', async (t) => {
  const base = fc.oneof(
    fc.tuple(fc.constantFrom(...transitions()), fc.integer({ min: -SPAN + HOUR, max: 2 * HOUR })).map(([x, d]) => x + d),
    fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 11, 31) }),
  );
  fc.assert(fc.property(
    fc.constantFrom(...ZONES), fc.constantFrom<SlotMinutes>(15, 30, 60), base, fc.array(fc.integer({ min: 0, max: SPAN }), { minLength: 1, maxLength: 20 }),
    (tz, minutes, start, probes) => {
      const from = start - (start % MIN);
      const truth = scanBoundaries(tz, minutes, from - 3 * HOUR, from + SPAN);
      const chain = nextSlots(from, minutes, Math.ceil(SPAN / (minutes * MIN)) + 4, tz).filter((s) => s <= from + SPAN);
      // The calendar lists exactly the boundaries of the definition.
      if (chain.join() !== truth.filter((s) => s > from).join()) return false;
      // Contiguous: each slot ends where the next begins, and each start is its own slot.
      for (let i = 0; i + 1 < chain.length; i++) {
        const s = chain[i]!;
        const next = chain[i + 1]!;
        if (!(s < next) || slotEnd(s, minutes, tz) !== next || slotStartAt(next - 1, minutes, tz) !== s) return false;
        if (slotStartAt(s, minutes, tz) !== s || !isSlotStart(s, minutes, tz)) return false;
      }
      // Any instant (ms, not just minutes) falls in the one slot the scan says.
      for (const probe of probes) {
        const x = from + probe + (probe % 7) * 1_013; // off the minute grid too
        const startTruth = truth.filter((s) => s <= x).at(-1);
        const endTruth = truth.find((s) => s > x);
        const s = slotStartAt(x, minutes, tz);
        if (s !== startTruth || !(s <= x)) return false;
        if (endTruth !== undefined && slotEnd(x, minutes, tz) !== endTruth) return false;
        if (slotEnd(x, minutes, tz) !== slotEnd(s, minutes, tz)) return false;
      }
      return true;
    },
  ), { numRuns: 200 });
  t.pass('partition');
});
