/**
 * Settlement of one slot: pure functions from the slot's contracts and both parties'
 * meter readings to the energy delivered per contract, what each household pays, and
 * what the utility covers. Every peer that runs them on the same contracts and readings
 * gets the same result (canonical JSON), whatever order the inputs arrived in.
 *
 * Vocabulary (see types.ts): energy in integer Wh, prices in integer sen/kWh, money in
 * integer millisen (Wh × sen/kWh), so nothing is rounded except the pro-rata split below.
 *
 * The model.
 *
 * - A **contract** is a `Fill` from clearing with an id (given by the caller). It binds
 *   one seller and one buyer to `energyWh` ("contracted") at the slot's prices.
 * - A **meter reading** is a party's own meter for the slot: `exportedWh` and
 *   `importedWh` (integers >= 0) and the instant `at` it was signed (signatures are
 *   checked elsewhere). Each party publishes ONE reading per slot. Two readings of the
 *   same peer and slot with different figures are **equivocation**, evidence that the
 *   peer lies about its meter (`detectEquivocation`); a repeated copy with the same
 *   figures is not.
 * - **Shares.** A seller's export is split over all of its contracts of the slot in
 *   proportion to contracted energy, each share capped at its contract: integer Wh,
 *   largest-remainder rounding, ties by contract id ascending, so the shares sum to
 *   exactly min(exportedWh, Σ contracted) (`proRataShares`). A seller that exported less
 *   than it sold thus shares its shortfall pro rata among its buyers (market.md c.4).
 *   A buyer's import is split over its contracts in the same way.
 * - **Delivered** energy of a contract is min(sellerShare, buyerShare): no contract is
 *   credited with more than either meter supports, and never more than contracted.
 * - **Dispute.** The two parties' views of one contract disagree when
 *   gap > max(toleranceWh, tolerancePct % of contracted), where by default
 *   gap = sellerShare − buyerShare: the seller's meter claims more delivery than the
 *   buyer's meter supports. Why only that direction, and only beyond a tolerance:
 *   a seller exporting less than it sold is ordinary shortfall. The min is then the
 *   seller's own figure, its buyers share the shortfall pro rata, and the rest of their
 *   import comes from the utility at retail as it would anyway, so nobody has a claim.
 *   On a grid-connected home the buyer's import also carries its utility energy, so a
 *   seller shortfall always looks like a gap the other way. Small gaps (meter classes
 *   0.9–10 %, 0.1 kWh register steps) are ordinary too: a buyer importing a little
 *   less than it bought settles at the min. A large gap with the seller's figure above
 *   the buyer's is what someone would contest: the seller is paid less than its meter
 *   says, because the buyer took much less than it bought, under-reports its import, or
 *   the seller over-reports its export. Those two lies are the only ones that could
 *   pay, so this direction is what gets flagged. (`disputeRule: 'any-gap'` flags |sellerShare −
 *   buyerShare| instead, for setups where both meters measure the same flow, e.g. a
 *   private line.) A disputed contract still settles, at the min, so no money moves for
 *   energy one meter denies. It is flagged `disputed` with both shares (nothing is
 *   hidden), and those figures stand until the parties resolve it elsewhere.
 *   A seller that claims its full export while the buyer imported nothing therefore
 *   gets delivered = 0 and a dispute: lying about a meter never earns anything.
 * - **Missing reading.** Until `timeoutMs` after the slot ends, a contract with a
 *   party's reading missing is `provisional`. Its figures are the ones that would settle
 *   if nothing more arrives. After the timeout it is `settled-by-timeout`, and the
 *   missing side is taken to be the reported side's share (already capped at
 *   contracted): the party that failed to report bears it. So a silent buyer pays for
 *   what the seller's meter shows, and a silent seller is paid only for what the
 *   buyer's meter shows. With both readings missing, delivered is 0. Readings signed after
 *   the deadline (`at` > slot end + timeout) are late and ignored, so a settled-by-timeout
 *   result does not change. (`at` is the signer's own claim: the caller should also
 *   stop taking readings of a slot once it has settled it for good.)
 * - **Equivocation.** All of a peer's readings for the slot are void (late ones count
 *   as evidence too). Its contracts are settled as if its reading were missing past the
 *   timeout, since no honest reading will come: by the counterparty's share (0 until
 *   that is in), and flagged `disputed`.
 * - **Money.** Per contract the buyer pays the seller deliveredWh × priceSenPerKWh.
 *   Wheeling fees go to whoever collects them and are reported apart: the buyer's
 *   deliveredWh × (buyerPays − price), the seller's deliveredWh × (price − sellerGets).
 * - **Utility.** Everything else a household imported or exported is with the utility:
 *   utilityImportWh = importedWh − p2pBoughtWh at retail, utilityExportWh = exportedWh −
 *   p2pSoldWh at buyback. costMillisen = utility import × retail − utility export ×
 *   buyback + p2p paid − p2p received + fees. baselineCostMillisen = importedWh × retail
 *   − exportedWh × buyback (the utility-only bill, gsy-e's `base_case_cost`), so savings
 *   = baseline − cost.
 *   A household without a valid reading (missing or equivocated) has unknown utility
 *   flows: its imported/exported figures are reported as exactly its p2p figures, with
 *   utility flows 0 (the utility bills it from its own meter anyway).
 *
 * Conservation (property-tested): per household p2pBoughtWh + utilityImportWh ==
 * importedWh and p2pSoldWh + utilityExportWh == exportedWh, both utility flows >= 0; the
 * energy delivered per contract is counted once on the seller side and once on the buyer
 * side; deliveredWh <= contracted; Σ p2p paid == Σ p2p received.
 */
import type { Fill, SlotStart } from './types.js';

/** A contract: a fill from clearing with an id given by the caller (unique per content). */
export interface Contract extends Fill {
  id: string;
}

/** A party's own meter for one slot (signed elsewhere). */
export interface MeterReading {
  peerId: string;
  slot: SlotStart;
  /** Energy exported to the grid during the slot, Wh, integer >= 0. */
  exportedWh: number;
  /** Energy imported from the grid during the slot, Wh, integer >= 0. */
  importedWh: number;
  /** When the reading was signed, ms since the epoch. */
  at: number;
}

/** The utility's prices for one household, integer sen/kWh. */
export interface Tariff {
  /** What the household pays per kWh it imports from the utility. */
  retailSenPerKWh: number;
  /** What the utility pays per kWh the household exports to it (卒FIT buyback; may be 0). */
  buybackSenPerKWh: number;
}

export interface SettleSlotInput {
  slot: SlotStart;
  /** Slot length in minutes; the slot ends at slot + slotMinutes × 60 000 ms. */
  slotMinutes: number;
  /** The slot's contracts. Each must belong to `slot`; copies of one contract count once. */
  contracts: readonly Contract[];
  /** Meter readings; readings of other slots are ignored. */
  readings: readonly MeterReading[];
  /** The instant of settlement, ms since the epoch (decides provisional vs settled-by-timeout). */
  nowMs: number;
  /** Utility prices for every household not in `tariffs`. */
  tariff: Tariff;
  /** Per-household utility prices, by peer id. */
  tariffs?: ReadonlyMap<string, Tariff>;
  /** How long after the slot end missing readings are awaited. Default DEFAULT_SETTLEMENT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Absolute dispute tolerance, Wh. Default DEFAULT_TOLERANCE_WH. */
  toleranceWh?: number;
  /** Relative dispute tolerance, % of contracted. Default DEFAULT_TOLERANCE_PCT. */
  tolerancePct?: number;
  /**
   * Which gap between the two shares is a dispute: 'seller-excess' (default) only the
   * seller's share above the buyer's; 'any-gap' either way (both meters measure one flow).
   */
  disputeRule?: DisputeRule;
}

export type DisputeRule = 'seller-excess' | 'any-gap';

/**
 * - `settled`: both readings in, the two views agree within tolerance.
 * - `provisional`: a reading is missing and the timeout has not passed; figures may change.
 * - `settled-by-timeout`: a reading was still missing at the timeout; the reported side decided.
 * - `disputed`: the two meters disagree beyond tolerance on this contract (see
 *   DisputeRule), or a party equivocated; settled at the lower figure and flagged.
 */
export type ContractStatus = 'settled' | 'provisional' | 'settled-by-timeout' | 'disputed';

/** What is known of a party's meter for the slot. */
export type ReadingState = 'metered' | 'missing' | 'equivocated';

export interface ContractSettlement {
  id: string;
  slot: SlotStart;
  zone: string;
  seller: string;
  buyer: string;
  contractedWh: number;
  priceSenPerKWh: number;
  buyerPaysSenPerKWh: number;
  sellerGetsSenPerKWh: number;
  status: ContractStatus;
  sellerReading: ReadingState;
  buyerReading: ReadingState;
  /** The seller's metered export for the slot (present iff sellerReading is 'metered'). */
  sellerExportedWh?: number;
  /** The buyer's metered import for the slot (present iff buyerReading is 'metered'). */
  buyerImportedWh?: number;
  /** This contract's pro-rata share of the seller's export (present iff metered). */
  sellerShareWh?: number;
  /** This contract's pro-rata share of the buyer's import (present iff metered). */
  buyerShareWh?: number;
  /** Energy settled as delivered, Wh: 0 <= deliveredWh <= contractedWh. */
  deliveredWh: number;
  /** deliveredWh × priceSenPerKWh: what the buyer pays the seller. */
  paymentMillisen: number;
  /** deliveredWh × (buyerPays − price): the buyer's wheeling fee, paid to whoever collects it. */
  buyerFeeMillisen: number;
  /** deliveredWh × (price − sellerGets): the seller's wheeling fee, paid to whoever collects it. */
  sellerFeeMillisen: number;
}

export interface HouseholdSettlement {
  peerId: string;
  reading: ReadingState;
  /** 'provisional' if any of its contracts is, else 'disputed' if any is (or it equivocated), else 'settled'. */
  status: 'settled' | 'provisional' | 'disputed';
  /** Metered import, or (without a valid reading) exactly p2pBoughtWh. */
  importedWh: number;
  /** Metered export, or (without a valid reading) exactly p2pSoldWh. */
  exportedWh: number;
  p2pBoughtWh: number;
  p2pSoldWh: number;
  utilityImportWh: number;
  utilityExportWh: number;
  /** Σ payment over the contracts it bought on. */
  p2pPaidMillisen: number;
  /** Σ payment over the contracts it sold on. */
  p2pReceivedMillisen: number;
  /** Its wheeling fees: buyer fees on contracts it bought, seller fees on those it sold. */
  feesMillisen: number;
  /** utilityImportWh × retail − utilityExportWh × buyback. */
  utilityCostMillisen: number;
  /** What it pays net: utilityCost + p2pPaid − p2pReceived + fees (negative: it earns). */
  costMillisen: number;
  /** The utility-only bill: importedWh × retail − exportedWh × buyback. */
  baselineCostMillisen: number;
  /** baselineCostMillisen − costMillisen. */
  savingsMillisen: number;
}

/** Two signed readings of one peer for one slot with different figures. */
export interface ReadingEquivocation {
  peerId: string;
  slot: SlotStart;
  a: MeterReading;
  b: MeterReading;
}

export interface SlotSettlement {
  slot: SlotStart;
  slotMinutes: number;
  /** Slot end + timeout: readings signed later are ignored; missing readings settle by timeout from then. */
  deadlineMs: number;
  /** Sorted by id. */
  contracts: ContractSettlement[];
  /** Every party to a contract and every peer with a reading for the slot, sorted by peer id. */
  households: HouseholdSettlement[];
  /** The equivocations among the slot's readings (detectEquivocation). */
  equivocations: ReadingEquivocation[];
}

/** How long missing readings are awaited after the slot end: 1 h, like gsy-e's settlement market (MAX_AGE_SETTLEMENT_MARKET_HOURS). */
export const DEFAULT_SETTLEMENT_TIMEOUT_MS = 3_600_000;
/** Absolute dispute tolerance: one 0.1 kWh step, the common B-route smart meter register resolution. */
export const DEFAULT_TOLERANCE_WH = 100;
/** Relative dispute tolerance: the loosest declared 特定計量 accuracy class (10 %). */
export const DEFAULT_TOLERANCE_PCT = 10;
/** Largest meter figure accepted for one slot, Wh (1 GWh, far beyond a household), so all money stays exact. */
export const MAX_READING_WH = 1_000_000_000;
/** Largest contract energy, Wh (as an order's MAX_ENERGY_WH). */
export const MAX_CONTRACT_WH = 1_000_000;
/** Largest price or tariff, sen/kWh (an order's limit plus its fee). */
export const MAX_SETTLEMENT_PRICE = 200_000;

export class SettlementError extends Error {
  override readonly name = 'SettlementError';
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const isInt = (v: unknown, min: number, max: number): v is number => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** What is wrong with a reading, or null when it is well-formed. */
export function readingProblem(r: unknown): string | null {
  if (typeof r !== 'object' || r === null) return 'not an object';
  const x = r as Record<string, unknown>;
  if (!isNonEmptyString(x['peerId'])) return 'peerId must be a non-empty string';
  if (!Number.isSafeInteger(x['slot'])) return 'slot must be an integer';
  if (!isInt(x['exportedWh'], 0, MAX_READING_WH)) return `exportedWh must be an integer in [0, ${MAX_READING_WH}]`;
  if (!isInt(x['importedWh'], 0, MAX_READING_WH)) return `importedWh must be an integer in [0, ${MAX_READING_WH}]`;
  if (!Number.isSafeInteger(x['at'])) return 'at must be an integer';
  return null;
}

function contractProblem(c: Contract, slot: SlotStart): string | null {
  if (!isNonEmptyString(c.id)) return 'id must be a non-empty string';
  if (c.slot !== slot) return `belongs to slot ${String(c.slot)}, not ${slot}`;
  if (!isNonEmptyString(c.seller) || !isNonEmptyString(c.buyer)) return 'seller and buyer must be non-empty strings';
  if (c.seller === c.buyer) return 'seller and buyer are the same peer';
  if (typeof c.zone !== 'string' || typeof c.sellOrder !== 'string' || typeof c.buyOrder !== 'string') return 'zone, sellOrder and buyOrder must be strings';
  if (!isInt(c.energyWh, 0, MAX_CONTRACT_WH)) return `energyWh must be an integer in [0, ${MAX_CONTRACT_WH}]`;
  const { priceSenPerKWh: p, buyerPaysSenPerKWh: bp, sellerGetsSenPerKWh: sg } = c;
  if (!isInt(p, 0, MAX_SETTLEMENT_PRICE) || !isInt(bp, 0, MAX_SETTLEMENT_PRICE) || !isInt(sg, 0, MAX_SETTLEMENT_PRICE)) return 'prices must be integers >= 0';
  if (!(sg <= p && p <= bp)) return 'prices must satisfy sellerGets <= price <= buyerPays';
  return null;
}

function tariffProblem(t: Tariff): string | null {
  if (!isInt(t.retailSenPerKWh, 0, MAX_SETTLEMENT_PRICE) || !isInt(t.buybackSenPerKWh, 0, MAX_SETTLEMENT_PRICE)) {
    return `retailSenPerKWh and buybackSenPerKWh must be integers in [0, ${MAX_SETTLEMENT_PRICE}]`;
  }
  return null;
}

function contractKey(c: Contract): string {
  return JSON.stringify([c.id, c.slot, c.zone, c.sellOrder, c.buyOrder, c.seller, c.buyer, c.energyWh, c.priceSenPerKWh, c.buyerPaysSenPerKWh, c.sellerGetsSenPerKWh]);
}

function cleanReading(r: MeterReading): MeterReading {
  return { peerId: r.peerId, slot: r.slot, exportedWh: r.exportedWh, importedWh: r.importedWh, at: r.at };
}

function compareReadings(a: MeterReading, b: MeterReading): number {
  return cmp(a.peerId, b.peerId) || a.slot - b.slot || a.exportedWh - b.exportedWh || a.importedWh - b.importedWh || a.at - b.at;
}

/**
 * Splits `availableWh` over `items` in proportion to their `energyWh`, each capped at its
 * own energy: integer Wh, largest remainder first, ties by id ascending. The shares sum
 * to min(availableWh, Σ energyWh) exactly. Ids must be distinct; energies and
 * availableWh integers >= 0.
 */
export function proRataShares(availableWh: number, items: readonly { id: string; energyWh: number }[]): Map<string, number> {
  const sorted = [...items].sort((a, b) => cmp(a.id, b.id));
  const shares = new Map<string, number>();
  const total = sorted.reduce((s, i) => s + i.energyWh, 0);
  if (availableWh >= total) {
    for (const i of sorted) shares.set(i.id, i.energyWh);
    return shares;
  }
  // availableWh < total, so total > 0. Products in BigInt: exact whatever the sizes.
  const avail = BigInt(availableWh);
  const sum = BigInt(total);
  const rest: { id: string; remainder: bigint }[] = [];
  let given = 0n;
  for (const i of sorted) {
    const product = avail * BigInt(i.energyWh);
    const floor = product / sum;
    shares.set(i.id, Number(floor));
    given += floor;
    rest.push({ id: i.id, remainder: product % sum });
  }
  // Σ remainders = (avail − given) × sum with each remainder < sum, so fewer units are
  // left than items with a non-zero remainder: each gets at most one, and only those.
  let left = Number(avail - given);
  rest.sort((a, b) => (a.remainder > b.remainder ? -1 : a.remainder < b.remainder ? 1 : cmp(a.id, b.id)));
  for (const r of rest) {
    if (left === 0) break;
    shares.set(r.id, shares.get(r.id)! + 1);
    left--;
  }
  return shares;
}

/**
 * Two signed readings of the same peer and slot with different figures (exportedWh or
 * importedWh): evidence that the peer lies about its meter. Per (peer, slot) with k
 * distinct figure pairs, k − 1 pairs are returned: the lowest (by exportedWh, then
 * importedWh) against each other. Each reading stands for its figures by its earliest
 * `at`. Copies with the same figures (even signed at other instants) are not
 * equivocation. Sorted by peer id, slot, then b's figures; independent of input order.
 */
export function detectEquivocation(readings: readonly MeterReading[]): ReadingEquivocation[] {
  const byPeerSlot = new Map<string, Map<string, MeterReading>>();
  for (const r of readings) {
    const key = JSON.stringify([r.peerId, r.slot]);
    let versions = byPeerSlot.get(key);
    if (!versions) byPeerSlot.set(key, (versions = new Map()));
    const figures = `${r.exportedWh}/${r.importedWh}`;
    const seen = versions.get(figures);
    if (!seen || r.at < seen.at) versions.set(figures, cleanReading(r));
  }
  const out: ReadingEquivocation[] = [];
  for (const versions of byPeerSlot.values()) {
    if (versions.size < 2) continue;
    const sorted = [...versions.values()].sort(compareReadings);
    const a = sorted[0]!;
    for (const b of sorted.slice(1)) out.push({ peerId: a.peerId, slot: a.slot, a, b });
  }
  out.sort((x, y) => compareReadings(x.a, y.a) || compareReadings(x.b, y.b));
  return out;
}

interface PeerMeter {
  state: ReadingState;
  /** The valid reading (state 'metered'). */
  reading?: MeterReading;
}

/**
 * Settles one slot (see the header for the model). Throws SettlementError on malformed
 * input: a contract of another slot, two different contracts under one id, a self-trade,
 * non-integer or out-of-range figures, a malformed reading or tariff.
 */
export function settleSlot(input: SettleSlotInput): SlotSettlement {
  const { slot, slotMinutes, nowMs } = input;
  const timeoutMs = input.timeoutMs ?? DEFAULT_SETTLEMENT_TIMEOUT_MS;
  const toleranceWh = input.toleranceWh ?? DEFAULT_TOLERANCE_WH;
  const tolerancePct = input.tolerancePct ?? DEFAULT_TOLERANCE_PCT;
  const disputeRule = input.disputeRule ?? 'seller-excess';
  if (!Number.isSafeInteger(slot)) throw new SettlementError('slot must be an integer');
  if (!isInt(slotMinutes, 1, 24 * 60)) throw new SettlementError('slotMinutes must be an integer in [1, 1440]');
  if (!Number.isSafeInteger(nowMs)) throw new SettlementError('nowMs must be an integer');
  if (!isInt(timeoutMs, 0, Number.MAX_SAFE_INTEGER)) throw new SettlementError('timeoutMs must be an integer >= 0');
  if (!isInt(toleranceWh, 0, Number.MAX_SAFE_INTEGER)) throw new SettlementError('toleranceWh must be an integer >= 0');
  if (!(Number.isFinite(tolerancePct) && tolerancePct >= 0)) throw new SettlementError('tolerancePct must be a finite number >= 0');
  if (disputeRule !== 'seller-excess' && disputeRule !== 'any-gap') throw new SettlementError(`unknown disputeRule ${String(disputeRule)}`);
  const tariffProblemText = tariffProblem(input.tariff);
  if (tariffProblemText) throw new SettlementError(`tariff: ${tariffProblemText}`);
  for (const [peerId, t] of input.tariffs ?? []) {
    const p = tariffProblem(t);
    if (p) throw new SettlementError(`tariff of ${peerId}: ${p}`);
  }
  const tariffOf = (peerId: string): Tariff => input.tariffs?.get(peerId) ?? input.tariff;
  const deadlineMs = slot + slotMinutes * 60_000 + timeoutMs;
  const timedOut = nowMs >= deadlineMs;

  // Contracts: validated, copies of one contract once, sorted by id.
  const contractsById = new Map<string, Contract>();
  for (const c of input.contracts) {
    const p = contractProblem(c, slot);
    if (p) throw new SettlementError(`contract ${String(c.id)}: ${p}`);
    const prior = contractsById.get(c.id);
    if (prior && contractKey(prior) !== contractKey(c)) throw new SettlementError(`two different contracts with id ${c.id}`);
    contractsById.set(c.id, c);
  }
  const contracts = [...contractsById.values()].sort((a, b) => cmp(a.id, b.id));

  // Readings of the slot: equivocation voids them all; otherwise the earliest on-time copy.
  const slotReadings: MeterReading[] = [];
  for (const r of input.readings) {
    const p = readingProblem(r);
    if (p) throw new SettlementError(`reading of ${String((r as Partial<MeterReading>)?.peerId)}: ${p}`);
    if (r.slot === slot) slotReadings.push(r);
  }
  const equivocations = detectEquivocation(slotReadings);
  const liars = new Set(equivocations.map((e) => e.peerId));
  const meters = new Map<string, PeerMeter>();
  const meterOf = (peerId: string): PeerMeter => meters.get(peerId) ?? { state: 'missing' };
  for (const r of slotReadings) {
    if (liars.has(r.peerId)) {
      meters.set(r.peerId, { state: 'equivocated' });
      continue;
    }
    if (r.at > deadlineMs) continue; // late: ignored
    const prior = meters.get(r.peerId)?.reading;
    if (!prior || r.at < prior.at) meters.set(r.peerId, { state: 'metered', reading: cleanReading(r) });
  }

  // Pro-rata shares per seller (of its export) and per buyer (of its import).
  const sales = new Map<string, Contract[]>();
  const purchases = new Map<string, Contract[]>();
  for (const c of contracts) {
    (sales.get(c.seller) ?? sales.set(c.seller, []).get(c.seller)!).push(c);
    (purchases.get(c.buyer) ?? purchases.set(c.buyer, []).get(c.buyer)!).push(c);
  }
  const sellerShares = new Map<string, number>();
  const buyerShares = new Map<string, number>();
  for (const [seller, list] of sales) {
    const reading = meterOf(seller).reading;
    if (reading) for (const [id, share] of proRataShares(reading.exportedWh, list)) sellerShares.set(id, share);
  }
  for (const [buyer, list] of purchases) {
    const reading = meterOf(buyer).reading;
    if (reading) for (const [id, share] of proRataShares(reading.importedWh, list)) buyerShares.set(id, share);
  }

  const settled: ContractSettlement[] = contracts.map((c) => {
    const sellerMeter = meterOf(c.seller);
    const buyerMeter = meterOf(c.buyer);
    const sellerShare = sellerShares.get(c.id);
    const buyerShare = buyerShares.get(c.id);
    let deliveredWh: number;
    let status: ContractStatus;
    if (sellerShare !== undefined && buyerShare !== undefined) {
      deliveredWh = Math.min(sellerShare, buyerShare);
      const gap = disputeRule === 'any-gap' ? Math.abs(sellerShare - buyerShare) : sellerShare - buyerShare;
      const disputed = gap > toleranceWh && gap * 100 > tolerancePct * c.energyWh;
      status = disputed ? 'disputed' : 'settled';
    } else {
      // The reported side decides (0 when neither reported): the silent party bears it.
      deliveredWh = sellerShare ?? buyerShare ?? 0;
      const equivocated = sellerMeter.state === 'equivocated' || buyerMeter.state === 'equivocated';
      status = equivocated ? 'disputed' : timedOut ? 'settled-by-timeout' : 'provisional';
    }
    const out: ContractSettlement = {
      id: c.id,
      slot: c.slot,
      zone: c.zone,
      seller: c.seller,
      buyer: c.buyer,
      contractedWh: c.energyWh,
      priceSenPerKWh: c.priceSenPerKWh,
      buyerPaysSenPerKWh: c.buyerPaysSenPerKWh,
      sellerGetsSenPerKWh: c.sellerGetsSenPerKWh,
      status,
      sellerReading: sellerMeter.state,
      buyerReading: buyerMeter.state,
      deliveredWh,
      paymentMillisen: deliveredWh * c.priceSenPerKWh,
      buyerFeeMillisen: deliveredWh * (c.buyerPaysSenPerKWh - c.priceSenPerKWh),
      sellerFeeMillisen: deliveredWh * (c.priceSenPerKWh - c.sellerGetsSenPerKWh),
    };
    // Optional figures only when known, so the object stays canonical-JSON friendly.
    if (sellerMeter.reading) out.sellerExportedWh = sellerMeter.reading.exportedWh;
    if (buyerMeter.reading) out.buyerImportedWh = buyerMeter.reading.importedWh;
    if (sellerShare !== undefined) out.sellerShareWh = sellerShare;
    if (buyerShare !== undefined) out.buyerShareWh = buyerShare;
    return out;
  });

  // Households: every party to a contract and every peer with a reading of the slot.
  const peers = new Set<string>();
  for (const c of contracts) peers.add(c.seller).add(c.buyer);
  for (const r of slotReadings) peers.add(r.peerId);
  const households = [...peers].sort(cmp).map((peerId): HouseholdSettlement => {
    const meter = meterOf(peerId);
    let p2pBoughtWh = 0;
    let p2pSoldWh = 0;
    let p2pPaidMillisen = 0;
    let p2pReceivedMillisen = 0;
    let feesMillisen = 0;
    let provisional = false;
    let disputed = meter.state === 'equivocated';
    for (const s of settled) {
      const buys = s.buyer === peerId;
      const sells = s.seller === peerId;
      if (!buys && !sells) continue;
      if (s.status === 'provisional') provisional = true;
      if (s.status === 'disputed') disputed = true;
      if (buys) {
        p2pBoughtWh += s.deliveredWh;
        p2pPaidMillisen += s.paymentMillisen;
        feesMillisen += s.buyerFeeMillisen;
      }
      if (sells) {
        p2pSoldWh += s.deliveredWh;
        p2pReceivedMillisen += s.paymentMillisen;
        feesMillisen += s.sellerFeeMillisen;
      }
    }
    const importedWh = meter.reading?.importedWh ?? p2pBoughtWh;
    const exportedWh = meter.reading?.exportedWh ?? p2pSoldWh;
    const utilityImportWh = importedWh - p2pBoughtWh;
    const utilityExportWh = exportedWh - p2pSoldWh;
    if (utilityImportWh < 0 || utilityExportWh < 0) throw new Error(`settlement invariant broken for ${peerId}: p2p beyond metered`);
    const tariff = tariffOf(peerId);
    const utilityCostMillisen = utilityImportWh * tariff.retailSenPerKWh - utilityExportWh * tariff.buybackSenPerKWh;
    const costMillisen = utilityCostMillisen + p2pPaidMillisen - p2pReceivedMillisen + feesMillisen;
    const baselineCostMillisen = importedWh * tariff.retailSenPerKWh - exportedWh * tariff.buybackSenPerKWh;
    return {
      peerId,
      reading: meter.state,
      status: provisional ? 'provisional' : disputed ? 'disputed' : 'settled',
      importedWh,
      exportedWh,
      p2pBoughtWh,
      p2pSoldWh,
      utilityImportWh,
      utilityExportWh,
      p2pPaidMillisen,
      p2pReceivedMillisen,
      feesMillisen,
      utilityCostMillisen,
      costMillisen,
      baselineCostMillisen,
      savingsMillisen: baselineCostMillisen - costMillisen,
    };
  });

  return { slot, slotMinutes, deadlineMs, contracts: settled, households, equivocations };
}

/** A settlement record: only strings, integers and booleans, flat; what both parties sign. */
export type SettlementRecord = Record<string, string | number | boolean>;

/**
 * The record both parties of `contract` sign once it is settled: the contract's terms,
 * the readings used (each party's figures and signing instant, found among `readings`),
 * the shares, delivered energy, status and money. Flat, with only strings, integers and
 * booleans, and no absent values written as null (an unknown figure is left out), so its
 * canonical JSON is the same on every peer.
 *
 * Throws SettlementError when `result` is not the settlement of `contract`, or when
 * `readings` lacks the reading the result says was metered.
 */
export function settlementRecord(contract: Contract, readings: readonly MeterReading[], result: ContractSettlement): SettlementRecord {
  if (
    result.id !== contract.id ||
    result.slot !== contract.slot ||
    result.seller !== contract.seller ||
    result.buyer !== contract.buyer ||
    result.zone !== contract.zone ||
    result.contractedWh !== contract.energyWh ||
    result.priceSenPerKWh !== contract.priceSenPerKWh ||
    result.buyerPaysSenPerKWh !== contract.buyerPaysSenPerKWh ||
    result.sellerGetsSenPerKWh !== contract.sellerGetsSenPerKWh
  ) {
    throw new SettlementError(`settlement ${result.id} does not belong to contract ${contract.id}`);
  }
  const used = (peerId: string, match: (r: MeterReading) => boolean): MeterReading => {
    let best: MeterReading | undefined;
    for (const r of readings) {
      if (r.peerId === peerId && r.slot === contract.slot && match(r) && (!best || r.at < best.at)) best = r;
    }
    if (!best) throw new SettlementError(`contract ${contract.id}: the reading of ${peerId} used in settlement is not among the readings`);
    return best;
  };
  const record: SettlementRecord = {
    type: 'tonari/settlement',
    version: 1,
    contract: contract.id,
    slot: contract.slot,
    zone: contract.zone,
    seller: contract.seller,
    buyer: contract.buyer,
    sellOrder: contract.sellOrder,
    buyOrder: contract.buyOrder,
    contractedWh: contract.energyWh,
    priceSenPerKWh: contract.priceSenPerKWh,
    buyerPaysSenPerKWh: contract.buyerPaysSenPerKWh,
    sellerGetsSenPerKWh: contract.sellerGetsSenPerKWh,
    status: result.status,
    disputed: result.status === 'disputed',
    final: result.status === 'settled' || result.status === 'settled-by-timeout',
    sellerReading: result.sellerReading,
    buyerReading: result.buyerReading,
    deliveredWh: result.deliveredWh,
    paymentMillisen: result.paymentMillisen,
    buyerFeeMillisen: result.buyerFeeMillisen,
    sellerFeeMillisen: result.sellerFeeMillisen,
  };
  if (result.sellerReading === 'metered') {
    const r = used(contract.seller, (x) => x.exportedWh === result.sellerExportedWh);
    record['sellerExportedWh'] = r.exportedWh;
    record['sellerImportedWh'] = r.importedWh;
    record['sellerReadingAt'] = r.at;
  }
  if (result.buyerReading === 'metered') {
    const r = used(contract.buyer, (x) => x.importedWh === result.buyerImportedWh);
    record['buyerExportedWh'] = r.exportedWh;
    record['buyerImportedWh'] = r.importedWh;
    record['buyerReadingAt'] = r.at;
  }
  if (result.sellerShareWh !== undefined) record['sellerShareWh'] = result.sellerShareWh;
  if (result.buyerShareWh !== undefined) record['buyerShareWh'] = result.buyerShareWh;
  return record;
}
