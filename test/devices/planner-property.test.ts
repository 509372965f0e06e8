import t from 'tap';
import fc from 'fast-check';
import { planBlocks, type WantedSpan, type PlanOptions, type ReadPlan } from '../../agent/devices/planner.js';
import { minRequests } from '../bench/min-requests.js';

interface Case { spans: WantedSpan[]; options: PlanOptions }

const caseArb: fc.Arbitrary<Case> = fc.record({
  start: fc.integer({ min: 0, max: 200 }),
  items: fc.array(fc.record({
    step: fc.integer({ min: -3, max: 14 }),
    size: fc.integer({ min: 1, max: 4 }),
    fc: fc.constantFrom<3 | 4>(3, 3, 3, 4),
    bundle: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 2 }),
  }), { minLength: 0, maxLength: 22 }),
  barrierPicks: fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 4 }),
  maxGap: fc.integer({ min: 0, max: 40 }),
  maxRegisters: fc.oneof(fc.constant(125), fc.integer({ min: 4, max: 40 })),
}).map(({ start, items, barrierPicks, maxGap, maxRegisters }) => {
  let address = start;
  const spans = items.map((it, k) => {
    address = Math.max(0, address + it.step);
    // Bundles are per fc so a bundle never mixes function codes.
    const s: WantedSpan = { key: `s${k}`, address, size: it.size, fc: it.fc };
    if (it.bundle !== null) s.bundle = `fc${it.fc}-b${it.bundle}`;
    return s;
  });
  const barriers = barrierPicks.map((p) => start + p % Math.max(1, address - start + 5));
  return { spans, options: { maxRegisters, maxGap, barriers } };
});

function checkPlan(c: Case, plan: ReadPlan): string | undefined {
  const byKey = new Map(c.spans.map((s) => [s.key, s]));
  const barriers = new Set(c.options.barriers);
  const seen = new Map<string, number>();
  for (const [bi, b] of plan.blocks.entries()) {
    if (b.count > c.options.maxRegisters) return `block ${bi} has ${b.count} registers`;
    for (let a = b.address; a < b.address + b.count; a++) if (barriers.has(a)) return `block ${bi} contains barrier ${a}`;
    const spans = b.keys.map((k) => byKey.get(k)!);
    if (spans.length === 0) return `block ${bi} is empty`;
    for (const s of spans) {
      if (s.fc !== b.fc) return `block ${bi} mixes fc`;
      if (s.address < b.address || s.address + s.size > b.address + b.count) return `${s.key} is not inside block ${bi}`;
      if (seen.has(s.key)) return `${s.key} is in two blocks`;
      seen.set(s.key, bi);
    }
    if (!spans.some((s) => s.address === b.address)) return `block ${bi} does not start on a span start`;
    if (!spans.some((s) => s.address + s.size === b.address + b.count)) return `block ${bi} does not end on a span end`;
    // Registers inside a bundle's hull are read on purpose (value and scale factor share a request).
    const hulls = [...new Set(spans.map((s) => s.bundle).filter((x) => x !== undefined))].map((bundle) => {
      const members = spans.filter((s) => s.bundle === bundle);
      return { lo: Math.min(...members.map((m) => m.address)), hi: Math.max(...members.map((m) => m.address + m.size)) };
    });
    let hole = 0;
    for (let a = b.address; a < b.address + b.count; a++) {
      const covered = spans.some((s) => a >= s.address && a < s.address + s.size) || hulls.some((h) => a >= h.lo && a < h.hi);
      hole = covered ? 0 : hole + 1;
      if (hole > c.options.maxGap) return `block ${bi} has a gap over maxGap at ${a}`;
    }
    if (bi > 0) {
      const prev = plan.blocks[bi - 1]!;
      if (prev.fc > b.fc || (prev.fc === b.fc && prev.address >= b.address)) return 'blocks are not ordered';
    }
  }
  const errorKeys = plan.errors.flatMap((e) => e.keys);
  for (const s of c.spans) {
    const places = (seen.has(s.key) ? 1 : 0) + (plan.unreadable.includes(s.key) ? 1 : 0) + (errorKeys.includes(s.key) ? 1 : 0);
    if (places !== 1) return `${s.key} appears ${places} times among planned, unreadable and errors`;
    const coversBarrier = [...barriers].some((a) => a >= s.address && a < s.address + s.size);
    if (coversBarrier !== plan.unreadable.includes(s.key)) return `${s.key} unreadable flag is wrong`;
  }
  const bundleBlock = new Map<string, number>();
  for (const s of c.spans) {
    if (s.bundle === undefined || !seen.has(s.key)) continue;
    const where = bundleBlock.get(s.bundle);
    if (where !== undefined && where !== seen.get(s.key)) return `bundle ${s.bundle} is split`;
    bundleBlock.set(s.bundle, seen.get(s.key)!);
  }
  return undefined;
}

t.test('planner block count equals the exhaustive DP minimum, and every block is valid', async (t) => {
  let withErrors = 0;
  fc.assert(fc.property(caseArb, (c) => {
    const plan = planBlocks(c.spans, c.options);
    const problem = checkPlan(c, plan);
    if (problem) throw new Error(problem);
    const planned = new Set(plan.blocks.flatMap((b) => b.keys));
    const plannedSpans = c.spans.filter((s) => planned.has(s.key));
    const minimumForPlanned = minRequests(plannedSpans, c.options);
    if (plan.blocks.length !== minimumForPlanned) throw new Error(`planner used ${plan.blocks.length} blocks, minimum is ${minimumForPlanned}`);
    const minimumForAll = minRequests(c.spans, c.options);
    const bundleDrops = plan.errors.filter((e) => /cannot be read in one request/.test(e.reason));
    if (minimumForAll === Infinity) {
      if (bundleDrops.length === 0) throw new Error('bundles cannot all be honoured, yet the planner reported no bundle error');
      withErrors++;
    } else {
      if (bundleDrops.length > 0) throw new Error(`planner dropped a bundle that fits: ${bundleDrops[0]!.reason}`);
      if (plan.blocks.length !== minimumForAll) throw new Error(`planner used ${plan.blocks.length} blocks, minimum is ${minimumForAll}`);
    }
  }), { numRuns: 3000, seed: 20260621 });
  t.pass(`checked; ${withErrors} cases needed a bundle dropped`);
});

t.test('the planner is deterministic and ignores input order', async (t) => {
  fc.assert(fc.property(caseArb, fc.integer(), (c, shuffleSeed) => {
    const shuffled = [...c.spans];
    let x = shuffleSeed >>> 0;
    for (let i = shuffled.length - 1; i > 0; i--) {
      x = (x * 1103515245 + 12345) >>> 0;
      const j = x % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const a = planBlocks(c.spans, c.options);
    const b = planBlocks(shuffled, c.options);
    if (JSON.stringify(a.blocks) !== JSON.stringify(b.blocks)) throw new Error('order-dependent blocks');
  }), { numRuns: 500, seed: 7 });
  t.pass();
});
