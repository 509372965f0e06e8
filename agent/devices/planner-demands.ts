/**
 * The planner's view of one function code: what must be read together
 * ("demands": a lone span, or the hull of a bundle) and which registers are
 * wanted at all. A register is unwanted when no planned span covers it; the
 * gap rule limits runs of unwanted registers inside a block.
 */
import type { PlanOptions, ReadFunctionCode, WantedSpan } from './planner.js';

/** Something that must sit inside one block: a lone span or a whole bundle. */
export interface Demand {
  start: number;
  /** Exclusive. */
  end: number;
  keys: string[];
  bundle?: string;
}

/** Union of the wanted registers as disjoint sorted intervals, with which gaps between them a block may cross. */
export interface WantedRegisters {
  starts: number[];
  ends: number[];
  /** badGapsBefore[k]: gaps among the first k intervals that are too long or hold a barrier. */
  badGapsBefore: number[];
}

/** First barrier in [start, end), if any. `barriers` is sorted. */
export function barrierWithin(barriers: readonly number[], start: number, end: number): number | undefined {
  let lo = 0;
  let hi = barriers.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (barriers[mid]! < start) lo = mid + 1; else hi = mid;
  }
  const b = barriers[lo];
  return b !== undefined && b < end ? b : undefined;
}

/**
 * The registers a block reads on purpose: every span, and everything inside a
 * bundle's hull (a value and its scale factor must share one request, so the
 * registers between them are read whatever the gap rule says).
 */
export function wantedRegisters(spans: readonly WantedSpan[], options: PlanOptions, barriers: readonly number[]): WantedRegisters {
  const hulls = demandsOf(spans).filter((d) => d.bundle !== undefined).map((d) => ({ address: d.start, size: d.end - d.start }));
  const sorted = [...spans, ...hulls].sort((a, b) => a.address - b.address);
  const starts: number[] = [];
  const ends: number[] = [];
  for (const s of sorted) {
    const last = ends.length - 1;
    if (last >= 0 && s.address <= ends[last]!) ends[last] = Math.max(ends[last]!, s.address + s.size);
    else { starts.push(s.address); ends.push(s.address + s.size); }
  }
  const badGapsBefore = [0];
  for (let k = 0; k + 1 < starts.length; k++) {
    const bad = starts[k + 1]! - ends[k]! > options.maxGap || barrierWithin(barriers, ends[k]!, starts[k + 1]!) !== undefined;
    badGapsBefore.push(badGapsBefore[k]! + (bad ? 1 : 0));
  }
  return { starts, ends, badGapsBefore };
}

/** Index of the wanted interval holding `address`; `address` must be wanted. */
function intervalOf(wanted: WantedRegisters, address: number): number {
  let lo = 0;
  let hi = wanted.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (wanted.starts[mid]! <= address) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/**
 * Whether [start, end) may be one read. Both ends are span boundaries, so
 * start and end - 1 are wanted, and barriers can only lie in the gaps.
 */
export function isReadable(wanted: WantedRegisters, start: number, end: number, maxRegisters: number): boolean {
  if (end - start > maxRegisters) return false;
  return wanted.badGapsBefore[intervalOf(wanted, end - 1)] === wanted.badGapsBefore[intervalOf(wanted, start)];
}

export function whyUnreadable(wanted: WantedRegisters, start: number, end: number, options: PlanOptions, barriers: readonly number[]): string {
  if (end - start > options.maxRegisters) {
    return `registers ${start}..${end - 1} are ${end - start}, more than maxRegisters ${options.maxRegisters}`;
  }
  const inside = barrierWithin(barriers, start, end);
  if (inside !== undefined && wanted.badGapsBefore[intervalOf(wanted, end - 1)] === wanted.badGapsBefore[intervalOf(wanted, start)]) {
    return `barrier register ${inside} lies inside registers ${start}..${end - 1}`;
  }
  for (let k = intervalOf(wanted, start); k < intervalOf(wanted, end - 1); k++) {
    const from = wanted.ends[k]!;
    const to = wanted.starts[k + 1]!;
    const barrier = barrierWithin(barriers, from, to);
    if (barrier !== undefined) return `barrier register ${barrier} lies between wanted registers ${from - 1} and ${to}`;
    if (to - from > options.maxGap) return `gap of ${to - from} unwanted registers (${from}..${to - 1}) exceeds maxGap ${options.maxGap}`;
  }
  return 'no reason found';
}

/** Lone spans and bundle hulls of one function code. */
export function demandsOf(spans: readonly WantedSpan[]): Demand[] {
  const demands: Demand[] = [];
  const bundles = new Map<string, Demand>();
  for (const s of spans) {
    const end = s.address + s.size;
    if (s.bundle === undefined) { demands.push({ start: s.address, end, keys: [s.key] }); continue; }
    const d = bundles.get(s.bundle);
    if (d) { d.start = Math.min(d.start, s.address); d.end = Math.max(d.end, end); d.keys.push(s.key); } else {
      bundles.set(s.bundle, { start: s.address, end, keys: [s.key], bundle: s.bundle });
    }
  }
  return [...demands, ...bundles.values()];
}

/** Demands not nested in another, sorted: their starts and ends both strictly increase. */
export function outermostDemands(demands: readonly Demand[]): Demand[] {
  const sorted = [...demands].sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Demand[] = [];
  for (const d of sorted) if (kept.length === 0 || d.end > kept[kept.length - 1]!.end) kept.push(d);
  return kept;
}

export type { ReadFunctionCode };
