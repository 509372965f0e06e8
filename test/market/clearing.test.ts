import t from 'tap';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { clearAll, clearSlot } from '../../agent/market/clearing.js';
import { liveOrderSet, orderSetDigest } from '../../agent/market/order.js';
import type { ClearingResult, Order } from '../../agent/market/types.js';
import { canonicalJson } from '../../agent/mesh/canonical.js';
import { SLOT, arbBook, arbReshuffle, order, peer, type BookShape } from './helpers.js';

const RUNS = { numRuns: 200 };

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const digestOf = (orders: Order[]) => sha256(orders.map((o) => o.id).sort().join('\n'));
const byId = (orders: Order[], a: Order, b: Order) => (a.id < b.id ? [a, b] : [b, a]) as [Order, Order];

/** The one zone's price, or undefined. */
function price(result: ClearingResult, zone = 'default'): number | undefined {
  return result.prices.find((p) => p.zone === zone)?.priceSenPerKWh;
}

t.test('hand-worked book: a partly filled buyer sets the price', async (t) => {
  const a = order({ owner: 1, side: 'sell', energyWh: 2000, limit: 900 });
  const b = order({ owner: 2, side: 'sell', energyWh: 1000, limit: 1200 });
  const x = order({ owner: 3, side: 'buy', energyWh: 1500, limit: 3000 });
  const y = order({ owner: 4, side: 'buy', energyWh: 1000, limit: 1000 });
  const z = order({ owner: 5, side: 'buy', energyWh: 500, limit: 800 });
  // Merit order: buyers X 3000, Y 1000, Z 800; sellers A 900, B 1200.
  // X takes 1500 from A; Y takes A's last 500; Y (1000) < B (1200) stops the loop.
  // vLast = 1000 (Y), cLast = 900 (A), vNext = 1000 (Y has 500 left), cNext = 1200 (B):
  // [max(900, 1000), min(1000, 1200)] = [1000, 1000], so p = 1000.
  const result = clearSlot([z, y, x, b, a], SLOT, 30);
  const fill = (sell: Order, buy: Order, energyWh: number) => ({
    slot: SLOT, zone: 'default', sellOrder: sell.id, buyOrder: buy.id, seller: sell.owner, buyer: buy.owner,
    energyWh, priceSenPerKWh: 1000, buyerPaysSenPerKWh: 1000, sellerGetsSenPerKWh: 1000,
  });
  const fills = [fill(a, x, 1500), fill(a, y, 500)].sort((p, q) => (p.buyOrder < q.buyOrder ? -1 : 1));
  t.same(result, {
    slot: SLOT,
    slotMinutes: 30,
    digest: digestOf([a, b, x, y, z]),
    prices: [{ zone: 'default', priceSenPerKWh: 1000 }],
    fills,
    // (3000 − 900) × 1500 + (1000 − 900) × 500 = 3 200 000 millisen = 32 円
    welfareMillisen: 3_200_000,
  });
  t.equal(canonicalJson(clearSlot([a, b, x, y, z], SLOT, 30)), canonicalJson(result));
});

t.test('price rule: midpoint of [max(cLast, vNext), min(vLast, cNext)], floored', async (t) => {
  const a = order({ owner: 1, side: 'sell', energyWh: 1000, limit: 900 });
  const x = order({ owner: 2, side: 'buy', energyWh: 1000, limit: 3000 });
  const y = order({ owner: 3, side: 'buy', energyWh: 500, limit: 1000 });
  const b = order({ owner: 4, side: 'sell', energyWh: 500, limit: 2500 });
  // Only matched bounds: [900, 3000] → 1950.
  t.equal(price(clearSlot([a, x], SLOT, 30)), 1950);
  // An unmatched buyer at 1000 raises the floor: [1000, 3000] → 2000.
  t.equal(price(clearSlot([a, x, y], SLOT, 30)), 2000);
  // An unmatched seller at 2500 lowers the ceiling: [1000, 2500] → 1750.
  const both = clearSlot([a, x, y, b], SLOT, 30);
  t.equal(price(both), 1750);
  t.same(both.fills.map((f) => [f.sellOrder, f.buyOrder, f.energyWh]), [[a.id, x.id, 1000]]);
  // Odd sum rounds down: [900, 2999] → floor(3899 / 2) = 1949.
  t.equal(price(clearSlot([a, order({ owner: 2, side: 'buy', energyWh: 1000, limit: 2999 })], SLOT, 30)), 1949);
  // Zero surplus still trades, at that price, with zero welfare.
  const flat = clearSlot([order({ owner: 1, side: 'sell', energyWh: 700, limit: 1000 }), order({ owner: 2, side: 'buy', energyWh: 700, limit: 1000 })], SLOT, 30);
  t.equal(price(flat), 1000);
  t.equal(flat.fills[0]?.energyWh, 700);
  t.equal(flat.welfareMillisen, 0);
});

t.test('fees: value = limit − fee, cost = limit + fee; payments include them', async (t) => {
  // Buyer 20 円 with a 9.44 円 wheeling fee (value 1056) against a 8.5 円 seller (cost 850).
  const a = order({ owner: 1, side: 'sell', energyWh: 1000, limit: 850 });
  const x = order({ owner: 2, side: 'buy', energyWh: 1000, limit: 2000, fee: 944 });
  const r = clearSlot([a, x], SLOT, 30);
  t.equal(price(r), 953); // floor((850 + 1056) / 2)
  t.match(r.fills[0], { buyerPaysSenPerKWh: 1897, sellerGetsSenPerKWh: 953, priceSenPerKWh: 953 });
  t.equal(r.welfareMillisen, (1056 - 850) * 1000);
  // Limits cross (850 <= 1000) but fees do not leave room: cost 950 > value 900.
  const none = clearSlot([
    order({ owner: 1, side: 'sell', energyWh: 1000, limit: 850, fee: 100 }),
    order({ owner: 2, side: 'buy', energyWh: 1000, limit: 1000, fee: 100 }),
  ], SLOT, 30);
  t.same(none.fills, []);
  t.same(none.prices, []);
  // The seller's fee comes off what it receives.
  const s = clearSlot([
    order({ owner: 1, side: 'sell', energyWh: 400, limit: 800, fee: 100 }),
    order({ owner: 2, side: 'buy', energyWh: 400, limit: 1500 }),
  ], SLOT, 30);
  t.match(s.fills[0], { priceSenPerKWh: 1200, sellerGetsSenPerKWh: 1100, buyerPaysSenPerKWh: 1200, energyWh: 400 });
});

t.test('zones: trades and prices per zone, never across', async (t) => {
  const orders = [
    order({ owner: 1, zone: 'b', side: 'sell', energyWh: 500, limit: 1000 }),
    order({ owner: 2, zone: 'b', side: 'buy', energyWh: 500, limit: 1200 }),
    order({ owner: 3, zone: 'a', side: 'sell', energyWh: 1000, limit: 900 }),
    order({ owner: 4, zone: 'a', side: 'buy', energyWh: 1000, limit: 3000 }),
    order({ owner: 5, zone: 'c', side: 'sell', energyWh: 1000, limit: 100 }),
    order({ owner: 6, zone: 'd', side: 'buy', energyWh: 1000, limit: 5000 }),
  ];
  const r = clearSlot(orders, SLOT, 30);
  t.same(r.prices, [{ zone: 'a', priceSenPerKWh: 1950 }, { zone: 'b', priceSenPerKWh: 1100 }]);
  t.same(r.fills.map((f) => f.zone), ['a', 'b']);
  t.equal(r.welfareMillisen, 2100 * 1000 + 200 * 500);
  t.equal(r.digest, digestOf(orders), 'the digest covers every zone, traded or not');
});

t.test('ties are broken by order id ascending', async (t) => {
  const [s1, s2] = byId([], order({ owner: 1, side: 'sell', energyWh: 600, limit: 900 }), order({ owner: 2, side: 'sell', energyWh: 600, limit: 900 }));
  const x = order({ owner: 3, side: 'buy', energyWh: 1000, limit: 3000 });
  const r = clearSlot([s2, x, s1], SLOT, 30);
  t.same(r.fills.map((f) => [f.sellOrder, f.energyWh]), [[s1.id, 600], [s2.id, 400]]);
  t.equal(price(r), 900, 'a seller with energy left at 900 caps the price at 900');

  const [b1, b2] = byId([], order({ owner: 4, side: 'buy', energyWh: 600, limit: 2000 }), order({ owner: 5, side: 'buy', energyWh: 600, limit: 2000 }));
  const a = order({ owner: 6, side: 'sell', energyWh: 1000, limit: 900 });
  const r2 = clearSlot([b2, a, b1], SLOT, 30);
  t.same(r2.fills.map((f) => [f.buyOrder, f.energyWh]), [[b1.id, 600], [b2.id, 400]]);
  t.equal(price(r2), 2000, 'a buyer with energy left at 2000 sets the floor at 2000');
});

t.test('cancellations, amendments and equivocation', async (t) => {
  const x = order({ owner: 3, side: 'buy', energyWh: 1000, limit: 3000 });
  const a1 = order({ owner: 1, side: 'sell', energyWh: 1000, limit: 900, rev: 1 });
  const a2 = order({ owner: 1, side: 'sell', energyWh: 0, limit: 900, rev: 2 });
  const cancelled = clearSlot([a1, x, a2], SLOT, 30);
  t.same(cancelled.fills, []);
  t.equal(cancelled.digest, digestOf([x]));
  t.same(clearAll([a1, a2]), [], 'a slot with only cancelled orders has no result');

  const dear = order({ owner: 1, side: 'sell', energyWh: 1000, limit: 3500, rev: 1 });
  const cheap = order({ owner: 1, side: 'sell', energyWh: 1000, limit: 900, rev: 2 });
  t.equal(price(clearSlot([cheap, x, dear], SLOT, 30)), 1950, 'the amendment replaces rev 1');
  t.equal(price(clearSlot([x, dear], SLOT, 30)), undefined);

  const [kept, other] = byId([], order({ owner: 1, side: 'sell', energyWh: 1000, limit: 900, rev: 2 }), order({ owner: 1, side: 'sell', energyWh: 800, limit: 950, rev: 2 }));
  const r = clearSlot([other, x, kept, a1], SLOT, 30);
  t.same(r.fills.map((f) => f.sellOrder), [kept.id]);
  const live = liveOrderSet([other, x, kept, a1]);
  t.same(live.conflicts, [{ owner: peer(1), slot: SLOT, slotMinutes: 30, rev: 2, ids: [kept.id, other.id], superseded: false }]);
});

t.test('one-sided books and other slots', async (t) => {
  const buyers = [order({ owner: 1, side: 'buy', energyWh: 100, limit: 3000 }), order({ owner: 2, side: 'buy', energyWh: 100, limit: 2000 })];
  t.same(clearSlot(buyers, SLOT, 30), { slot: SLOT, slotMinutes: 30, digest: digestOf(buyers), prices: [], fills: [], welfareMillisen: 0 });
  const empty = clearSlot([], SLOT, 30);
  t.equal(empty.digest, sha256(''));

  // The same start with a different slot length never matches.
  const a = order({ owner: 1, side: 'sell', energyWh: 1000, limit: 900, slotMinutes: 30 });
  const x = order({ owner: 2, side: 'buy', energyWh: 1000, limit: 3000, slotMinutes: 60 });
  const all = clearAll([x, a]);
  t.same(all.map((r) => [r.slot, r.slotMinutes, r.fills.length]), [[SLOT, 30, 0], [SLOT, 60, 0]]);
  t.equal(clearSlot([a, x], SLOT, 30).digest, digestOf([a]));
  // A later slot is cleared separately and sorted after.
  const later = [order({ owner: 1, side: 'sell', energyWh: 10, limit: 1, slot: SLOT + 1_800_000 }), order({ owner: 2, side: 'buy', energyWh: 10, limit: 3, slot: SLOT + 1_800_000 })];
  const both = clearAll([...later, a, x]);
  t.same(both.map((r) => [r.slot, r.slotMinutes, price(r)]), [[SLOT, 30, undefined], [SLOT, 60, undefined], [SLOT + 1_800_000, 30, 2]]);
});

// ---------------------------------------------------------------------------------
// Properties

/** Live orders grouped the way the market may match them: slot, length and zone. */
function markets(orders: Order[]): Order[][] {
  const groups = new Map<string, Order[]>();
  for (const o of liveOrderSet(orders).orders) {
    const key = `${o.slot}|${o.slotMinutes}|${o.zone}`;
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  return [...groups.values()];
}

/**
 * Independent optimiser: maximum-welfare transportation by successive shortest paths
 * (Bellman-Ford on the residual graph, min-cost flow with cost −surplus), augmenting
 * while a path still adds welfare. Every buyer-seller pair gets an edge, even with
 * negative surplus, and residual edges can undo earlier pairings.
 */
function optimumWelfare(market: Order[]): number {
  const buyers = market.filter((o) => o.side === 'buy');
  const sellers = market.filter((o) => o.side === 'sell');
  const n = buyers.length + sellers.length + 2;
  const source = 0;
  const sink = n - 1;
  const inf = market.reduce((s, o) => s + o.energyWh, 0);
  const to: number[] = [], cap: number[] = [], cost: number[] = [], head: number[][] = Array.from({ length: n }, () => []);
  const edge = (u: number, v: number, c: number, w: number) => {
    head[u]!.push(to.length); to.push(v); cap.push(c); cost.push(w);
    head[v]!.push(to.length); to.push(u); cap.push(0); cost.push(-w);
  };
  buyers.forEach((b, i) => edge(source, 1 + i, b.energyWh, 0));
  sellers.forEach((s, j) => edge(1 + buyers.length + j, sink, s.energyWh, 0));
  buyers.forEach((b, i) => sellers.forEach((s, j) => {
    const surplus = (b.limitSenPerKWh - b.feeSenPerKWh) - (s.limitSenPerKWh + s.feeSenPerKWh);
    edge(1 + i, 1 + buyers.length + j, inf, -surplus);
  }));
  let totalCost = 0;
  for (;;) {
    const dist = new Array<number>(n).fill(Infinity);
    const via = new Array<number>(n).fill(-1);
    dist[source] = 0;
    for (let round = 0; round < n; round++) {
      let changed = false;
      for (let u = 0; u < n; u++) {
        if (dist[u] === Infinity) continue;
        for (const e of head[u]!) {
          if (cap[e]! > 0 && dist[u]! + cost[e]! < dist[to[e]!]!) {
            dist[to[e]!] = dist[u]! + cost[e]!;
            via[to[e]!] = e;
            changed = true;
          }
        }
      }
      if (!changed) break;
    }
    if (!(dist[sink]! < 0)) break;
    let flow = Infinity;
    for (let v = sink; v !== source; v = to[via[v]! ^ 1]!) flow = Math.min(flow, cap[via[v]!]!);
    for (let v = sink; v !== source; v = to[via[v]! ^ 1]!) { cap[via[v]!]! -= flow; cap[via[v]! ^ 1]! += flow; }
    totalCost += flow * dist[sink]!;
  }
  return -totalCost;
}

/** One market, full value ranges: many crossings per book. */
const ONE_MARKET: BookShape = {
  owners: 14, slots: [SLOT], slotMinutes: [30], zones: ['default'],
  maxEnergyWh: 1_000_000, maxLimit: 100_000, maxFee: 20_000, maxRev: 2, maxOrders: 16,
};

t.test('property (a): welfare equals the min-cost-flow optimum', async (t) => {
  let traded = 0;
  fc.assert(fc.property(fc.oneof(arbBook(), arbBook(ONE_MARKET)), (orders) => {
    const results = clearAll(orders);
    const optimum = markets(orders).reduce((s, m) => s + optimumWelfare(m), 0);
    const reported = results.reduce((s, r) => s + r.welfareMillisen, 0);
    const ids = new Map(orders.map((o) => [o.id, o]));
    const recomputed = results.flatMap((r) => r.fills).reduce((s, f) => {
      const b = ids.get(f.buyOrder)!;
      const a = ids.get(f.sellOrder)!;
      return s + ((b.limitSenPerKWh - b.feeSenPerKWh) - (a.limitSenPerKWh + a.feeSenPerKWh)) * f.energyWh;
    }, 0);
    if (results.some((r) => r.fills.length > 1)) traded++;
    return reported === optimum && recomputed === reported;
  }), RUNS);
  t.ok(traded > RUNS.numRuns / 5, `books with several fills: ${traded} of ${RUNS.numRuns}`);
});

t.test('property (b): byte-identical under permutation and duplication', async (t) => {
  fc.assert(fc.property(arbBook().chain((orders) => fc.tuple(fc.constant(orders), arbReshuffle(orders))), ([orders, shuffled]) => {
    if (canonicalJson(clearAll(orders)) !== canonicalJson(clearAll(shuffled))) return false;
    if (orderSetDigest(orders) !== orderSetDigest(shuffled)) return false;
    if (canonicalJson(liveOrderSet(orders)) !== canonicalJson(liveOrderSet(shuffled))) return false;
    for (const slotMinutes of [30, 60]) {
      if (canonicalJson(clearSlot(orders, SLOT, slotMinutes)) !== canonicalJson(clearSlot(shuffled, SLOT, slotMinutes))) return false;
    }
    return true;
  }), RUNS);
  t.pass('deterministic');
});

t.test('property (c): never over-commits an order or an owner', async (t) => {
  fc.assert(fc.property(arbBook(), (orders) => {
    const live = new Map(liveOrderSet(orders).orders.map((o) => [o.id, o]));
    for (const r of clearAll(orders)) {
      const perOrder = new Map<string, number>();
      const perOwner = new Map<string, number>();
      for (const f of r.fills) {
        const sell = live.get(f.sellOrder);
        const buy = live.get(f.buyOrder);
        // Fills only name live orders of this slot, length and zone, on the right side.
        if (!sell || !buy || sell.side !== 'sell' || buy.side !== 'buy') return false;
        for (const o of [sell, buy]) {
          if (o.slot !== r.slot || o.slotMinutes !== r.slotMinutes || o.zone !== f.zone) return false;
        }
        if (f.seller !== sell.owner || f.buyer !== buy.owner || f.seller === f.buyer) return false;
        if (!Number.isSafeInteger(f.energyWh) || f.energyWh <= 0) return false;
        for (const id of [f.sellOrder, f.buyOrder]) perOrder.set(id, (perOrder.get(id) ?? 0) + f.energyWh);
        for (const owner of [f.seller, f.buyer]) perOwner.set(owner, (perOwner.get(owner) ?? 0) + f.energyWh);
      }
      for (const [id, wh] of perOrder) if (wh > live.get(id)!.energyWh) return false;
      for (const [owner, wh] of perOwner) {
        const own = [...live.values()].filter((o) => o.owner === owner && o.slot === r.slot && o.slotMinutes === r.slotMinutes);
        if (own.length !== 1 || wh > own[0]!.energyWh) return false;
      }
    }
    return true;
  }), RUNS);
  t.pass('no over-commitment');
});

t.test('property (d): every fill within both limits, fees included; the price is an equilibrium', async (t) => {
  fc.assert(fc.property(arbBook(), (orders) => {
    const live = new Map(liveOrderSet(orders).orders.map((o) => [o.id, o]));
    for (const r of clearAll(orders)) {
      const prices = new Map(r.prices.map((p) => [p.zone, p.priceSenPerKWh]));
      if (new Set(r.fills.map((f) => f.zone)).size !== prices.size) return false;
      const filled = new Map<string, number>();
      for (const f of r.fills) {
        const p = prices.get(f.zone);
        const sell = live.get(f.sellOrder)!;
        const buy = live.get(f.buyOrder)!;
        if (p === undefined || f.priceSenPerKWh !== p || !Number.isSafeInteger(p) || p < 0) return false;
        if (f.buyerPaysSenPerKWh !== p + buy.feeSenPerKWh || f.buyerPaysSenPerKWh > buy.limitSenPerKWh) return false;
        if (f.sellerGetsSenPerKWh !== p - sell.feeSenPerKWh || f.sellerGetsSenPerKWh < sell.limitSenPerKWh) return false;
        for (const id of [f.sellOrder, f.buyOrder]) filled.set(id, (filled.get(id) ?? 0) + f.energyWh);
      }
      // Nobody with energy left would trade at the price: leftover buyers value it at
      // most p, leftover sellers cost at least p. And p is the floored midpoint of the
      // interval of such prices: [max(matched costs, leftover values), min(matched
      // values, leftover costs)], computed here from the fills rather than the pointers.
      for (const [zone, p] of prices) {
        let lo = -Infinity;
        let hi = Infinity;
        for (const o of live.values()) {
          if (o.zone !== zone || o.slot !== r.slot || o.slotMinutes !== r.slotMinutes) continue;
          const merit = o.side === 'buy' ? o.limitSenPerKWh - o.feeSenPerKWh : o.limitSenPerKWh + o.feeSenPerKWh;
          const got = filled.get(o.id) ?? 0;
          if (got < o.energyWh) {
            if (o.side === 'buy' && merit > p) return false;
            if (o.side === 'sell' && merit < p) return false;
            if (o.side === 'buy') lo = Math.max(lo, merit);
            else hi = Math.min(hi, merit);
          }
          if (got > 0) {
            if (o.side === 'sell') lo = Math.max(lo, merit);
            else hi = Math.min(hi, merit);
          }
        }
        if (p !== Math.floor((lo + hi) / 2)) return false;
      }
    }
    return true;
  }), RUNS);
  t.pass('limits respected');
});

t.test('property: fills are sorted and the digest is the live set digest', async (t) => {
  fc.assert(fc.property(arbBook(), (orders) => {
    for (const r of clearAll(orders)) {
      const keys = r.fills.map((f) => `${f.zone}\u0000${f.sellOrder}\u0000${f.buyOrder}`);
      if (keys.join('\n') !== [...keys].sort().join('\n') || new Set(keys).size !== keys.length) return false;
      const mine = orders.filter((o) => o.slot === r.slot && o.slotMinutes === r.slotMinutes);
      if (r.digest !== orderSetDigest(mine)) return false;
      if (canonicalJson(r) !== canonicalJson(clearSlot(orders, r.slot, r.slotMinutes))) return false;
    }
    return true;
  }), RUNS);
  t.pass('sorted');
});
