import t from 'tap';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  MAX_ENERGY_WH, isValidOrder, liveOrderSet, orderId, orderSetDigest, validateOrder, withOrderId, type OrderContent,
} from '../../agent/market/order.js';
import type { Order } from '../../agent/market/types.js';
import { canonicalJson } from '../../agent/mesh/canonical.js';
import { SLOT, arbBook, arbReshuffle, order, peer } from './helpers.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const content: OrderContent = {
  owner: peer(7), slot: SLOT, slotMinutes: 30, side: 'sell', energyWh: 1200, limitSenPerKWh: 1050, feeSenPerKWh: 0, zone: 'default', rev: 1,
};

t.test('orderId is the SHA-256 of the canonical JSON of every field but id', async (t) => {
  const id = orderId(content);
  t.equal(id, sha256(canonicalJson(content)));
  t.match(id, /^[0-9a-f]{64}$/);
  t.equal(orderId({ ...content, id: 'whatever' } as Order), id, 'an id present is ignored');
  const reordered = Object.fromEntries(Object.entries(content).reverse()) as unknown as OrderContent;
  t.equal(orderId(reordered), id, 'key order does not matter');
  t.equal(withOrderId(content).id, id);
  for (const [field, value] of Object.entries({ owner: peer(8), slot: SLOT + 1_800_000, slotMinutes: 60, side: 'buy', energyWh: 1201, limitSenPerKWh: 1051, feeSenPerKWh: 1, zone: 'b', rev: 2 })) {
    t.not(orderId({ ...content, [field]: value }), id, `${field} is covered`);
  }
});

t.test('validateOrder accepts a good order and names each problem', async (t) => {
  const good = withOrderId(content);
  t.same(validateOrder(good), []);
  t.ok(isValidOrder(good));
  t.same(validateOrder(good, { timeZone: 'Asia/Tokyo' }), []);

  const problems = (value: unknown, options = {}) => validateOrder(value, options).map((p) => `${p.field}: ${p.message}`);
  t.same(problems(null), [': expected an order object, got null']);
  t.same(problems([good]), [': expected an order object, got an array']);
  t.same(problems({ ...good, energyWh: 1.5 }), ['energyWh: expected an integer from 0 to 1000000, got 1.5']);
  t.same(problems({ ...good, energyWh: MAX_ENERGY_WH + 1 }), ['energyWh: expected an integer from 0 to 1000000, got 1000001']);
  t.same(problems({ ...good, limitSenPerKWh: -1 }), ['limitSenPerKWh: expected an integer from 0 to 100000, got -1']);
  t.same(problems({ ...good, limitSenPerKWh: 100_001 }), ['limitSenPerKWh: expected an integer from 0 to 100000, got 100001']);
  t.same(problems({ ...good, feeSenPerKWh: -5 }), ['feeSenPerKWh: expected an integer from 0 to 100000, got -5']);
  t.same(problems({ ...good, slotMinutes: 45 }), ['slotMinutes: expected 15, 30 or 60, got 45']);
  t.same(problems({ ...good, side: 'bid' }), ['side: expected "sell" or "buy", got "bid"']);
  t.same(problems({ ...good, zone: 'Zone A' }), ['zone: expected 1 to 32 lowercase letters, digits or "-", got "Zone A"']);
  t.same(problems({ ...good, zone: 'z'.repeat(33) }).length, 1);
  t.same(problems({ ...good, rev: 0 }), ['rev: expected an integer >= 1, got 0']);
  t.same(problems({ ...good, owner: 'alice' }), ['owner: expected a peer id, got "alice"']);
  t.same(problems({ ...good, slot: SLOT + 1 }), ['slot: expected a whole-minute instant in ms since the epoch, got 1782010800001']);
  t.same(problems({ ...good, id: 'ABC' }), ['id: expected 64 lowercase hex digits, got "ABC"']);
  t.same(problems({ ...good, extra: 1 }), ['extra: unknown field']);
  const { rev: _rev, ...noRev } = good;
  t.same(problems(noRev), ['rev: expected an integer >= 1, got nothing']);
  // All fields well-formed, but the id names other content.
  t.same(problems({ ...good, energyWh: 1300 }), [`id: does not match the content (expected ${orderId({ ...content, energyWh: 1300 })})`]);
  // Several problems at once, in field order.
  t.same(validateOrder({ ...good, energyWh: -1, zone: '', rev: 1.5 }).map((p) => p.field), ['energyWh', 'zone', 'rev']);
  // Slot alignment in a local calendar: 12:15 JST is not a 30-minute slot start.
  const quarter = withOrderId({ ...content, slot: SLOT + 900_000 });
  t.same(validateOrder(quarter), []);
  t.same(problems(quarter, { timeZone: 'Asia/Tokyo' }), ['slot: 1782011700000 is not the start of a 30-minute slot in Asia/Tokyo']);
  t.same(validateOrder(withOrderId({ ...quarter, slotMinutes: 15 }), { timeZone: 'Asia/Tokyo' }), []);
  // 12:00 JST is 08:30 in Kolkata: aligned for 30 minutes, not for 60.
  t.same(validateOrder(withOrderId({ ...content, slotMinutes: 60 }), { timeZone: 'Asia/Kolkata' }).map((p) => p.field), ['slot']);
  t.same(validateOrder(good, { timeZone: 'Asia/Kolkata' }), []);
});

t.test('liveOrderSet: highest revision, cancellations dropped, duplicates once', async (t) => {
  const r1 = order({ owner: 1, side: 'sell', energyWh: 500, limit: 900, rev: 1 });
  const r2 = order({ owner: 1, side: 'sell', energyWh: 400, limit: 950, rev: 2 });
  const other = order({ owner: 2, side: 'buy', energyWh: 300, limit: 2000 });
  const otherSlot = order({ owner: 1, side: 'buy', energyWh: 300, limit: 2000, slot: SLOT + 1_800_000 });
  const otherLength = order({ owner: 1, side: 'buy', energyWh: 300, limit: 2000, slotMinutes: 60 });
  const live = liveOrderSet([r2, r1, other, { ...other }, otherSlot, otherLength, r1]);
  t.same(live.orders.map((o) => o.id), [r2, other, otherSlot, otherLength].map((o) => o.id).sort());
  t.same(live.conflicts, []);

  const cancel = order({ owner: 1, side: 'sell', energyWh: 0, limit: 950, rev: 3 });
  t.same(liveOrderSet([r1, cancel, r2]).orders, []);
  // A cancellation superseded by a later revision no longer counts.
  const revived = order({ owner: 1, side: 'buy', energyWh: 10, limit: 100, rev: 4 });
  t.same(liveOrderSet([r1, cancel, revived, r2]).orders, [revived]);
});

t.test('liveOrderSet: same revision, different content → lowest id, reported', async (t) => {
  const a = order({ owner: 1, side: 'sell', energyWh: 500, limit: 900, rev: 2 });
  const b = order({ owner: 1, side: 'buy', energyWh: 500, limit: 900, rev: 2 });
  const c = order({ owner: 1, side: 'sell', energyWh: 0, limit: 900, rev: 2 });
  const ids = [a, b, c].map((o) => o.id).sort();
  const lowest = [a, b, c].find((o) => o.id === ids[0])!;
  const live = liveOrderSet([c, b, a]);
  t.same(live.orders, lowest.energyWh > 0 ? [lowest] : []);
  t.same(live.conflicts, [{ owner: peer(1), slot: SLOT, slotMinutes: 30, rev: 2, ids, superseded: false }]);
  // A later revision supersedes the conflict, which stays on record.
  const r3 = order({ owner: 1, side: 'sell', energyWh: 100, limit: 900, rev: 3 });
  const later = liveOrderSet([a, b, r3]);
  t.same(later.orders, [r3]);
  t.same(later.conflicts, [{ owner: peer(1), slot: SLOT, slotMinutes: 30, rev: 2, ids: [a.id, b.id].sort(), superseded: true }]);
});

t.test('orderSetDigest: SHA-256 of the sorted live ids joined by newlines', async (t) => {
  const a = order({ owner: 1, side: 'sell', energyWh: 500, limit: 900 });
  const b = order({ owner: 2, side: 'buy', energyWh: 500, limit: 900 });
  const gone = order({ owner: 3, side: 'buy', energyWh: 0, limit: 900 });
  t.equal(orderSetDigest([b, gone, a, a]), sha256([a.id, b.id].sort().join('\n')));
  t.equal(orderSetDigest([]), sha256(''));
});

t.test('property: live set and digest ignore order and repetition; at most one live order per owner and slot', async (t) => {
  fc.assert(fc.property(arbBook().chain((orders) => fc.tuple(fc.constant(orders), arbReshuffle(orders))), ([orders, shuffled]) => {
    const live = liveOrderSet(orders);
    if (canonicalJson(live) !== canonicalJson(liveOrderSet(shuffled))) return false;
    if (orderSetDigest(orders) !== orderSetDigest(shuffled)) return false;
    const keys = live.orders.map((o) => `${o.owner}|${o.slot}|${o.slotMinutes}`);
    if (new Set(keys).size !== keys.length) return false;
    for (const o of live.orders) {
      if (o.energyWh <= 0) return false;
      // Nothing of the same owner and slot has a higher revision.
      if (orders.some((p) => p.owner === o.owner && p.slot === o.slot && p.slotMinutes === o.slotMinutes && p.rev > o.rev)) return false;
    }
    return live.orders.every((o) => validateOrder(o).length === 0);
  }), { numRuns: 200 });
  t.pass('deterministic');
});
