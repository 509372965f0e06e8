/**
 * Deterministic replicated clearing: every peer runs these pure functions on the order
 * set agreed at gate closure and gets the same bytes (canonical JSON), whatever order
 * the orders arrived in and however often each was received.
 *
 * Per (slot, slotMinutes) and per zone, a uniform-price call auction:
 *
 * - Only live orders (`liveOrderSet`) take part; orders trade only with orders of the
 *   same slot, slot length and zone. An agent has one live order per slot, so it never
 *   trades with itself.
 * - A buyer's effective value is limit − fee, a seller's effective cost is limit + fee.
 *   Merit order: buyers by value descending, sellers by cost ascending, ties by order
 *   id ascending. Two pointers fill greedily, in whole Wh, while value >= cost.
 *
 * Why that maximises welfare Σ (value − cost) × Wh: cut every order into 1 Wh units.
 * Any feasible allocation trading Q units has welfare at most (the Q highest buyer
 * unit values) − (the Q lowest seller unit costs), and the greedy attains exactly that
 * bound for its Q. The marginal term v(k) − c(k) of the k-th best buyer unit against
 * the k-th best seller unit falls as k grows, and the greedy stops at the last k with
 * v(k) − c(k) >= 0, so no other Q does better. (Matching zero-surplus units too leaves
 * welfare unchanged and trades more energy.)
 *
 * The price rule. With the greedy done, let
 *   vLast = value of the last (lowest-value) buyer that got a fill,
 *   cLast = cost of the last (highest-cost) seller that got a fill,
 *   vNext = value of the first buyer in merit order with energy left (if any),
 *   cNext = cost of the first seller in merit order with energy left (if any),
 * and lo = max(cLast, vNext), hi = min(vLast, cNext) (a missing bound drops out).
 * [lo, hi] is the set of prices at which the allocation is a competitive equilibrium:
 * every matched buyer wants its energy, every matched seller wants to sell, and no
 * trader with energy left would trade more. The price is its midpoint, k = 0.5 as in
 * PowerTAC's k-double auction, rounded down to whole sen/kWh:
 *
 *   p = floor((lo + hi) / 2)
 *
 * Proof that every fill respects both limits:
 *   lo <= hi: cLast <= vLast because the last fill had value >= cost; cLast <= cNext
 *   and vNext <= vLast by the merit order (sellers with energy left come at or after
 *   the last matched seller, buyers likewise); vNext < cNext because the loop stopped
 *   on exactly that pair when both exist. All four are integers, so lo <= p <= hi.
 *   Every matched buyer b has value(b) >= vLast >= hi >= p, so it pays
 *   p + fee(b) <= value(b) + fee(b) = limit(b). Every matched seller s has
 *   cost(s) <= cLast <= lo <= p, so it gets p − fee(s) >= cost(s) − fee(s) = limit(s).
 *   And p >= 0, since lo >= cLast >= 0.
 *
 * Sizes are bounded by validateOrder (energy <= 10^6 Wh, prices and fees <= 10^5
 * sen/kWh), so all sums are exact integers far below 2^53 for any realistic book.
 */
import { compareStrings, digestOfLive, liveOrderSet } from './order.js';
import type { ClearingResult, Fill, Order, SlotStart } from './types.js';

/**
 * Clears one slot: the orders of `slot` with `slotMinutes` (all others are ignored),
 * reduced to their live set. Always returns a result; without trades, `prices` and
 * `fills` are empty and `welfareMillisen` is 0. Orders must have passed validateOrder.
 */
export function clearSlot(orders: readonly Order[], slot: SlotStart, slotMinutes: number): ClearingResult {
  const mine = orders.filter((o) => o.slot === slot && o.slotMinutes === slotMinutes);
  return clearLive(liveOrderSet(mine).orders, slot, slotMinutes);
}

/**
 * Clears every (slot, slotMinutes) that has at least one live order, sorted by slot and
 * then slot length. A slot whose orders were all cancelled yields no result, so a peer
 * that never saw the cancelled order agrees with one that saw both.
 */
export function clearAll(orders: readonly Order[]): ClearingResult[] {
  const groups = new Map<string, { slot: SlotStart; slotMinutes: number; orders: Order[] }>();
  for (const order of liveOrderSet(orders).orders) {
    const key = `${order.slot}/${order.slotMinutes}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { slot: order.slot, slotMinutes: order.slotMinutes, orders: [] }));
    group.orders.push(order); // stays sorted by id
  }
  return [...groups.values()]
    .sort((a, b) => a.slot - b.slot || a.slotMinutes - b.slotMinutes)
    .map((g) => clearLive(g.orders, g.slot, g.slotMinutes));
}

/** Clears live orders of one slot, sorted by id. */
function clearLive(live: readonly Order[], slot: SlotStart, slotMinutes: number): ClearingResult {
  const byZone = new Map<string, Order[]>();
  for (const order of live) {
    let zone = byZone.get(order.zone);
    if (!zone) byZone.set(order.zone, (zone = []));
    zone.push(order);
  }
  const prices: { zone: string; priceSenPerKWh: number }[] = [];
  const fills: Fill[] = [];
  let welfareMillisen = 0;
  for (const zone of [...byZone.keys()].sort(compareStrings)) {
    const cleared = clearZone(byZone.get(zone)!, slot, zone);
    if (!cleared) continue;
    prices.push({ zone, priceSenPerKWh: cleared.price });
    fills.push(...cleared.fills);
    welfareMillisen += cleared.welfareMillisen;
  }
  fills.sort((a, b) => compareStrings(a.zone, b.zone) || compareStrings(a.sellOrder, b.sellOrder) || compareStrings(a.buyOrder, b.buyOrder));
  return { slot, slotMinutes, digest: digestOfLive(live), prices, fills, welfareMillisen };
}

interface Side {
  order: Order;
  /** Buyer: value = limit − fee; seller: cost = limit + fee. */
  merit: number;
  left: number;
}

interface ZoneClearing {
  price: number;
  fills: Fill[];
  welfareMillisen: number;
}

function clearZone(orders: readonly Order[], slot: SlotStart, zone: string): ZoneClearing | null {
  const buyers: Side[] = [];
  const sellers: Side[] = [];
  for (const order of orders) {
    if (order.energyWh <= 0) continue;
    if (order.side === 'buy') buyers.push({ order, merit: order.limitSenPerKWh - order.feeSenPerKWh, left: order.energyWh });
    else sellers.push({ order, merit: order.limitSenPerKWh + order.feeSenPerKWh, left: order.energyWh });
  }
  buyers.sort((a, b) => b.merit - a.merit || compareStrings(a.order.id, b.order.id));
  sellers.sort((a, b) => a.merit - b.merit || compareStrings(a.order.id, b.order.id));

  const matched: { buyer: Side; seller: Side; energyWh: number }[] = [];
  let welfareMillisen = 0;
  let i = 0;
  let j = 0;
  while (i < buyers.length && j < sellers.length) {
    const buyer = buyers[i]!;
    const seller = sellers[j]!;
    if (buyer.merit < seller.merit) break;
    const energyWh = Math.min(buyer.left, seller.left);
    matched.push({ buyer, seller, energyWh });
    welfareMillisen += (buyer.merit - seller.merit) * energyWh;
    buyer.left -= energyWh;
    seller.left -= energyWh;
    if (buyer.left === 0) i++;
    if (seller.left === 0) j++;
  }
  const last = matched[matched.length - 1];
  if (!last) return null;

  let lo = last.seller.merit;
  let hi = last.buyer.merit;
  const nextBuyer = buyers[i];
  const nextSeller = sellers[j];
  if (nextBuyer) lo = Math.max(lo, nextBuyer.merit);
  if (nextSeller) hi = Math.min(hi, nextSeller.merit);
  if (lo > hi || lo < 0) throw new Error(`clearing invariant broken: price interval [${lo}, ${hi}]`);
  const price = Math.floor((lo + hi) / 2);

  const fills = matched.map(({ buyer, seller, energyWh }): Fill => ({
    slot,
    zone,
    sellOrder: seller.order.id,
    buyOrder: buyer.order.id,
    seller: seller.order.owner,
    buyer: buyer.order.owner,
    energyWh,
    priceSenPerKWh: price,
    buyerPaysSenPerKWh: price + buyer.order.feeSenPerKWh,
    sellerGetsSenPerKWh: price - seller.order.feeSenPerKWh,
  }));
  return { price, fills, welfareMillisen };
}
