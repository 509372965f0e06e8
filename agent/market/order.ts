/**
 * Pure helpers for orders: content ids, validation, the live order set (latest revision
 * per agent and slot) and the digest peers compare at gate closure.
 *
 * An order's id is the SHA-256 of the canonical JSON of every other field, so any two
 * peers holding the same signed order agree on its id, and an id names one content.
 */
import { createHash } from 'node:crypto';
import { PEER_ID_PATTERN } from '../identity/peer-id.js';
import { canonicalJson } from '../mesh/canonical.js';
import { isSlotMinutes, isSlotStart } from './slots.js';
import type { Order, SlotStart } from './types.js';

/** Largest energy of one order, Wh (1 MWh: far beyond a household's slot). */
export const MAX_ENERGY_WH = 1_000_000;
/** Largest limit price, sen/kWh (1000 円/kWh). */
export const MAX_PRICE_SEN_PER_KWH = 100_000;
/** Largest wheeling fee, sen/kWh; bounded like the limit so all sums stay exact integers. */
export const MAX_FEE_SEN_PER_KWH = 100_000;
/** Trading zones: as `household.zone` in the configuration. */
export const ZONE_PATTERN = /^[a-z0-9-]{1,32}$/;
export const ORDER_ID_PATTERN = /^[0-9a-f]{64}$/;

/** An order before its id is computed. */
export type OrderContent = Omit<Order, 'id'>;

const ORDER_FIELDS = ['id', 'owner', 'slot', 'slotMinutes', 'side', 'energyWh', 'limitSenPerKWh', 'feeSenPerKWh', 'zone', 'rev'] as const;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * SHA-256 (lowercase hex) of the canonical JSON of every field except `id`. An `id`
 * present on the argument is ignored, so `orderId(order) === order.id` checks an order.
 */
export function orderId(order: OrderContent | Order): string {
  const { id: _ignored, ...content } = order as Order;
  return sha256Hex(canonicalJson(content));
}

/** The order with its content id filled in. */
export function withOrderId(content: OrderContent): Order {
  const { id: _ignored, ...rest } = content as Order;
  return { ...rest, id: orderId(rest) };
}

export interface OrderProblem {
  /** The field at fault, or '' for the order as a whole. */
  field: string;
  message: string;
}

export interface ValidateOrderOptions {
  /** When given, `slot` must be a slot start of the local calendar of this IANA zone. */
  timeZone?: string;
}

/**
 * Every problem with a received order, in field order; empty when it is a valid Order:
 * known fields only, integers in range, slotMinutes 15/30/60, a zone as in the config,
 * an owner that is a peer id, and an id that matches the content.
 */
export function validateOrder(value: unknown, options: ValidateOrderOptions = {}): OrderProblem[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [{ field: '', message: `expected an order object, got ${describe(value)}` }];
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return [{ field: '', message: 'expected a plain object' }];
  const order = value as Record<string, unknown>;
  const problems: OrderProblem[] = [];
  const problem = (field: string, message: string): void => { problems.push({ field, message }); };

  for (const key of Object.keys(order).sort()) {
    if (!(ORDER_FIELDS as readonly string[]).includes(key)) problem(key, 'unknown field');
  }
  const { id, owner, slot, slotMinutes, side, energyWh, limitSenPerKWh, feeSenPerKWh, zone, rev } = order;

  if (typeof id !== 'string' || !ORDER_ID_PATTERN.test(id)) problem('id', `expected 64 lowercase hex digits, got ${describe(id)}`);
  if (typeof owner !== 'string' || !PEER_ID_PATTERN.test(owner)) problem('owner', `expected a peer id, got ${describe(owner)}`);
  if (!Number.isSafeInteger(slot) || (slot as number) < 0 || (slot as number) % 60_000 !== 0) {
    problem('slot', `expected a whole-minute instant in ms since the epoch, got ${describe(slot)}`);
  }
  if (!isSlotMinutes(slotMinutes)) problem('slotMinutes', `expected 15, 30 or 60, got ${describe(slotMinutes)}`);
  if (side !== 'sell' && side !== 'buy') problem('side', `expected "sell" or "buy", got ${describe(side)}`);
  checkInteger(problem, 'energyWh', energyWh, 0, MAX_ENERGY_WH);
  checkInteger(problem, 'limitSenPerKWh', limitSenPerKWh, 0, MAX_PRICE_SEN_PER_KWH);
  checkInteger(problem, 'feeSenPerKWh', feeSenPerKWh, 0, MAX_FEE_SEN_PER_KWH);
  if (typeof zone !== 'string' || !ZONE_PATTERN.test(zone)) {
    problem('zone', `expected 1 to 32 lowercase letters, digits or "-", got ${describe(zone)}`);
  }
  if (!Number.isSafeInteger(rev) || (rev as number) < 1) problem('rev', `expected an integer >= 1, got ${describe(rev)}`);

  if (options.timeZone !== undefined && !problems.some((p) => p.field === 'slot' || p.field === 'slotMinutes')) {
    if (!isSlotStart(slot as number, slotMinutes as 15 | 30 | 60, options.timeZone)) {
      problem('slot', `${slot as number} is not the start of a ${slotMinutes as number}-minute slot in ${options.timeZone}`);
    }
  }
  if (problems.length === 0) {
    const expected = orderId(order as unknown as Order);
    if (id !== expected) problem('id', `does not match the content (expected ${expected})`);
  }
  return problems;
}

export function isValidOrder(value: unknown, options: ValidateOrderOptions = {}): value is Order {
  return validateOrder(value, options).length === 0;
}

function checkInteger(problem: (field: string, message: string) => void, field: string, value: unknown, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    problem(field, `expected an integer from ${min} to ${max}, got ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    const json = JSON.stringify(value);
    return json.length > 40 ? `${json.slice(0, 37)}…"` : json;
  }
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : typeof value;
}

/**
 * Two or more different orders of one agent for the same slot with the same revision:
 * the agent signed conflicting content (equivocation), which is evidence against it.
 */
export interface Equivocation {
  owner: string;
  slot: SlotStart;
  slotMinutes: number;
  rev: number;
  /** The conflicting ids, ascending; when not superseded, ids[0] is the one kept. */
  ids: string[];
  /** True when a higher revision replaced them all, so the conflict decided nothing. */
  superseded: boolean;
}

export interface LiveOrders {
  /** The live orders, sorted by id. */
  orders: Order[];
  /** Equivocations found, sorted by owner, slot, slotMinutes, rev. */
  conflicts: Equivocation[];
}

/**
 * The live order set: per (owner, slot, slotMinutes) the order with the highest `rev`,
 * dropped when that is a cancellation (energyWh 0). Several different orders at the
 * highest revision: the lowest id is kept, and the conflict reported. Repeated copies
 * of one order (same id) count once; the result does not depend on input order.
 *
 * Expects orders that passed `validateOrder` (ids match content).
 */
export function liveOrderSet(orders: readonly Order[]): LiveOrders {
  // Per key, per revision, the distinct ids seen.
  const byKey = new Map<string, Map<number, Map<string, Order>>>();
  for (const order of orders) {
    const key = `${order.owner}\u0000${order.slot}\u0000${order.slotMinutes}`;
    let revs = byKey.get(key);
    if (!revs) byKey.set(key, (revs = new Map()));
    let ids = revs.get(order.rev);
    if (!ids) revs.set(order.rev, (ids = new Map()));
    if (!ids.has(order.id)) ids.set(order.id, order);
  }
  const live: Order[] = [];
  const conflicts: Equivocation[] = [];
  for (const revs of byKey.values()) {
    let top = -Infinity;
    for (const rev of revs.keys()) if (rev > top) top = rev;
    for (const [rev, ids] of revs) {
      const sorted = [...ids.keys()].sort(compareStrings);
      if (sorted.length > 1) {
        const first = ids.get(sorted[0]!)!;
        conflicts.push({ owner: first.owner, slot: first.slot, slotMinutes: first.slotMinutes, rev, ids: sorted, superseded: rev !== top });
      }
      if (rev === top) {
        const kept = ids.get(sorted[0]!)!;
        if (kept.energyWh > 0) live.push(kept);
      }
    }
  }
  live.sort((a, b) => compareStrings(a.id, b.id));
  conflicts.sort((a, b) => compareStrings(a.owner, b.owner) || a.slot - b.slot || a.slotMinutes - b.slotMinutes || a.rev - b.rev);
  return { orders: live, conflicts };
}

/** SHA-256 (hex) of the live order ids, sorted ascending and joined by '\n'. */
export function orderSetDigest(orders: readonly Order[]): string {
  return digestOfLive(liveOrderSet(orders).orders);
}

/** The digest of orders already live and sorted by id (what liveOrderSet returns). */
export function digestOfLive(sortedLive: readonly Order[]): string {
  return sha256Hex(sortedLive.map((o) => o.id).join('\n'));
}

/** Orders strings by UTF-16 code units, like `Array.prototype.sort` and canonical JSON. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
