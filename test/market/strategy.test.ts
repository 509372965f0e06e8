import t from 'tap';
import fc from 'fast-check';
import type { SlotForecast } from '../../agent/market/forecast.js';
import { withOrderId } from '../../agent/market/order.js';
import {
  desiredOrders, needsAmend, orderChanges, type DesiredOrder, type Strategy,
} from '../../agent/market/strategy.js';
import type { Order } from '../../agent/market/types.js';

const SLOT = Date.UTC(2026, 5, 21, 3, 0);
const HALF_HOUR = 1_800_000;
const slot = (i: number) => SLOT + i * HALF_HOUR;
const OWNER = `t${'a'.repeat(22)}`;

const STRATEGY: Strategy = {
  slotMinutes: 30, zone: 'kita', sellFloorSenPerKWh: 1000, buyCapSenPerKWh: 2500, feeSenPerKWh: 0, minOrderWh: 100,
};

function f(i: number, surplusWh: number, backed = true): SlotForecast {
  return {
    slot: slot(i), pvWh: 0, loadWh: 0, batteryWh: 0, batterySaleWh: 0, grossSurplusWh: Math.max(0, surplusWh), surplusWh,
    socEndPct: undefined, backed,
  };
}

function live(d: DesiredOrder, rev = 1): Order {
  return withOrderId({ ...d, owner: OWNER, rev });
}

function want(i: number, side: 'sell' | 'buy', energyWh: number, extra: Partial<DesiredOrder> = {}): DesiredOrder {
  return {
    slot: slot(i), slotMinutes: 30, side, energyWh, limitSenPerKWh: side === 'sell' ? 1000 : 2500, feeSenPerKWh: 0, zone: 'kita', ...extra,
  };
}

t.test('desired orders: surplus offered at the floor, need bid at the cap, small and unbacked slots left out', async (t) => {
  const orders = desiredOrders([f(0, 1080), f(1, -600), f(2, 99), f(3, -99), f(4, 100), f(5, 2000, false), f(6, 0), f(7, -100)], STRATEGY);
  t.same(orders, [want(0, 'sell', 1080), want(1, 'buy', 600), want(4, 'sell', 100), want(7, 'buy', 100)]);
  const withFee = desiredOrders([f(0, 500)], { ...STRATEGY, feeSenPerKWh: 472, zone: 'minami', slotMinutes: 60 });
  t.same(withFee, [{ ...want(0, 'sell', 500), feeSenPerKWh: 472, zone: 'minami', slotMinutes: 60 }]);
  t.same(desiredOrders([f(1, 300), f(0, 300)], STRATEGY).map((o) => o.slot), [slot(0), slot(1)], 'sorted by slot');
  t.same(desiredOrders([f(0, 5_000_000)], STRATEGY)[0]?.energyWh, 1_000_000, 'capped at the largest valid order');
});

t.test('property: never offers more than the forecast allows; only backed slots; integers', async (t) => {
  const arb = fc.array(fc.record({ surplus: fc.integer({ min: -5000, max: 5000 }), backed: fc.boolean() }), { maxLength: 48 });
  fc.assert(fc.property(arb, fc.integer({ min: 0, max: 500 }), (rows, min) => {
    const forecast = rows.map((r, i) => f(i, r.surplus, r.backed));
    const orders = desiredOrders(forecast, { ...STRATEGY, minOrderWh: min });
    return orders.every((o) => {
      const slotForecast = forecast.find((s) => s.slot === o.slot)!;
      return slotForecast.backed && Number.isInteger(o.energyWh) && o.energyWh >= Math.max(1, min)
        && (o.side === 'sell' ? o.energyWh <= slotForecast.surplusWh : o.energyWh <= -slotForecast.surplusWh);
    });
  }));
});

t.test('order changes: place, cancel, keep', async (t) => {
  const a = live(want(0, 'sell', 1000));
  const b = live(want(1, 'buy', 600));
  const c = live(want(2, 'sell', 300));
  const changes = orderChanges([a, b, c], [want(0, 'sell', 1000), want(1, 'buy', 600), want(3, 'buy', 400)]);
  t.same(changes, { place: [want(3, 'buy', 400)], amend: [], cancel: [c] });
  t.same(orderChanges([], []), { place: [], amend: [], cancel: [] });
  // A cancellation (energy 0) is no live order; a higher revision wins.
  const cancelled = live({ ...want(4, 'sell', 0) }, 2);
  const old = live(want(5, 'sell', 200), 1);
  const newer = live(want(5, 'sell', 900), 2);
  t.same(orderChanges([cancelled, old, newer], [want(4, 'sell', 500), want(5, 'sell', 900)]), { place: [want(4, 'sell', 500)], amend: [], cancel: [] });
});

t.test('order changes: amend thresholds', async (t) => {
  const sell = live(want(0, 'sell', 1000));
  const buy = live(want(1, 'buy', 1000));
  const amends = (l: Order, d: DesiredOrder, options = {}) => orderChanges([l], [d], options).amend.length === 1;

  // An offer grows only past max(50 Wh, 10 %): 1,000 → 1,100 keeps, 1,101 amends.
  t.notOk(amends(sell, want(0, 'sell', 1100)));
  t.ok(amends(sell, want(0, 'sell', 1101)));
  // An offer shrinks at once, by even 1 Wh: never more than the forecast allows.
  t.ok(amends(sell, want(0, 'sell', 999)));
  // A bid moves either way only past the threshold.
  t.notOk(amends(buy, want(1, 'buy', 900)));
  t.notOk(amends(buy, want(1, 'buy', 1100)));
  t.ok(amends(buy, want(1, 'buy', 899)));
  t.ok(amends(buy, want(1, 'buy', 1101)));
  // Small orders: the 50 Wh floor rules (10 % of 200 is 20).
  const small = live(want(2, 'buy', 200));
  t.notOk(amends(small, want(2, 'buy', 250)));
  t.ok(amends(small, want(2, 'buy', 251)));
  // Thresholds are options.
  t.ok(amends(buy, want(1, 'buy', 1011), { amendMinWh: 10, amendPct: 1 }));
  t.notOk(amends(buy, want(1, 'buy', 1010), { amendMinWh: 10, amendPct: 1 }));
  // Anything else that differs amends: price, fee, zone, side, slot length.
  t.ok(amends(sell, want(0, 'sell', 1000, { limitSenPerKWh: 1001 })));
  t.ok(amends(sell, want(0, 'sell', 1000, { feeSenPerKWh: 1 })));
  t.ok(amends(sell, want(0, 'sell', 1000, { zone: 'minami' })));
  t.ok(amends(sell, want(0, 'buy', 1000)));
  t.ok(amends(sell, want(0, 'sell', 1000, { slotMinutes: 60 })));
  const change = orderChanges([sell], [want(0, 'buy', 400)]);
  t.same(change.amend, [{ live: sell, desired: want(0, 'buy', 400) }]);
  t.equal(needsAmend(sell, want(0, 'sell', 1000)), false);
});

t.test('order changes: only the managed slots are touched', async (t) => {
  const closed = live(want(0, 'sell', 1000));
  const open = live(want(1, 'sell', 1000));
  const changes = orderChanges([closed, open], [want(2, 'buy', 300)], { slots: [slot(1), slot(2)] });
  t.same(changes, { place: [want(2, 'buy', 300)], amend: [], cancel: [open] }, 'the closed slot\'s order is left alone');
  t.same(orderChanges([], [want(9, 'buy', 300)], { slots: [slot(1)] }).place, [], 'desired orders outside are ignored');
});

/** Runs the agent's order for one slot through a series of forecast surpluses; returns the amendments made. */
function follow(start: number, surpluses: readonly number[], check: (live: Order | undefined, surplus: number) => boolean): [number, number][] | false {
  let current: Order | undefined = live(want(0, 'sell', start));
  const amendments: [number, number][] = [];
  for (const surplus of surpluses) {
    const changes = orderChanges(current ? [current] : [], desiredOrders([f(0, surplus)], STRATEGY));
    for (const a of changes.amend) {
      amendments.push([a.live.energyWh, a.desired.energyWh]);
      current = live(a.desired, a.live.rev + 1);
    }
    for (const p of changes.place) current = live(p);
    if (changes.cancel.length > 0) current = undefined;
    if (!check(current, surplus)) return false;
  }
  return amendments;
}

t.test('a forecast wobbling within the threshold costs one amendment, not one per wobble', async (t) => {
  const wobble = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 1000 : 1040));
  t.same(follow(1040, wobble, () => true), [[1040, 1000]]);
  t.same(follow(1000, wobble, () => true), [], 'starting at the low end: none at all');
});

t.test('property: the live offer never exceeds the forecast; it grows only in steps past the threshold', async (t) => {
  fc.assert(fc.property(fc.integer({ min: 100, max: 5000 }), fc.array(fc.integer({ min: -120, max: 120 }), { minLength: 1, maxLength: 200 }), (start, steps) => {
    let surplus = start;
    const surpluses = steps.map((d) => (surplus = Math.max(0, surplus + d)));
    const amendments = follow(start, surpluses, (current, now) => current === undefined || (current.side === 'sell' && current.energyWh <= now));
    if (amendments === false) return false;
    return amendments.every(([from, to]) => to < from || to - from > Math.max(50, from / 10));
  }));
});
