/**
 * One agent's side of the market protocol (docs/protocol.md, "Market"): its own signed
 * orders, the order sets it holds per slot, the digest round at gate closure, fetching
 * what it misses, the same pure clearing as every peer, countersigned contracts, and
 * meter readings after the slot for settlement.
 *
 * Transport-agnostic (the mesh in an agent, an in-memory bus in `tonari simulate`) and
 * driven by `tick()` and `receive()`: no timers of its own, so a virtual clock runs it
 * exactly like the real one. Every state change that a later message depends on is
 * appended to the ledger (fsynced) before that message is sent.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { contractBody, fillSignatureProblem, signFill, type ContractBody, type FillSignature } from '../ledger/fill-signature.js';
import { canonicalJson } from '../mesh/canonical.js';
import { clearSlot } from './clearing.js';
import { compareStrings, isValidOrder, liveOrderSet, withOrderId } from './order.js';
import { signValue, verifyValue } from './signed.js';
import type { ClearingResult, Fill, Order, Side, SlotStart } from './types.js';

/** What the session sends through; incoming messages arrive through `receive()`. */
export interface MarketTransport {
  publish(type: string, body: Record<string, unknown>): Promise<unknown>;
  send(to: string, type: string, body: Record<string, unknown>): Promise<unknown>;
}

/** The part of the ledger the session needs (agent/ledger/ledger.ts). */
export interface MarketLedger {
  has(key: string): boolean;
  get(key: string): Promise<{ body: Record<string, unknown> } | undefined>;
  append(kind: 'order' | 'fill-signed' | 'contract' | 'settlement' | 'dispute' | 'note', key: string, body: Record<string, unknown>): Promise<unknown>;
}

export interface MarketIdentity {
  peerId: string;
  privateKey: KeyObject;
  rawPublicKey: Buffer;
}

export interface SignedOrder {
  order: Order;
  /** When the owner placed this revision (its clock), ms; must be before the slot's gate closure. */
  at: number;
  sig: string;
}

export interface MeterReading {
  peerId: string;
  slot: SlotStart;
  slotMinutes: number;
  /** Energy the household exported to the grid during the slot, Wh. */
  exportedWh: number;
  /** Energy it imported, Wh. */
  importedWh: number;
  /** When the owner signed it (its clock), ms. */
  at: number;
}

export interface SignedReading {
  reading: MeterReading;
  sig: string;
}

/** A contract: the ledger's contract body (fill and both signatures, sorted by peer id) and the fill's id. */
export interface ContractRecord {
  id: string;
  fill: Fill;
  signatures: ContractBody['signatures'];
}

export interface MarketSessionOptions {
  identity: MarketIdentity;
  transport: MarketTransport;
  /** Raw Ed25519 keys of trusted peers (and our own); undefined for strangers. */
  keyOf: (peerId: string) => Uint8Array | undefined;
  ledger: MarketLedger;
  clock: Clock;
  log: Logger;
  slotMinutes: number;
  /** Gate closure, ms before the slot starts. */
  gateMs: number;
  /** How long after gate closure digests and fetches may take before clearing. Default 20 s. */
  reconcileMs?: number;
  /** How long after the slot ends the meter reading is published. Default 60 s. */
  meterDelayMs?: number;
  /** How long after the slot ends the counterparties' readings are awaited before settling with what is there. Default 2 h. */
  readingTimeoutMs?: number;
  /** How often an unanswered countersignature is sent again. Default 10 s. */
  resendMs?: number;
  /** The household's grid energy during a slot, once it is over; undefined if unknown. */
  meterFor?: (slot: SlotStart) => { exportedWh: number; importedWh: number } | undefined;
  /** Called once a contract is recorded (both signatures, fsynced). */
  onContract?: (contract: ContractRecord) => void;
  /** Called once per slot with the settled-side inputs: contracts and every reading heard. */
  onDelivered?: (slot: SlotStart, contracts: ContractRecord[], readings: SignedReading[]) => void | Promise<void>;
  /** Orders kept per slot at most (a hostile peer cannot grow memory without bound). Default 5000. */
  maxOrdersPerSlot?: number;
}

type Phase = 'open' | 'reconciling' | 'cleared';

interface SlotBook {
  slot: SlotStart;
  gate: number;
  phase: Phase;
  orders: Map<string, SignedOrder>;
  result?: ClearingResult;
  /** Our fills (as seller or buyer) by fill id, and our signature of each. */
  ownFills: Map<string, { fill: Fill; signature: FillSignature }>;
  /** Counterparties' signatures that arrived before we cleared, by fill id (bounded). */
  early: Map<string, FillSignature>;
  contracts: Map<string, ContractRecord>;
  lastResendAt: number;
  meterSent: boolean;
  readings: Map<string, SignedReading>;
  delivered: boolean;
}

export const ORDER_KIND = 'order';
export const DIGEST_KIND = 'order-digest';
export const FETCH_KIND = 'order-fetch';
export const ORDERS_KIND = 'orders';
export const FILL_SIGN_KIND = 'fill-sign';
export const METER_KIND = 'meter';

/** Ids per digest message and orders per `orders` message: both stay well inside the 8 KiB envelope. */
export const IDS_PER_DIGEST = 100;
export const ORDERS_PER_MESSAGE = 8;

/**
 * Signed orders already checked, by object identity. Only frozen objects are remembered
 * (the in-memory bus hands one frozen copy to every household of a simulation): their
 * content cannot change after the check. A message parsed from the network is a fresh
 * object and is always checked in full.
 */
const checkedOrders = new WeakSet<object>();

export function fillId(fill: Fill): string {
  return createHash('sha256').update(canonicalJson(fill)).digest('hex');
}

export class MarketSession {
  private readonly books = new Map<SlotStart, SlotBook>();
  /** Our latest own order per slot (live or cancelled). */
  private readonly ownLatest = new Map<SlotStart, SignedOrder>();
  /** Counts by what happened, for metrics and tests. */
  readonly counters = { ordersAccepted: 0, ordersRejected: 0, fetched: 0, mismatches: 0, contracts: 0, messagesSent: 0 };

  constructor(private readonly options: MarketSessionOptions) {}

  get self(): string {
    return this.options.identity.peerId;
  }

  /**
   * After a restart: our own orders from the ledger, so that the next revision continues
   * the old numbering (a second "revision 1" would be equivocation) and the digest round
   * still lists them. Orders of slots whose gate has closed are skipped.
   */
  restoreOwnOrders(orders: readonly SignedOrder[]): number {
    const now = this.options.clock.now();
    let restored = 0;
    for (const signed of orders) {
      const { order } = signed;
      if (order.owner !== this.self || order.slotMinutes !== this.options.slotMinutes || now >= order.slot - this.options.gateMs) continue;
      this.book(order.slot).orders.set(order.id, signed);
      if (order.rev > (this.ownLatest.get(order.slot)?.order.rev ?? 0)) this.ownLatest.set(order.slot, signed);
      restored++;
    }
    return restored;
  }

  /** Our latest own order for a slot (live or cancelled), if any. */
  ownOrder(slot: SlotStart): SignedOrder | undefined {
    return this.ownLatest.get(slot);
  }

  /** Every slot's contracts so far. */
  contracts(): ContractRecord[] {
    return [...this.books.values()].flatMap((b) => [...b.contracts.values()]);
  }

  result(slot: SlotStart): ClearingResult | undefined {
    return this.books.get(slot)?.result;
  }

  /** The live orders we hold for a slot. */
  orderSet(slot: SlotStart): Order[] {
    return liveOrderSet([...(this.books.get(slot)?.orders.values() ?? [])].map((o) => o.order)).orders;
  }

  /**
   * Places, amends (a new revision) or, with energyWh 0, cancels our order for `slot`.
   * Recorded in the ledger before it is published. Refused once the gate has closed.
   */
  async placeOrder(slot: SlotStart, want: { side: Side; energyWh: number; limitSenPerKWh: number; feeSenPerKWh: number; zone: string }): Promise<SignedOrder> {
    const now = this.options.clock.now();
    const gate = slot - this.options.gateMs;
    if (now >= gate) throw new RangeError(`the gate of slot ${new Date(slot).toISOString()} closed at ${new Date(gate).toISOString()}`);
    const rev = (this.ownLatest.get(slot)?.order.rev ?? 0) + 1;
    const order = withOrderId({
      owner: this.self, slot, slotMinutes: this.options.slotMinutes, side: want.side, energyWh: want.energyWh,
      limitSenPerKWh: want.limitSenPerKWh, feeSenPerKWh: want.feeSenPerKWh, zone: want.zone, rev,
    });
    const signed: SignedOrder = { order, at: now, sig: signValue('order', { order, at: now }, this.options.identity.privateKey) };
    await this.options.ledger.append('order', `order:${order.id}`, signed as unknown as Record<string, unknown>);
    this.ownLatest.set(slot, signed);
    this.book(slot).orders.set(order.id, signed);
    await this.sendSafely(() => this.options.transport.publish(ORDER_KIND, signed as unknown as Record<string, unknown>));
    return signed;
  }

  /** Advances every slot's protocol to the clock's present. Call often (every second; every step in a simulation). */
  async tick(): Promise<void> {
    const now = this.options.clock.now();
    for (const book of [...this.books.values()].sort((a, b) => a.slot - b.slot)) {
      if (book.phase === 'open' && now >= book.gate) await this.closeGate(book);
      if (book.phase === 'reconciling' && now >= book.gate + (this.options.reconcileMs ?? 20_000)) await this.clear(book);
      if (book.phase === 'cleared') await this.afterClearing(book, now);
    }
  }

  /** One incoming message (already opened: signature, replay, trust checked by the transport). */
  async receive(type: string, from: string, body: Record<string, unknown>): Promise<void> {
    try {
      switch (type) {
        case ORDER_KIND: this.acceptOrder(body, from); return;
        case DIGEST_KIND: await this.onDigest(from, body); return;
        case FETCH_KIND: await this.onFetch(from, body); return;
        case ORDERS_KIND: this.onOrders(from, body); return;
        case FILL_SIGN_KIND: await this.onFillSign(from, body); return;
        case METER_KIND: this.onMeter(from, body); return;
        default: return;
      }
    } catch (error) {
      this.options.log.warn({ err: (error as Error).message, type, peer: from }, 'market message not handled');
    }
  }

  /** Forgets slots whose delivery is handled and that ended more than `keepMs` ago. */
  prune(keepMs: number): void {
    const now = this.options.clock.now();
    for (const [slot, book] of this.books) {
      if (book.delivered && slot + this.options.slotMinutes * 60_000 + keepMs < now) {
        this.books.delete(slot);
        this.ownLatest.delete(slot);
      }
    }
  }

  private book(slot: SlotStart): SlotBook {
    let book = this.books.get(slot);
    if (!book) {
      book = {
        slot, gate: slot - this.options.gateMs, phase: 'open', orders: new Map(), ownFills: new Map(), early: new Map(),
        contracts: new Map(), lastResendAt: 0, meterSent: false, readings: new Map(), delivered: false,
      };
      this.books.set(slot, book);
    }
    return book;
  }

  /** Checks and stores a signed order from anyone (its owner, or a peer relaying it). */
  private acceptOrder(value: unknown, via: string): boolean {
    const reject = (why: string) => {
      this.counters.ordersRejected++;
      this.options.log.debug({ peer: via, why }, 'order refused');
      return false;
    };
    if (!value || typeof value !== 'object') return reject('not an object');
    const { order, at, sig } = value as Partial<SignedOrder>;
    const checked = checkedOrders.has(value);
    if (!checked && !isValidOrder(order)) return reject('invalid order');
    if (!order || order.slotMinutes !== this.options.slotMinutes) return reject('other slot length');
    if (typeof at !== 'number' || !Number.isSafeInteger(at) || typeof sig !== 'string') return reject('no time or signature');
    if (at >= order.slot - this.options.gateMs) return reject('placed after gate closure');
    const key = this.options.keyOf(order.owner);
    if (!key) return reject('owner not trusted');
    if (!checked) {
      if (!verifyValue('order', { order, at }, sig, key)) return reject('bad order signature');
      if (Object.isFrozen(value) && Object.isFrozen(order)) checkedOrders.add(value);
    }
    const existing = this.books.get(order.slot);
    if (existing?.phase === 'cleared') return reject('slot already cleared');
    if (existing?.orders.has(order.id)) return true;
    if (order.slot - this.options.clock.now() > 49 * this.options.slotMinutes * 60_000) return reject('slot too far ahead');
    const book = this.book(order.slot);
    if (book.orders.size >= (this.options.maxOrdersPerSlot ?? 5000)) return reject('slot full');
    book.orders.set(order.id, { order, at, sig });
    this.counters.ordersAccepted++;
    return true;
  }

  /** Latest revision per owner (cancellations included): what a peer must hold to agree. */
  private latestIds(book: SlotBook): string[] {
    const latest = new Map<string, Order>();
    for (const { order } of book.orders.values()) {
      const seen = latest.get(order.owner);
      if (!seen || order.rev > seen.rev || (order.rev === seen.rev && compareStrings(order.id, seen.id) < 0)) latest.set(order.owner, order);
    }
    return [...latest.values()].map((o) => o.id).sort(compareStrings);
  }

  private async closeGate(book: SlotBook): Promise<void> {
    book.phase = 'reconciling';
    const ids = this.latestIds(book);
    const parts = Math.max(1, Math.ceil(ids.length / IDS_PER_DIGEST));
    for (let part = 0; part < parts; part++) {
      const body = { slot: book.slot, part, parts, ids: ids.slice(part * IDS_PER_DIGEST, (part + 1) * IDS_PER_DIGEST) };
      await this.sendSafely(() => this.options.transport.publish(DIGEST_KIND, body));
    }
  }

  private async onDigest(from: string, body: Record<string, unknown>): Promise<void> {
    const { slot, ids } = body;
    if (typeof slot !== 'number' || !Array.isArray(ids) || ids.length > IDS_PER_DIGEST) return;
    const book = this.books.get(slot) ?? (this.isPlausibleSlot(slot) ? this.book(slot) : undefined);
    if (!book || book.phase === 'cleared') return;
    // The map lookup first: nearly every id is known, and the pattern test is the costlier check.
    const missing = ids.filter((id): id is string => typeof id === 'string' && !book.orders.has(id) && /^[0-9a-f]{64}$/.test(id));
    if (missing.length === 0) return;
    this.counters.fetched += missing.length;
    await this.sendSafely(() => this.options.transport.send(from, FETCH_KIND, { slot, ids: missing }));
  }

  private async onFetch(from: string, body: Record<string, unknown>): Promise<void> {
    const { slot, ids } = body;
    if (typeof slot !== 'number' || !Array.isArray(ids) || ids.length > IDS_PER_DIGEST) return;
    const book = this.books.get(slot);
    if (!book) return;
    const found = ids.flatMap((id) => (typeof id === 'string' && book.orders.has(id) ? [book.orders.get(id)!] : []));
    for (let i = 0; i < found.length; i += ORDERS_PER_MESSAGE) {
      const orders = found.slice(i, i + ORDERS_PER_MESSAGE);
      await this.sendSafely(() => this.options.transport.send(from, ORDERS_KIND, { orders }));
    }
  }

  private onOrders(from: string, body: Record<string, unknown>): void {
    const { orders } = body;
    if (!Array.isArray(orders) || orders.length > ORDERS_PER_MESSAGE) return;
    for (const signed of orders) this.acceptOrder(signed, from);
  }

  private isPlausibleSlot(slot: number): boolean {
    const now = this.options.clock.now();
    return Number.isSafeInteger(slot) && slot > now - this.options.slotMinutes * 60_000 && slot - now <= 49 * this.options.slotMinutes * 60_000;
  }

  /**
   * Runs the clearing on the order set we hold and signs our fills. The signed fills of a
   * slot are one ledger record: after a restart we re-send exactly those, never a different
   * result, so no agent is ever committed to two outcomes of one slot.
   */
  private async clear(book: SlotBook): Promise<void> {
    const key = `fills:${book.slot}`;
    const recorded = await this.options.ledger.get(key);
    let result: ClearingResult;
    let signed: { fill: Fill; signature: FillSignature }[];
    if (recorded) {
      result = recorded.body.result as unknown as ClearingResult;
      signed = recorded.body.signed as { fill: Fill; signature: FillSignature }[];
    } else {
      result = clearSlot(this.orderSet(book.slot), book.slot, this.options.slotMinutes);
      const mine = result.fills.filter((f) => f.seller === this.self || f.buyer === this.self);
      const problem = this.overCommitment(book, mine);
      if (problem) {
        this.options.log.error({ slot: book.slot, problem }, 'clearing would commit us beyond our order; nothing signed');
        book.phase = 'cleared';
        book.result = result;
        book.delivered = true;
        return;
      }
      signed = mine.map((fill) => ({ fill, signature: signFill(fill, this.options.identity) }));
      await this.options.ledger.append('fill-signed', key, { slot: book.slot, digest: result.digest, result, signed } as unknown as Record<string, unknown>);
    }
    book.result = result;
    book.phase = 'cleared';
    for (const entry of signed) book.ownFills.set(fillId(entry.fill), entry);
    for (const [id, early] of book.early) await this.completeContract(book, id, early);
    book.early.clear();
    await this.sendOwnSignatures(book, false);
  }

  /** Why `fills` would commit us beyond our own live order, or undefined when they do not. */
  private overCommitment(book: SlotBook, fills: Fill[]): string | undefined {
    if (fills.length === 0) return undefined;
    const own = this.orderSet(book.slot).find((o) => o.owner === this.self);
    const latest = this.ownOrder(book.slot);
    if (!own || !latest || own.id !== latest.order.id) return 'our latest order is not the one cleared';
    const total = fills.reduce((sum, f) => sum + f.energyWh, 0);
    const wrongSide = fills.some((f) => (own.side === 'sell' ? f.seller !== this.self || f.sellOrder !== own.id : f.buyer !== this.self || f.buyOrder !== own.id));
    if (wrongSide) return 'a fill does not belong to our order';
    if (total > own.energyWh) return `fills of ${total} Wh exceed our order of ${own.energyWh} Wh`;
    return undefined;
  }

  private async sendOwnSignatures(book: SlotBook, onlyMissing: boolean): Promise<void> {
    book.lastResendAt = this.options.clock.now();
    for (const [id, { fill, signature }] of book.ownFills) {
      if (onlyMissing && book.contracts.has(id)) continue;
      const counterparty = fill.seller === this.self ? fill.buyer : fill.seller;
      await this.sendSafely(() => this.options.transport.send(counterparty, FILL_SIGN_KIND, { fill, digest: book.result?.digest ?? '', signature }));
    }
  }

  private async onFillSign(from: string, body: Record<string, unknown>): Promise<void> {
    const { fill, signature, digest, reply } = body as { fill?: Fill; signature?: FillSignature; digest?: unknown; reply?: unknown };
    if (!fill || typeof fill !== 'object' || !signature || typeof signature !== 'object') return;
    const parties = [fill.seller, fill.buyer];
    if (!parties.includes(from) || !parties.includes(this.self) || from === this.self) return;
    const key = this.options.keyOf(from);
    // The signature names its key; it must be the sender's trusted key.
    if (!key || signature.peerId !== from || signature.publicKey !== Buffer.from(key).toString('base64url') || fillSignatureProblem(fill, signature) !== undefined) {
      this.options.log.warn({ peer: from }, 'countersignature does not verify; ignored');
      return;
    }
    const id = fillId(fill);
    const book = typeof fill.slot === 'number' ? this.books.get(fill.slot) : undefined;
    if (!book) return;
    if (book.phase !== 'cleared') {
      if (book.early.size < 256) book.early.set(id, signature);
      return;
    }
    if (!book.ownFills.has(id)) {
      this.counters.mismatches++;
      this.options.log.warn({
        peer: from, slot: book.slot, theirDigest: typeof digest === 'string' ? digest : null, ourDigest: book.result?.digest,
        why: digest === book.result?.digest ? 'same order set, different fill (bug or forgery)' : 'the order sets differ',
      }, 'a neighbour\'s fill does not match our clearing: no contract');
      return;
    }
    await this.completeContract(book, id, signature);
    // Answer every signature that is not itself an answer with ours: the neighbour sends again
    // (every resendMs until the slot starts) only while it lacks ours, so a lost answer is
    // answered again, and answers are never answered, so nothing ping-pongs.
    if (reply !== true) {
      const own = book.ownFills.get(id)!;
      await this.sendSafely(() => this.options.transport.send(from, FILL_SIGN_KIND, { fill: own.fill, digest: book.result?.digest ?? '', signature: own.signature, reply: true }));
    }
  }

  /** Records the contract once both signatures are held. True when it was recorded now. */
  private async completeContract(book: SlotBook, id: string, theirs: FillSignature): Promise<boolean> {
    const own = book.ownFills.get(id);
    if (!own || book.contracts.has(id)) return false;
    const body = contractBody(own.fill, [own.signature, theirs], this.self);
    const key = `contract:${id}`;
    if (!this.options.ledger.has(key)) await this.options.ledger.append('contract', key, body as unknown as Record<string, unknown>);
    const contract: ContractRecord = { id, fill: own.fill, signatures: body.signatures };
    book.contracts.set(id, contract);
    this.counters.contracts++;
    this.options.onContract?.(contract);
    return true;
  }

  private async afterClearing(book: SlotBook, now: number): Promise<void> {
    const end = book.slot + this.options.slotMinutes * 60_000;
    const missing = book.ownFills.size > book.contracts.size;
    if (missing && now < book.slot && now - book.lastResendAt >= (this.options.resendMs ?? 10_000)) await this.sendOwnSignatures(book, true);
    if (!book.meterSent && now >= end + (this.options.meterDelayMs ?? 60_000)) {
      book.meterSent = true;
      if (book.contracts.size > 0) {
        const meter = this.options.meterFor?.(book.slot);
        if (meter) {
          const reading: MeterReading = { peerId: this.self, slot: book.slot, slotMinutes: this.options.slotMinutes, exportedWh: meter.exportedWh, importedWh: meter.importedWh, at: this.options.clock.now() };
          const signed: SignedReading = { reading, sig: signValue('meter', reading, this.options.identity.privateKey) };
          book.readings.set(this.self, signed);
          await this.sendSafely(() => this.options.transport.publish(METER_KIND, signed as unknown as Record<string, unknown>));
        } else {
          this.options.log.warn({ slot: book.slot }, 'no meter reading for a slot with contracts; it stays provisional');
        }
      }
    }
    if (!book.delivered && book.meterSent) {
      const counterparties = new Set([...book.contracts.values()].map((c) => (c.fill.seller === this.self ? c.fill.buyer : c.fill.seller)));
      const complete = [...counterparties].every((p) => book.readings.has(p)) && book.readings.has(this.self);
      const timedOut = now >= end + (this.options.readingTimeoutMs ?? 2 * 3_600_000);
      if (complete || book.contracts.size === 0 || timedOut) {
        book.delivered = true;
        if (book.contracts.size > 0) await this.options.onDelivered?.(book.slot, [...book.contracts.values()], [...book.readings.values()]);
      }
    }
  }

  private onMeter(from: string, body: Record<string, unknown>): void {
    const { reading, sig } = body as Partial<SignedReading>;
    if (!reading || typeof sig !== 'string' || reading.peerId !== from) return;
    const book = this.books.get(reading.slot);
    if (!book) return;
    const key = this.options.keyOf(from);
    if (!key || !verifyValue('meter', reading, sig, key)) return;
    const known = book.readings.get(from);
    if (known && known.sig !== sig && canonicalJson(known.reading) !== canonicalJson(reading)) {
      this.options.log.warn({ peer: from, slot: reading.slot }, 'a neighbour signed two different meter readings for one slot (equivocation); the first is kept');
      return;
    }
    book.readings.set(from, { reading, sig });
  }

  /** Sends; a transport failure (neighbour away, cluster down) is logged, never thrown: the protocol retries or times out. */
  private async sendSafely(send: () => Promise<unknown>): Promise<void> {
    this.counters.messagesSent++;
    try {
      await send();
    } catch (error) {
      this.options.log.debug({ err: (error as Error).message }, 'market message not sent');
    }
  }
}
