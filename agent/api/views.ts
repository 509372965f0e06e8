/**
 * Pure views of the agent's data for the local API: the household state, device health,
 * the day's slots, own orders, settlements and earnings. Plain data in, JSON out; the
 * read model (read-model.ts) gathers the inputs from the running agent.
 */
import type { HouseholdState } from '../household/state.js';
import { openSlots, slotEnd, slotLabel, slotStartAt, type SlotMinutes } from '../market/slots.js';
import type { TradeRow } from '../market/trades.js';
import type { ClearingResult, Order } from '../market/types.js';
import {
  HOUSEHOLD_KEYS, type DeviceHealth, type HouseholdKey, type EarningsView, type HouseholdView, type Money, type OrderView, type SettlementView,
  type SlotPhase, type SlotsView, type SlotView,
} from './types.js';

/** The household state as JSON: values (null when missing), their quality, and why they are not ok. */
export function householdView(state: HouseholdState | undefined): HouseholdView | null {
  if (!state) return null;
  const values = {} as Record<HouseholdKey, number | null>;
  const quality = {} as HouseholdView['quality'];
  const reasons: HouseholdView['reasons'] = {};
  for (const key of HOUSEHOLD_KEYS) {
    const reading = state[key];
    values[key] = reading.value ?? null;
    quality[key] = reading.quality;
    if (reading.quality !== 'ok' && reading.reason !== undefined) reasons[key] = reading.reason;
  }
  return { at: state.at, ...values, quality, reasons };
}

/**
 * `failing` while the last poll of a device failed, `stale` while any value is stale or
 * no state is newer than `staleAfterMs` (or none yet), `ok` otherwise. Values no device
 * provides are not a health problem.
 */
export function deviceHealth(state: HouseholdState | undefined, now: number, staleAfterMs: number): DeviceHealth {
  if (!state) return 'stale';
  const readings = HOUSEHOLD_KEYS.map((key) => state[key]);
  if (readings.some((r) => r.quality === 'stale' && r.reason?.startsWith('last poll of '))) return 'failing';
  if (readings.some((r) => r.quality === 'stale') || now - state.at > staleAfterMs) return 'stale';
  return 'ok';
}

export interface Calendar {
  slotMinutes: SlotMinutes;
  timeZone: string;
}

/** The local day (of the calendar's time zone) holding `now`: its first slot start and the next day's. */
export function dayBounds(now: number, calendar: Calendar): { start: number; end: number } {
  const { slotMinutes, timeZone } = calendar;
  const dateOf = (slot: number) => slotLabel(slot, timeZone).slice(0, 10);
  const today = dateOf(slotStartAt(now, slotMinutes, timeZone));
  let start = slotStartAt(now, slotMinutes, timeZone);
  for (let i = 0; i < 200; i++) {
    const previous = slotStartAt(start - 1, slotMinutes, timeZone);
    if (dateOf(previous) !== today) break;
    start = previous;
  }
  let end = slotEnd(now, slotMinutes, timeZone);
  for (let i = 0; i < 200 && dateOf(end) === today; i++) end = slotEnd(end, slotMinutes, timeZone);
  return { start, end };
}

/** What the slots view reads of the market session (MarketSession has all three). */
export interface SlotBooks {
  ownOrder(slot: number): { order: Order } | undefined;
  orderSet(slot: number): Order[];
  result(slot: number): ClearingResult | undefined;
}

export interface SlotsInput extends Calendar {
  now: number;
  /** How many slots ahead are open (market.openSlots). */
  openSlots: number;
  /** Gate closure, ms before a slot starts. */
  gateMs: number;
  /** This agent's trading zone: the clearing price shown is the one of this zone. */
  zone: string;
  /** Undefined when the market does not run: every slot then shows no orders. */
  books: SlotBooks | undefined;
}

export function slotPhase(slot: number, end: number, gateAt: number, now: number): SlotPhase {
  if (now < gateAt) return 'open';
  if (now < slot) return 'closed';
  if (now < end) return 'delivering';
  return 'ended';
}

/** Today's slots and every slot open for orders, in order. */
export function slotsView(input: SlotsInput): SlotsView {
  const { now, slotMinutes, timeZone, gateMs, books, zone } = input;
  const { start, end: dayEnd } = dayBounds(now, input);
  const starts = new Set<number>();
  for (let s = start; s < dayEnd; s = slotEnd(s, slotMinutes, timeZone)) starts.add(s);
  for (const s of openSlots(now, slotMinutes, input.openSlots, timeZone, gateMs / 60_000)) starts.add(s);
  const slots = [...starts].sort((a, b) => a - b).map((slot): SlotView => {
    const end = slotEnd(slot, slotMinutes, timeZone);
    const gateAt = slot - gateMs;
    const own = books?.ownOrder(slot)?.order;
    return {
      slot, end, gateAt, phase: slotPhase(slot, end, gateAt, now),
      own: own && own.energyWh > 0 ? { side: own.side, energyWh: own.energyWh, limitSenPerKWh: own.limitSenPerKWh } : null,
      orders: books?.orderSet(slot).length ?? 0,
      clearing: clearingOf(books?.result(slot), zone),
    };
  });
  return { now, slotMinutes, slots };
}

/** The clearing price of `zone` and the energy traded in it; null when the slot was not cleared or nothing traded there. */
export function clearingOf(result: ClearingResult | undefined, zone: string): { priceSenPerKWh: number; energyWh: number } | null {
  const price = result?.prices.find((p) => p.zone === zone);
  if (!result || !price) return null;
  const energyWh = result.fills.filter((f) => f.zone === zone).reduce((sum, f) => sum + f.energyWh, 0);
  return { priceSenPerKWh: price.priceSenPerKWh, energyWh };
}

/** This agent's live orders (energy > 0) for the given slots. */
export function ordersView(slots: readonly number[], books: SlotBooks | undefined): { orders: OrderView[] } {
  const orders: OrderView[] = [];
  for (const slot of slots) {
    const own = books?.ownOrder(slot)?.order;
    if (!own || own.energyWh <= 0) continue;
    orders.push({ id: own.id, slot: own.slot, side: own.side, energyWh: own.energyWh, limitSenPerKWh: own.limitSenPerKWh, zone: own.zone });
  }
  return { orders };
}

/** Contracts that have a settlement (or dispute) record. */
export function settlementsView(rows: readonly TradeRow[]): { settlements: SettlementView[] } {
  return {
    settlements: rows.filter((r) => r.status !== 'contracted')
      .map((r) => ({ contract: r.contract, slot: r.slot, status: r.status, deliveredWh: r.deliveredWh, amountMillisen: r.amountMillisen })),
  };
}

export interface Tariff {
  retailSenPerKWh: number;
  buybackSenPerKWh: number;
}

export function zeroMoney(): Money {
  return { soldWh: 0, boughtWh: 0, receivedMillisen: 0, paidMillisen: 0, savingsMillisen: 0 };
}

/**
 * Money of the settled trades (those with delivered energy and an amount). Savings compare
 * each with the utility: a sale with what the utility would have paid for the same energy
 * (buyback), a purchase with what it would have cost from the utility (retail). With no
 * wheeling fee that is (price − buyback) × delivered and (retail − price) × delivered.
 * Wh × sen/kWh = millisen.
 */
export function money(rows: readonly TradeRow[], tariff: Tariff): Money {
  const m = zeroMoney();
  for (const row of rows) {
    if (row.deliveredWh === null || row.amountMillisen === null) continue;
    if (row.side === 'sell') {
      m.soldWh += row.deliveredWh;
      m.receivedMillisen += row.amountMillisen;
      m.savingsMillisen += row.amountMillisen - tariff.buybackSenPerKWh * row.deliveredWh;
    } else {
      const paid = -row.amountMillisen;
      m.boughtWh += row.deliveredWh;
      m.paidMillisen += paid;
      m.savingsMillisen += tariff.retailSenPerKWh * row.deliveredWh - paid;
    }
  }
  return m;
}

/** Earnings of the trades whose slot lies in [day.start, day.end), and of all of them. */
export function earningsView(rows: readonly TradeRow[], tariff: Tariff, day: { start: number; end: number }): EarningsView {
  return { today: money(rows.filter((r) => r.slot >= day.start && r.slot < day.end), tariff), total: money(rows, tariff) };
}
