/**
 * Reference minimum number of read requests, computed by brute force: a
 * dynamic program over every split of the address-sorted read items into
 * consecutive groups, checking each group from scratch. Deliberately shares
 * no code with agent/devices/planner.ts, so it can check and benchmark it.
 *
 * Rules (the planner's): an item is a span without a bundle, or a whole
 * bundle (its members must come from one request). A group is read as
 * [lowest start, highest end); that range holds at most maxRegisters, no
 * barrier, and no run of more than maxGap registers that no readable span
 * and no bundle's hull covers (a bundle forces its inner registers to be read). FC3 and FC4 are planned separately. Spans covering a barrier or
 * longer than maxRegisters, and their bundle partners, are not read.
 * Returns Infinity when some bundle can never be read in one request.
 */
export interface RefSpan {
  key: string;
  address: number;
  size: number;
  fc: 3 | 4;
  bundle?: string;
}

export interface RefOptions {
  maxRegisters: number;
  maxGap: number;
  barriers: ReadonlySet<number> | readonly number[];
}

interface Item { lo: number; hi: number }

function hasBarrier(barrierSet: Set<number>, from: number, to: number): boolean {
  for (let a = from; a < to; a++) if (barrierSet.has(a)) return true;
  return false;
}

function rangeIsReadable(lo: number, hi: number, wanted: Set<number>, options: RefOptions, barrierSet: Set<number>): boolean {
  if (hi - lo > options.maxRegisters || hasBarrier(barrierSet, lo, hi)) return false;
  let hole = 0;
  for (let a = lo; a < hi; a++) {
    hole = wanted.has(a) ? 0 : hole + 1;
    if (hole > options.maxGap) return false;
  }
  return true;
}

function minForOneFc(spans: RefSpan[], options: RefOptions, barrierSet: Set<number>): number {
  const wanted = new Set<number>();
  for (const s of spans) for (let a = s.address; a < s.address + s.size; a++) wanted.add(a);
  const items: Item[] = [];
  const bundles = new Map<string, Item>();
  for (const s of spans) {
    const lo = s.address;
    const hi = s.address + s.size;
    if (s.bundle === undefined) { items.push({ lo, hi }); continue; }
    const b = bundles.get(s.bundle);
    if (b) { b.lo = Math.min(b.lo, lo); b.hi = Math.max(b.hi, hi); } else bundles.set(s.bundle, { lo, hi });
  }
  items.push(...bundles.values());
  for (const b of bundles.values()) for (let a = b.lo; a < b.hi; a++) wanted.add(a);
  items.sort((a, b) => a.lo - b.lo || b.hi - a.hi);
  const n = items.length;
  const best = new Array<number>(n + 1).fill(Infinity);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    for (let i = 0; i < j; i++) {
      if (best[i] === Infinity) continue;
      const group = items.slice(i, j);
      const lo = Math.min(...group.map((g) => g.lo));
      const hi = Math.max(...group.map((g) => g.hi));
      if (rangeIsReadable(lo, hi, wanted, options, barrierSet)) best[j] = Math.min(best[j]!, best[i]! + 1);
    }
  }
  return best[n]!;
}

/** Minimum number of read requests covering every readable span. */
export function minRequests(spans: readonly RefSpan[], options: RefOptions): number {
  const barrierSet = new Set(options.barriers);
  const unique = new Map<string, RefSpan>();
  for (const s of spans) unique.set(s.key, s);
  const all = [...unique.values()];
  const lost = new Set<string>();
  for (const s of all) {
    if (hasBarrier(barrierSet, s.address, s.address + s.size) || s.size > options.maxRegisters) {
      lost.add(s.key);
      if (s.bundle !== undefined) for (const t of all) if (t.bundle === s.bundle) lost.add(t.key);
    }
  }
  const readable = all.filter((s) => !lost.has(s.key));
  if (readable.some((s) => readable.some((t) => t.bundle !== undefined && t.bundle === s.bundle && t.fc !== s.fc))) return Infinity;
  let total = 0;
  for (const fc of [3, 4] as const) {
    const ofFc = readable.filter((s) => s.fc === fc);
    if (ofFc.length > 0) total += minForOneFc(ofFc, options, barrierSet);
  }
  return total;
}
