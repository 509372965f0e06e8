/**
 * Read block planner: turns the points a device reader wants into as few
 * Modbus read requests as the coalescing rules allow. Pure; no I/O.
 *
 * Rules (devices.md §e, Victron `pack_regs`): a block starts at a span start
 * and ends at a span end, holds at most `maxRegisters`, never contains a
 * barrier register, never has more than `maxGap` unwanted registers between
 * consecutive spans, never mixes FC3 and FC4, and keeps every bundle (a value
 * and its scale factor) inside one block.
 *
 * Why greedy is optimal: a register counts as wanted when any planned span
 * covers it, so whether a range may be one read (length, barriers, gaps of
 * unwanted registers) is inherited by every sub-range that starts and ends
 * on span boundaries. Each lone span and each bundle hull is a "demand" that
 * some block must contain; demands nested in another drop out, leaving ones
 * whose starts and ends both increase. Taking the first uncovered demand and
 * extending its block over as many following demands as stay readable ends
 * every block at least as far right as any other plan does (induction on
 * blocks), so it uses the fewest blocks.
 */
import {
  barrierWithin, demandsOf, isReadable, outermostDemands, wantedRegisters, whyUnreadable,
} from './planner-demands.js';

export type ReadFunctionCode = 3 | 4;

export interface WantedSpan {
  key: string;
  address: number;
  /** Size in registers. */
  size: number;
  fc: ReadFunctionCode;
  /** Spans with the same bundle must be read in the same block (e.g. a value and its scale factor). */
  bundle?: string;
}

export interface PlanOptions {
  /** Registers per read; the Modbus limit is 125. */
  maxRegisters: number;
  /** Most unwanted registers allowed between two consecutive spans in one block. */
  maxGap: number;
  /** Registers known to raise exception 2 (illegal address); no block may contain one. */
  barriers: ReadonlySet<number> | readonly number[];
}

export interface ReadBlock {
  fc: ReadFunctionCode;
  address: number;
  count: number;
  /** Keys of the wanted spans this block delivers (each key is in exactly one block). */
  keys: string[];
}

export interface PlanError {
  keys: string[];
  bundle?: string;
  reason: string;
}

export interface ReadPlan {
  /** Ordered by fc, then address. */
  blocks: ReadBlock[];
  /** Keys of spans that themselves cover a barrier register. */
  unreadable: string[];
  /** Spans left out of the plan, with why (an unfittable bundle, an oversized span). */
  errors: PlanError[];
}

/** Modbus limit for FC3/FC4 reads. */
export const MAX_READ_REGISTERS = 125;

/**
 * Victron's hole_max: the gap worth reading through rather than paying a
 * request's overhead. RTU-over-TCP goes through a serial bus, so it gets the
 * serial value.
 */
export function defaultMaxGap(linkType: 'tcp' | 'rtu' | 'rtu-over-tcp'): number {
  return linkType === 'tcp' ? 31 : 7;
}

function validateOptions(options: PlanOptions): void {
  const { maxRegisters, maxGap } = options;
  if (!Number.isInteger(maxRegisters) || maxRegisters < 1 || maxRegisters > MAX_READ_REGISTERS) {
    throw new RangeError(`maxRegisters must be an integer in 1..${MAX_READ_REGISTERS}, got ${maxRegisters}`);
  }
  if (!Number.isInteger(maxGap) || maxGap < 0) throw new RangeError(`maxGap must be a non-negative integer, got ${maxGap}`);
}

function validateSpans(spans: readonly WantedSpan[]): WantedSpan[] {
  const byKey = new Map<string, WantedSpan>();
  for (const s of spans) {
    if (s.fc !== 3 && s.fc !== 4) throw new RangeError(`span ${s.key}: fc must be 3 or 4, got ${String(s.fc)}`);
    if (!Number.isInteger(s.address) || s.address < 0 || s.address > 0xffff) {
      throw new RangeError(`span ${s.key}: address must be an integer in 0..65535, got ${s.address}`);
    }
    if (!Number.isInteger(s.size) || s.size < 1 || s.address + s.size > 0x10000) {
      throw new RangeError(`span ${s.key}: size ${s.size} is not a positive integer ending inside the register space`);
    }
    const seen = byKey.get(s.key);
    if (seen) {
      if (seen.address !== s.address || seen.size !== s.size || seen.fc !== s.fc || seen.bundle !== s.bundle) {
        throw new RangeError(`span key ${s.key} is given twice with different definitions`);
      }
      continue;
    }
    byKey.set(s.key, s);
  }
  return [...byKey.values()];
}

function sortedBarriers(barriers: PlanOptions['barriers']): number[] {
  return [...new Set(barriers)].sort((a, b) => a - b);
}

/** Removes spans that cannot be read at all, and their bundle partners. */
function screenSpans(spans: WantedSpan[], barriers: number[], maxRegisters: number) {
  const unreadable: string[] = [];
  const errors: PlanError[] = [];
  const why = new Map<string, string>();
  for (const s of spans) {
    const barrier = barrierWithin(barriers, s.address, s.address + s.size);
    if (barrier !== undefined) {
      unreadable.push(s.key);
      why.set(s.key, `covers barrier register ${barrier}`);
    } else if (s.size > maxRegisters) {
      errors.push({ keys: [s.key], ...(s.bundle !== undefined ? { bundle: s.bundle } : {}), reason: `span is ${s.size} registers, more than maxRegisters ${maxRegisters}` });
      why.set(s.key, `is ${s.size} registers, more than maxRegisters ${maxRegisters}`);
    }
  }
  const brokenBundles = new Map<string, string>();
  const fcOfBundle = new Map<string, ReadFunctionCode>();
  for (const s of spans) {
    if (s.bundle === undefined) continue;
    const fc = fcOfBundle.get(s.bundle);
    if (fc !== undefined && fc !== s.fc) brokenBundles.set(s.bundle, 'bundle mixes FC3 and FC4 spans, which can never share a request');
    fcOfBundle.set(s.bundle, s.fc);
  }
  for (const s of spans) {
    const reason = why.get(s.key);
    if (reason !== undefined && s.bundle !== undefined && !brokenBundles.has(s.bundle)) {
      brokenBundles.set(s.bundle, `bundle member ${s.key} ${reason}`);
    }
  }
  for (const [bundle, reason] of brokenBundles) {
    const partners = spans.filter((s) => s.bundle === bundle && !why.has(s.key)).map((s) => s.key);
    if (partners.length > 0) errors.push({ keys: partners, bundle, reason });
  }
  const kept = spans.filter((s) => !why.has(s.key) && !(s.bundle !== undefined && brokenBundles.has(s.bundle)));
  return { kept, unreadable, errors };
}

/** Greedy cover of one function code's demands by the fewest readable ranges. */
function planOneFc(fc: ReadFunctionCode, spans: WantedSpan[], options: PlanOptions, barriers: number[]): ReadBlock[] {
  const wanted = wantedRegisters(spans, options, barriers);
  const demands = demandsOf(spans);
  const outer = outermostDemands(demands);
  const ranges: Array<{ start: number; end: number }> = [];
  let i = 0;
  while (i < outer.length) {
    const start = outer[i]!.start;
    let j = i;
    while (j + 1 < outer.length && isReadable(wanted, start, outer[j + 1]!.end, options.maxRegisters)) j++;
    ranges.push({ start, end: outer[j]!.end });
    i = j + 1;
  }
  const keys: string[][] = ranges.map(() => []);
  for (const d of demands) {
    const r = ranges.findIndex((range) => range.start <= d.start && d.end <= range.end);
    // Unreachable: every demand is nested in an outermost one, which is inside a range.
    if (r < 0) throw new Error(`planner: demand ${d.keys.join(',')} is in no block`);
    keys[r]!.push(...d.keys);
  }
  const addressOf = new Map(spans.map((s) => [s.key, s.address]));
  return ranges.map((range, r) => ({
    fc,
    address: range.start,
    count: range.end - range.start,
    keys: keys[r]!.sort((x, y) => addressOf.get(x)! - addressOf.get(y)! || (x < y ? -1 : x > y ? 1 : 0)),
  }));
}

/** Bundles whose hull cannot be one read given the currently wanted registers. */
function unreadableBundles(spans: WantedSpan[], options: PlanOptions, barriers: number[]): PlanError[] {
  const errors: PlanError[] = [];
  for (const fc of [3, 4] as const) {
    const ofFc = spans.filter((s) => s.fc === fc);
    const wanted = wantedRegisters(ofFc, options, barriers);
    for (const d of demandsOf(ofFc)) {
      if (d.bundle === undefined) continue;
      if (isReadable(wanted, d.start, d.end, options.maxRegisters) && barrierWithin(barriers, d.start, d.end) === undefined) continue;
      errors.push({ bundle: d.bundle, keys: d.keys, reason: `bundle cannot be read in one request: ${whyUnreadable(wanted, d.start, d.end, options, barriers)}` });
    }
  }
  return errors;
}

/** Plans the fewest read blocks that deliver every readable wanted span. */
export function planBlocks(spans: readonly WantedSpan[], options: PlanOptions): ReadPlan {
  validateOptions(options);
  const barriers = sortedBarriers(options.barriers);
  const screened = screenSpans(validateSpans(spans), barriers, options.maxRegisters);
  const errors = [...screened.errors];
  let active = screened.kept;
  // Dropping a bundle only removes wanted registers, which never makes another
  // bundle readable again; so each pass drops at least one bundle or finishes.
  for (;;) {
    const dropped = unreadableBundles(active, options, barriers);
    if (dropped.length === 0) break;
    errors.push(...dropped);
    const gone = new Set(dropped.map((e) => e.bundle));
    active = active.filter((s) => s.bundle === undefined || !gone.has(s.bundle));
  }
  const blocks = ([3, 4] as const).flatMap((fc) => {
    const ofFc = active.filter((s) => s.fc === fc);
    return ofFc.length > 0 ? planOneFc(fc, ofFc, options, barriers) : [];
  });
  return { blocks, unreadable: screened.unreadable.sort(), errors };
}

/**
 * Splits a block that drew exception 2 into two smaller blocks on span
 * boundaries (bisection), preferring a cut that keeps bundles together.
 * A block with a single span comes back unchanged: the caller should then
 * `learnBarrier` its range and re-plan.
 */
export function splitBlock(block: ReadBlock, spans: readonly WantedSpan[]): ReadBlock[] {
  const inBlock = new Set(block.keys);
  const members = validateSpans(spans.filter((s) => inBlock.has(s.key) && s.fc === block.fc))
    .sort((a, b) => a.address - b.address || (b.address + b.size) - (a.address + a.size) || (a.key < b.key ? -1 : 1));
  if (members.length < 2) return [block];
  const n = members.length;
  const keepsBundles = (c: number): boolean => {
    const left = new Set(members.slice(0, c).map((s) => s.bundle).filter((b) => b !== undefined));
    return !members.slice(c).some((s) => s.bundle !== undefined && left.has(s.bundle));
  };
  const cuts = Array.from({ length: n - 1 }, (_, k) => k + 1)
    .sort((a, b) => Math.abs(2 * a - n) - Math.abs(2 * b - n) || a - b);
  const cut = cuts.find(keepsBundles) ?? cuts[0]!;
  return [members.slice(0, cut), members.slice(cut)].map((part) => {
    const start = Math.min(...part.map((s) => s.address));
    const end = Math.max(...part.map((s) => s.address + s.size));
    return { fc: block.fc, address: start, count: end - start, keys: part.map((s) => s.key) };
  });
}

/** Adds every register of a block whose single-span read drew exception 2 to the barriers. */
export function learnBarrier(barriers: Iterable<number>, block: Pick<ReadBlock, 'address' | 'count'>): Set<number> {
  const next = new Set(barriers);
  for (let a = block.address; a < block.address + block.count; a++) next.add(a);
  return next;
}
