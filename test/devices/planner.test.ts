import t from 'tap';
import { planBlocks, splitBlock, learnBarrier, defaultMaxGap, type WantedSpan, type PlanOptions } from '../../agent/devices/planner.js';

const opts = (over: Partial<PlanOptions> = {}): PlanOptions => ({ maxRegisters: 125, maxGap: 7, barriers: [], ...over });
const span = (key: string, address: number, size = 1, extra: Partial<WantedSpan> = {}): WantedSpan => ({ key, address, size, fc: 3, ...extra });

t.test('SunSpec-like value and scale factor are read in one block', async (t) => {
  // Model 103 body: W at 40083, W_SF at 40084; Hz at 40085, Hz_SF 40086; WH (acc32) at 40093, WH_SF at 40095.
  const spans = [
    span('W', 40083, 1, { bundle: 'W' }), span('W_SF', 40084, 1, { bundle: 'W' }),
    span('Hz', 40085, 1, { bundle: 'Hz' }), span('Hz_SF', 40086, 1, { bundle: 'Hz' }),
    span('WH', 40093, 2, { bundle: 'WH' }), span('WH_SF', 40095, 1, { bundle: 'WH' }),
  ];
  const plan = planBlocks(spans, opts());
  t.same(plan.blocks, [{ fc: 3, address: 40083, count: 13, keys: ['W', 'W_SF', 'Hz', 'Hz_SF', 'WH', 'WH_SF'] }]);
  t.same(plan.errors, []);
  t.same(plan.unreadable, []);
});

t.test('a value and its scale factor share a request even across a gap longer than maxGap', async (t) => {
  const spans = [span('A', 100, 1, { bundle: 'A' }), span('B', 105), span('A_SF', 110, 1, { bundle: 'A' })];
  const plan = planBlocks(spans, opts({ maxGap: 4 }));
  t.same(plan.blocks, [{ fc: 3, address: 100, count: 11, keys: ['A', 'B', 'A_SF'] }]);
  const farApart = planBlocks(spans, opts({ maxGap: 0 }));
  t.same(farApart.blocks, [{ fc: 3, address: 100, count: 11, keys: ['A', 'B', 'A_SF'] }]);
  t.same(farApart.errors, []);
  // The gap rule still holds outside the bundle's hull.
  const beyond = planBlocks([...spans, span('C', 120)], opts({ maxGap: 8 }));
  t.same(beyond.blocks.map((b) => [b.address, b.count]), [[100, 11], [120, 1]]);
  const tooLong = planBlocks([span('V', 0, 1, { bundle: 'V' }), span('V_SF', 130, 1, { bundle: 'V' })], opts());
  t.same(tooLong.blocks, []);
  t.match(tooLong.errors, [{ bundle: 'V', keys: ['V', 'V_SF'], reason: /131, more than maxRegisters 125/ }]);
});

t.test('gap rule: exactly maxGap merges, maxGap + 1 splits', async (t) => {
  const at = planBlocks([span('a', 0, 2), span('b', 2 + 7, 1)], opts({ maxGap: 7 }));
  t.same(at.blocks, [{ fc: 3, address: 0, count: 10, keys: ['a', 'b'] }]);
  const over = planBlocks([span('a', 0, 2), span('b', 2 + 8, 1)], opts({ maxGap: 7 }));
  t.same(over.blocks.map((b) => [b.address, b.count]), [[0, 2], [10, 1]]);
  const adjacent = planBlocks([span('a', 0, 2), span('b', 2, 2)], opts({ maxGap: 0 }));
  t.same(adjacent.blocks.map((b) => [b.address, b.count]), [[0, 4]]);
});

t.test('125-register limit', async (t) => {
  const fits = planBlocks([span('a', 0, 2), span('b', 123, 2)], opts({ maxGap: 200 }));
  t.same(fits.blocks.map((b) => [b.address, b.count]), [[0, 125]]);
  const over = planBlocks([span('a', 0, 2), span('b', 124, 2)], opts({ maxGap: 200 }));
  t.same(over.blocks.map((b) => [b.address, b.count]), [[0, 2], [124, 2]]);
  const huge = planBlocks([span('str', 0, 130)], opts());
  t.same(huge.blocks, []);
  t.match(huge.errors[0], { keys: ['str'], reason: /130 registers, more than maxRegisters 125/ });
  t.throws(() => planBlocks([], opts({ maxRegisters: 126 })), RangeError);
});

t.test('barriers: never inside a block; a span covering one is unreadable', async (t) => {
  const plan = planBlocks([span('a', 0), span('b', 2), span('c', 5, 2), span('d', 8)], opts({ barriers: new Set([3, 6]) }));
  t.same(plan.unreadable, ['c']);
  t.same(plan.blocks.map((b) => [b.address, b.count, b.keys]), [[0, 3, ['a', 'b']], [8, 1, ['d']]]);
  const bundled = planBlocks([span('v', 0, 1, { bundle: 'v' }), span('v_sf', 3, 1, { bundle: 'v' })], opts({ barriers: [3] }));
  t.same(bundled.unreadable, ['v_sf']);
  t.match(bundled.errors, [{ bundle: 'v', keys: ['v'], reason: /v_sf covers barrier register 3/ }]);
  const across = planBlocks([span('v', 0, 1, { bundle: 'v' }), span('v_sf', 3, 1, { bundle: 'v' })], opts({ barriers: [2] }));
  t.match(across.errors, [{ bundle: 'v', reason: /barrier register 2 lies inside registers 0..3/ }]);
});

t.test('FC3 and FC4 never share a block; output ordered by fc then address', async (t) => {
  const plan = planBlocks([span('i2', 10, 1, { fc: 4 }), span('h1', 10), span('i1', 0, 1, { fc: 4 }), span('h0', 0)], opts({ maxGap: 31 }));
  t.same(plan.blocks, [
    { fc: 3, address: 0, count: 11, keys: ['h0', 'h1'] },
    { fc: 4, address: 0, count: 11, keys: ['i1', 'i2'] },
  ]);
  const mixed = planBlocks([span('a', 0, 1, { bundle: 'x' }), span('b', 1, 1, { fc: 4, bundle: 'x' })], opts());
  t.same(mixed.blocks, []);
  t.match(mixed.errors[0], { bundle: 'x', reason: /mixes FC3 and FC4/ });
});

t.test('overlapping and duplicate spans', async (t) => {
  const plan = planBlocks([
    span('whole', 10, 4), span('inner', 11, 2), span('same', 10, 4), span('tail', 12, 4), span('whole', 10, 4),
  ], opts({ maxGap: 0 }));
  t.same(plan.blocks, [{ fc: 3, address: 10, count: 6, keys: ['same', 'whole', 'inner', 'tail'] }]);
  t.throws(() => planBlocks([span('k', 1), span('k', 2)], opts()), /twice/);
  // Two overlapping long spans that cannot share one read: two overlapping blocks.
  const long = planBlocks([span('x', 0, 100), span('y', 50, 100), span('z', 60, 2)], opts());
  t.same(long.blocks.map((b) => [b.address, b.count, b.keys]), [[0, 100, ['x', 'z']], [50, 100, ['y']]]);
});

t.test('a bundle member nested in two overlapping spans goes with its partner', async (t) => {
  const plan = planBlocks([
    span('x', 0, 100), span('y', 50, 100), span('n', 60, 2, { bundle: 'b' }), span('m', 140, 1, { bundle: 'b' }),
  ], opts());
  t.same(plan.blocks.map((b) => [b.address, b.count, b.keys]), [[0, 100, ['x']], [50, 100, ['y', 'n', 'm']]]);
});

t.test('bundles that cannot fit are dropped with a reason; interleaved ones get overlapping reads', async (t) => {
  // Like SunSpec model 160: one scale factor needed by repeating modules far apart.
  const perModule = [span('DCA_SF', 0, 1, { bundle: 'm0' }), ...Array.from({ length: 8 }, (_, m) => span(`DCA${m}`, 2 + 20 * m, 1, { bundle: `m${m}` }))];
  t.same(planBlocks(perModule, opts({ maxGap: 31 })).errors, []);
  const shared = [span('DCA_SF', 0, 1, { bundle: 'all' }), ...Array.from({ length: 8 }, (_, m) => span(`DCA${m}`, 2 + 20 * m, 1, { bundle: 'all' }))];
  const sharedPlan = planBlocks(shared, opts({ maxGap: 31 }));
  t.match(sharedPlan.errors, [{ bundle: 'all', reason: /more than maxRegisters 125/ }]);
  t.same(sharedPlan.blocks, []);
  const pairs = [
    span('a', 0, 1, { bundle: 'p' }), span('b', 60, 1, { bundle: 'q' }), span('a_sf', 100, 1, { bundle: 'p' }), span('b_sf', 140, 1, { bundle: 'q' }),
  ];
  const pairPlan = planBlocks(pairs, opts({ maxGap: 200 }));
  t.same(pairPlan.errors, []);
  t.same(pairPlan.blocks.map((b) => [b.address, b.count, b.keys]), [[0, 101, ['a', 'a_sf']], [60, 81, ['b', 'b_sf']]]);
});

t.test('splitBlock bisects on span boundaries, keeping bundles together when it can', async (t) => {
  const spans = [span('a', 0), span('b', 1, 1, { bundle: 'x' }), span('c', 2, 1, { bundle: 'x' }), span('d', 3)];
  const [block] = planBlocks(spans, opts()).blocks;
  const halves = splitBlock(block!, spans);
  t.same(halves.map((b) => b.keys), [['a'], ['b', 'c', 'd']]);
  t.same(halves.map((b) => [b.address, b.count]), [[0, 1], [1, 3]]);
  const single = { fc: 3 as const, address: 0, count: 1, keys: ['a'] };
  t.same(splitBlock(single, spans), [single]);
});

t.test('exception-2 bisection finds the bad register and re-planning avoids it', async (t) => {
  const spans = Array.from({ length: 10 }, (_, k) => span(`p${k}`, 100 + 2 * k, 1));
  const illegal = new Set([106]); // p3's register
  let barriers = new Set<number>();
  let reads = 0;
  let pending = planBlocks(spans, opts({ barriers })).blocks;
  for (let guard = 0; guard < 50 && pending.length > 0; guard++) {
    const block = pending.shift()!;
    reads++;
    const fails = [...illegal].some((a) => a >= block.address && a < block.address + block.count);
    if (!fails) continue;
    const parts = splitBlock(block, spans);
    if (parts.length === 1) barriers = learnBarrier(barriers, block); else pending.unshift(...parts);
  }
  t.ok(reads < 20);
  t.same([...barriers], [106]);
  const plan = planBlocks(spans, opts({ barriers }));
  t.same(plan.unreadable, ['p3']);
  t.same(plan.blocks.map((b) => [b.address, b.count]), [[100, 5], [108, 11]]);
});

t.test('defaultMaxGap follows Victron', async (t) => {
  t.equal(defaultMaxGap('tcp'), 31);
  t.equal(defaultMaxGap('rtu'), 7);
});
