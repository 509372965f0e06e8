import fc from 'fast-check';
import { withOrderId } from '../../agent/market/order.js';
import type { Order, Side } from '../../agent/market/types.js';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A valid peer id for test owner number n. */
export function peer(n: number): string {
  let s = '';
  let x = n;
  do {
    s = BASE32[x % 32]! + s;
    x = Math.floor(x / 32);
  } while (x > 0);
  return `t${s.padStart(22, 'a')}`;
}

/** 12:00 JST on 2026-06-21, a 30- and 60-minute slot start in Asia/Tokyo. */
export const SLOT = Date.UTC(2026, 5, 21, 3, 0);

export interface OrderSpec {
  owner?: number | string;
  side: Side;
  energyWh: number;
  limit: number;
  fee?: number;
  zone?: string;
  slot?: number;
  slotMinutes?: number;
  rev?: number;
}

export function order(spec: OrderSpec): Order {
  return withOrderId({
    owner: typeof spec.owner === 'string' ? spec.owner : peer(spec.owner ?? 0),
    slot: spec.slot ?? SLOT,
    slotMinutes: spec.slotMinutes ?? 30,
    side: spec.side,
    energyWh: spec.energyWh,
    limitSenPerKWh: spec.limit,
    feeSenPerKWh: spec.fee ?? 0,
    zone: spec.zone ?? 'default',
    rev: spec.rev ?? 1,
  });
}

export interface BookShape {
  owners: number;
  slots: readonly number[];
  slotMinutes: readonly number[];
  zones: readonly string[];
  maxEnergyWh: number;
  maxLimit: number;
  maxFee: number;
  maxRev: number;
  maxOrders: number;
  /** Chance (0..1) that an order is a cancellation. */
  cancelWeight?: number;
}

export const SMALL_BOOK: BookShape = {
  owners: 10, slots: [SLOT, SLOT + 1_800_000], slotMinutes: [30, 30, 30, 60], zones: ['a', 'b'],
  maxEnergyWh: 3000, maxLimit: 60, maxFee: 10, maxRev: 3, maxOrders: 24,
};

/**
 * Random books: few owners, prices from a small range (so ties are common), several
 * revisions per owner and slot (amendments, cancellations and equivocations).
 */
export function arbBook(shape: BookShape = SMALL_BOOK): fc.Arbitrary<Order[]> {
  const one = fc.record({
    owner: fc.integer({ min: 0, max: shape.owners - 1 }),
    slot: fc.constantFrom(...shape.slots),
    slotMinutes: fc.constantFrom(...shape.slotMinutes),
    zone: fc.constantFrom(...shape.zones),
    side: fc.constantFrom<Side>('sell', 'buy'),
    energyWh: fc.oneof(
      { weight: 1, arbitrary: fc.constant(0) },
      { weight: 6, arbitrary: fc.integer({ min: 1, max: shape.maxEnergyWh }) },
    ),
    limit: fc.integer({ min: 0, max: shape.maxLimit }),
    fee: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: shape.maxFee })),
    rev: fc.integer({ min: 1, max: shape.maxRev }),
  });
  return fc.array(one, { minLength: Math.floor(shape.maxOrders / 3), maxLength: shape.maxOrders }).map((specs) => specs.map((s) => order(s)));
}

/** A permutation of the orders with some of them repeated (as separate copies). */
export function arbReshuffle(orders: readonly Order[]): fc.Arbitrary<Order[]> {
  if (orders.length === 0) return fc.constant([]);
  return fc.array(fc.nat({ max: orders.length - 1 }), { maxLength: 10 }).chain((dupes) => {
    const all = [...orders, ...dupes.map((i) => ({ ...orders[i]! }))];
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
  });
}
