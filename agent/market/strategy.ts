/**
 * From the forecast to orders: which order this agent wants in each slot, and which
 * messages turn the live orders into those. Pure.
 *
 * Prices. Clearing is a uniform-price call auction (clearing.ts), where a small trader
 * does best by stating its true limits: it never pays more than its bid nor gets less
 * than its offer, and the price is set by the whole book. So a surplus is offered at
 * `sellFloorSenPerKWh` (what selling to the utility would fetch, plus a little) and a need
 * is bid at `buyCapSenPerKWh` (below what buying from the utility costs), both with the
 * agent's wheeling fee.
 *
 * Sizes. Only backed slots trade. A surplus of at least `minOrderWh` is offered whole
 * (the forecast already took the safety margin off); a need of at least `minOrderWh` is
 * bid whole. Anything smaller is left to the utility.
 *
 * Changes (`orderChanges`), per slot, comparing this agent's live order with the desired:
 * - desired but none live: place;
 * - live but none desired (unbacked, too small, gone): cancel;
 * - side, price, fee, zone or slot length differ: amend;
 * - a live offer larger than the desired one: amend, always, whatever the difference:
 *   the agent never offers more than the forecast allows;
 * - otherwise the energies differ by more than max(amendMinWh, amendPct % of the live
 *   order): amend; else keep, to spare the neighbours a message per forecast wobble.
 * Offers thus move down at once and up only in steps, so a forecast that wobbles costs
 * at most one amendment per downward step, never a flip-flop.
 */
import type { Config } from '../config/schema.js';
import { MAX_ENERGY_WH } from './order.js';
import type { SlotForecast } from './forecast.js';
import type { Order, Side, SlotStart } from './types.js';

export interface Strategy {
  slotMinutes: number;
  /** household.zone. */
  zone: string;
  sellFloorSenPerKWh: number;
  buyCapSenPerKWh: number;
  /** The wheeling fee this agent bears on each order, sen/kWh. */
  feeSenPerKWh: number;
  /** Smallest order placed, Wh. Default 100. */
  minOrderWh: number;
}

export const DEFAULT_MIN_ORDER_WH = 100;

/** An order as the strategy wants it: Order without owner, revision and id (the session adds those). */
export type DesiredOrder = Omit<Order, 'id' | 'owner' | 'rev'>;

export function desiredOrders(forecast: readonly SlotForecast[], strategy: Strategy): DesiredOrder[] {
  const min = Math.max(1, strategy.minOrderWh);
  const orders: DesiredOrder[] = [];
  for (const slot of forecast) {
    if (!slot.backed) continue;
    const energy = Math.min(MAX_ENERGY_WH, Math.floor(Math.abs(slot.surplusWh)));
    if (energy < min) continue;
    const side: Side = slot.surplusWh > 0 ? 'sell' : 'buy';
    orders.push({
      slot: slot.slot,
      slotMinutes: strategy.slotMinutes,
      side,
      energyWh: energy,
      limitSenPerKWh: side === 'sell' ? strategy.sellFloorSenPerKWh : strategy.buyCapSenPerKWh,
      feeSenPerKWh: strategy.feeSenPerKWh,
      zone: strategy.zone,
    });
  }
  return orders.sort((a, b) => a.slot - b.slot);
}

export interface AmendThresholds {
  /** An energy change below this (Wh) is not worth a message. Default 50. */
  amendMinWh: number;
  /** Nor one below this share of the live order, %. Default 10. */
  amendPct: number;
}

export const DEFAULT_AMEND_THRESHOLDS: AmendThresholds = { amendMinWh: 50, amendPct: 10 };

export interface OrderChanges {
  place: DesiredOrder[];
  amend: { live: Order; desired: DesiredOrder }[];
  cancel: Order[];
}

export interface OrderChangeOptions extends Partial<AmendThresholds> {
  /**
   * The slots being managed (normally the open ones). Live orders for other slots are
   * left alone (their book may be closed), and desired orders for them are ignored.
   * Default: every slot that appears in either list.
   */
  slots?: readonly SlotStart[] | undefined;
}

/**
 * The messages that turn `live` (this agent's own live orders; cancellations, energy 0,
 * count as none) into `desired`. Each list is sorted by slot.
 */
export function orderChanges(live: readonly Order[], desired: readonly DesiredOrder[], options: OrderChangeOptions = {}): OrderChanges {
  const thresholds: AmendThresholds = {
    amendMinWh: options.amendMinWh ?? DEFAULT_AMEND_THRESHOLDS.amendMinWh,
    amendPct: options.amendPct ?? DEFAULT_AMEND_THRESHOLDS.amendPct,
  };
  const managed = options.slots ? new Set(options.slots) : undefined;
  const inScope = (slot: SlotStart) => managed === undefined || managed.has(slot);

  const liveBySlot = new Map<SlotStart, Order>();
  for (const order of live) {
    if (order.energyWh <= 0 || !inScope(order.slot)) continue;
    const other = liveBySlot.get(order.slot);
    if (!other || order.rev > other.rev) liveBySlot.set(order.slot, order);
  }
  const desiredBySlot = new Map<SlotStart, DesiredOrder>();
  for (const order of desired) if (order.energyWh > 0 && inScope(order.slot)) desiredBySlot.set(order.slot, order);

  const changes: OrderChanges = { place: [], amend: [], cancel: [] };
  for (const [slot, want] of desiredBySlot) {
    const have = liveBySlot.get(slot);
    if (!have) changes.place.push(want);
    else if (needsAmend(have, want, thresholds)) changes.amend.push({ live: have, desired: want });
  }
  for (const [slot, have] of liveBySlot) if (!desiredBySlot.has(slot)) changes.cancel.push(have);
  changes.place.sort((a, b) => a.slot - b.slot);
  changes.amend.sort((a, b) => a.live.slot - b.live.slot);
  changes.cancel.sort((a, b) => a.slot - b.slot);
  return changes;
}

/** Whether a live order must be replaced by the desired one (see the module comment). */
export function needsAmend(live: Order, desired: DesiredOrder, thresholds: AmendThresholds = DEFAULT_AMEND_THRESHOLDS): boolean {
  if (live.side !== desired.side || live.limitSenPerKWh !== desired.limitSenPerKWh || live.feeSenPerKWh !== desired.feeSenPerKWh
    || live.zone !== desired.zone || live.slotMinutes !== desired.slotMinutes) return true;
  if (live.side === 'sell' && live.energyWh > desired.energyWh) return true;
  const change = Math.abs(desired.energyWh - live.energyWh);
  return change > Math.max(thresholds.amendMinWh, (thresholds.amendPct / 100) * live.energyWh);
}

/** The strategy from the config: prices and fee from `market`, the zone from `household`. */
export function strategyFromConfig(config: Pick<Config, 'market' | 'household'>): Strategy {
  return {
    slotMinutes: config.market.slotMinutes,
    zone: config.household.zone,
    sellFloorSenPerKWh: config.market.sellFloorSenPerKWh,
    buyCapSenPerKWh: config.market.buyCapSenPerKWh,
    feeSenPerKWh: config.market.wheelingFeeSenPerKWh,
    minOrderWh: DEFAULT_MIN_ORDER_WH,
  };
}
