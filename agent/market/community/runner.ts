/**
 * The community simulation behind `tonari simulate --households N`: N households, each
 * with its own identity, ledger, energy history, forecast, strategy and MarketSession,
 * trading over one in-memory bus (bus.ts, optionally lossy) on a virtual clock. Nothing
 * is mocked between the forecast and the ledger: the households run the same code as an
 * agent, only the devices (households.ts, sim-household.ts) and the transport are simulated.
 *
 * Each slot period [S, S + slot):
 *   S          the physics of the slot that just ended is run (meter, battery, history),
 *              the ground-truth settlement of that slot (settleSlot) is computed, and
 *              every household re-plans its orders for the open slots (forecast →
 *              desiredOrders → orderChanges → placeOrder); tick, deliver;
 *   S + 61 s   meter readings of the slot that ended are published (session); tick, deliver;
 *   S + slot − gate            gate closure of the next slot: digests, fetches;
 *   … + reconcile (20 s)       clearing, fill signatures, countersignatures;
 *   every 10 s until the slot  resends of unanswered signatures (only with --loss).
 * Central KPIs per slot: the "optimum" clears the union of every household's latest
 * order (as if no message had been lost) and is timed; realised welfare sums the
 * contracts actually recorded (both signatures held by at least one party).
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import type { HouseholdState, Reading } from '../../household/state.js';
import { QUANTITIES } from '../../household/quantities.js';
import { identityFromKey, type AgentIdentity } from '../../identity/key-store.js';
import { Ledger, realLedgerIo, type LedgerIo } from '../../ledger/ledger.js';
import { MemoryBus } from '../bus.js';
import { clearSlot } from '../clearing.js';
import { DEFAULT_FORECAST_POLICY, forecastSlots } from '../forecast.js';
import { EnergyHistory } from '../history.js';
import { MarketSession, type ContractRecord, type MarketLedger } from '../session.js';
import { settleSlot, type Tariff } from '../settlement.js';
import { openSlots, utcOffsetMinutes, type SlotMinutes } from '../slots.js';
import { DEFAULT_MIN_ORDER_WH, desiredOrders, orderChanges, type Strategy } from '../strategy.js';
import type { Order, SlotStart } from '../types.js';
import { makeHouseholds, seededRandom, slotEnergy, subSeed, type CommunitySpec } from './households.js';
import { SimHousehold } from './sim-household.js';

/**
 * Where the households' ledgers live:
 * - 'file' (default): real Ledger files, fsynced, in a temporary directory removed at the
 *   end (or in `stateDir`, kept);
 * - 'nosync': real Ledger files without fdatasync (same records, same verification);
 * - 'memory': an in-memory MarketLedger (no files, no signatures on records) for the
 *   large-N benchmark path only.
 */
export type LedgerMode = 'file' | 'nosync' | 'memory';

export interface CommunityOptions {
  households: number;
  days: number;
  seed?: number;
  /** Probability that one bus delivery is lost. Default 0. */
  loss?: number;
  /** First simulated day, local midnight of this ISO date (YYYY-MM-DD). Default 2026-05-01. */
  startDate?: string;
  timeZone?: string;
  latitudeDeg?: number;
  slotMinutes?: SlotMinutes;
  /** Slots ahead open for orders. Default 48 (config market.openSlots). */
  openSlots?: number;
  gateMinutes?: number;
  tariff?: Tariff;
  sellFloorSenPerKWh?: number;
  buyCapSenPerKWh?: number;
  ledger?: LedgerMode;
  /**
   * Households per community (default 50, market.md's live-mesh size): larger runs are split
   * into communities of this size, each its own zone (c0, c1, …) on its own bus, as separate
   * LANs would be. Every agent of a full mesh holds every order of its community, so one
   * community of 1000 costs about 20 times as much as 20 communities of 50.
   */
  communitySize?: number;
  /** Keep the ledgers here instead of a temporary directory. */
  stateDir?: string;
  /** Called after each simulated slot (progress). */
  onSlot?: (done: number, total: number) => void;
}

/** Everything the report needs, per slot and per household; pure data. */
export interface CommunityRun {
  options: Required<Omit<CommunityOptions, 'stateDir' | 'onSlot'>>;
  households: { index: number; peerId: string; pvPeakW: number; batteryWh: number; dailyLoadWh: number }[];
  perHousehold: { loadWh: number; pvWh: number; importedWh: number; exportedWh: number; utilityImportWh: number; utilityExportWh: number;
    p2pBoughtWh: number; p2pSoldWh: number; costMillisen: number; baselineCostMillisen: number }[];
  slots: { slot: SlotStart; loadWh: number; importedWh: number; exportedWh: number; utilityImportWh: number; tradedWh: number;
    contractedWh: number; contracts: number; optimumMillisen: number; realisedMillisen: number; clearingMs: number }[];
  contracts: number;
  /** Contracts that only one party recorded (its countersignature answer was lost). */
  oneSidedContracts: number;
  mismatches: number;
  bus: { sent: number; delivered: number; lost: number; duplicated: number };
  sessionMessages: number;
  ordersPlaced: number;
  ledgerFiles: string[];
  wallMs: number;
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A deterministic identity per seed and household, so the same seed gives the same peer ids, orders and tie-breaks. */
export function simIdentity(seed: number, index: number): AgentIdentity {
  const raw = createHash('sha256').update(`tonari simulate/${seed}/${index}`).digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  return identityFromKey(privateKey, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
}

class MemoryLedger implements MarketLedger {
  private readonly records = new Map<string, { body: Record<string, unknown> }>();
  has(key: string): boolean { return this.records.has(key); }
  async get(key: string) { return this.records.get(key); }
  async append(_kind: string, key: string, body: Record<string, unknown>) {
    if (this.records.has(key)) throw new Error(`duplicate key ${key}`);
    this.records.set(key, { body });
    return undefined;
  }
}

const noSyncIo: LedgerIo = { write: realLedgerIo.write, datasync: async () => undefined };

function state(now: number, pvW: number, loadW: number, socPct: number | undefined): HouseholdState {
  const missing: Reading = { value: undefined, at: undefined, quality: 'missing', reason: 'not simulated' };
  const s = { at: now } as HouseholdState;
  for (const q of QUANTITIES) s[q] = missing;
  s.pvW = { value: pvW, at: now, quality: 'ok' };
  s.loadW = { value: loadW, at: now, quality: 'ok' };
  if (socPct !== undefined) s.socPct = { value: socPct, at: now, quality: 'ok' };
  return s;
}

export async function runCommunity(input: CommunityOptions): Promise<CommunityRun> {
  const wallStart = performance.now();
  const options: CommunityRun['options'] = {
    households: input.households,
    days: input.days,
    seed: input.seed ?? 1,
    loss: input.loss ?? 0,
    startDate: input.startDate ?? '2026-05-01',
    timeZone: input.timeZone ?? 'Asia/Tokyo',
    latitudeDeg: input.latitudeDeg ?? 35.7,
    slotMinutes: input.slotMinutes ?? 30,
    openSlots: input.openSlots ?? 48,
    gateMinutes: input.gateMinutes ?? 5,
    tariff: input.tariff ?? { retailSenPerKWh: 3000, buybackSenPerKWh: 850 },
    sellFloorSenPerKWh: input.sellFloorSenPerKWh ?? 1000,
    buyCapSenPerKWh: input.buyCapSenPerKWh ?? 2500,
    ledger: input.ledger ?? 'file',
    communitySize: Math.max(2, input.communitySize ?? 50),
  };
  const { households: n, seed, slotMinutes, timeZone } = options;
  if (!Number.isSafeInteger(n) || n < 2) throw new RangeError('a community needs at least 2 households');
  if (!Number.isSafeInteger(options.days) || options.days < 1) throw new RangeError('days must be an integer >= 1');
  const slotMs = slotMinutes * 60_000;
  const gateMs = options.gateMinutes * 60_000;
  const reconcileMs = 20_000;
  const resendMs = 10_000;
  const meterDelayMs = 60_000;

  // The first simulated slot starts at local midnight of startDate.
  const midnightUtc = Date.parse(`${options.startDate}T00:00:00Z`);
  if (!Number.isFinite(midnightUtc)) throw new RangeError(`startDate: expected YYYY-MM-DD, got ${options.startDate}`);
  const start = midnightUtc - utcOffsetMinutes(midnightUtc, timeZone) * 60_000;
  const end = start + options.days * 86_400_000;

  const spec: CommunitySpec = { seed, households: makeHouseholds(n, seed), timeZone, latitudeDeg: options.latitudeDeg };
  const clock = new ManualClock(start - slotMs);
  const { communitySize } = options;
  const communities = Math.ceil(n / communitySize);
  const buses = Array.from({ length: communities }, (_, k) => new MemoryBus({ loss: options.loss, random: seededRandom(subSeed(seed, k === 0 ? 'bus' : `bus-${k}`)) }));
  const communityOf = (index: number) => Math.floor(index / communitySize);
  const zoneOf = (index: number) => (communities === 1 ? 'default' : `c${communityOf(index)}`);
  const busStats = () => buses.reduce((sum, b) => ({
    sent: sum.sent + b.stats.sent, delivered: sum.delivered + b.stats.delivered, lost: sum.lost + b.stats.lost, duplicated: sum.duplicated + b.stats.duplicated,
  }), { sent: 0, delivered: 0, lost: 0, duplicated: 0 });
  const log = silentLogger();
  const strategy: Strategy = {
    slotMinutes, zone: 'default', sellFloorSenPerKWh: options.sellFloorSenPerKWh, buyCapSenPerKWh: options.buyCapSenPerKWh,
    feeSenPerKWh: 0, minOrderWh: DEFAULT_MIN_ORDER_WH,
  };

  let dir: string | undefined;
  let removeDir = false;
  if (options.ledger !== 'memory') {
    if (input.stateDir) { dir = input.stateDir; mkdirSync(dir, { recursive: true }); }
    else { dir = mkdtempSync(join(tmpdir(), 'tonari-community-')); removeDir = true; }
  }

  interface Member {
    spec: CommunitySpec['households'][number];
    identity: AgentIdentity;
    ledger: MarketLedger;
    closeLedger?: () => Promise<void>;
    session: MarketSession;
    strategy: Strategy;
    bus: MemoryBus;
    sim: SimHousehold;
    history: EnergyHistory;
    meters: Map<SlotStart, { importedWh: number; exportedWh: number }>;
  }
  const identities = spec.households.map((h) => simIdentity(seed, h.index));
  const keys = new Map(identities.map((i) => [i.peerId, i.rawPublicKey as Uint8Array]));
  const contractsBySlot = new Map<SlotStart, Map<string, { record: ContractRecord; sides: number }>>();
  const onContract = (c: ContractRecord) => {
    let bySlot = contractsBySlot.get(c.fill.slot);
    if (!bySlot) contractsBySlot.set(c.fill.slot, (bySlot = new Map()));
    const known = bySlot.get(c.id);
    if (known) known.sides++;
    else bySlot.set(c.id, { record: c, sides: 1 });
  };

  const members: Member[] = [];
  const ledgerFiles: string[] = [];
  try {
    for (const [i, h] of spec.households.entries()) {
      const identity = identities[i]!;
      let ledger: MarketLedger;
      let closeLedger: (() => Promise<void>) | undefined;
      if (options.ledger === 'memory') ledger = new MemoryLedger();
      else {
        const file = join(dir!, `household-${String(i).padStart(4, '0')}.ledger`);
        const real = await Ledger.open(file, { identity, log, clock, io: options.ledger === 'nosync' ? noSyncIo : realLedgerIo });
        ledger = real;
        closeLedger = () => real.close();
        ledgerFiles.push(file);
      }
      const meters = new Map<SlotStart, { importedWh: number; exportedWh: number }>();
      let session!: MarketSession;
      const bus = buses[communityOf(i)]!;
      const transport = bus.join(identity.peerId, (type, from, body) => session.receive(type, from, body));
      session = new MarketSession({
        identity, transport, keyOf: (id) => keys.get(id), ledger, clock, log, slotMinutes, gateMs, reconcileMs, meterDelayMs, resendMs,
        meterFor: (slot) => meters.get(slot), onContract,
      });
      const history = new EnergyHistory({
        slotMinutes, timeZone, pvPeakW: h.pvPeakW, latitudeDeg: options.latitudeDeg, dailyLoadWh: h.dailyLoadWh, maxGapMs: slotMs,
      });
      const member: Member = { spec: h, identity, ledger, session, strategy: { ...strategy, zone: zoneOf(i) }, bus, sim: new SimHousehold(h), history, meters };
      if (closeLedger) member.closeLedger = closeLedger;
      members.push(member);
    }

    const run: CommunityRun = {
      options,
      households: members.map((m) => ({ index: m.spec.index, peerId: m.identity.peerId, pvPeakW: m.spec.pvPeakW, batteryWh: m.spec.battery?.capacityWh ?? 0, dailyLoadWh: m.spec.dailyLoadWh })),
      perHousehold: members.map(() => ({ loadWh: 0, pvWh: 0, importedWh: 0, exportedWh: 0, utilityImportWh: 0, utilityExportWh: 0, p2pBoughtWh: 0, p2pSoldWh: 0, costMillisen: 0, baselineCostMillisen: 0 })),
      slots: [], contracts: 0, oneSidedContracts: 0, mismatches: 0, bus: busStats(), sessionMessages: 0, ordersPlaced: 0, ledgerFiles, wallMs: 0,
    };
    const indexOf = new Map(members.map((m, i) => [m.identity.peerId, i]));
    const central = new Map<SlotStart, { optimumMillisen: number; clearingMs: number; orders: Map<string, Order> }>();

    const tickAll = async () => {
      for (const m of members) await m.session.tick();
      for (const bus of buses) await bus.deliver(200);
    };
    const stepTo = async (t: number) => {
      if (t > clock.now()) await clock.advance(t - clock.now());
      await tickAll();
    };

    /** Physics of [slot, slot + slotMs), ground-truth settlement, KPI row. */
    const finishSlot = (slot: SlotStart) => {
      const day = Math.floor((slot - start) / 86_400_000);
      const energy = slotEnergy(spec, slot, slotMinutes, day);
      const readings = members.map((m, i) => {
        const p = m.sim.step(energy.pvWh[i]!, energy.loadWh[i]!, slotMinutes);
        m.meters.set(slot, { importedWh: p.importedWh, exportedWh: p.exportedWh });
        // The history learns from what the devices read during the slot (its mean power at both ends).
        const socPct = m.sim.socPct;
        m.history.observe(state(slot, m.sim.pvW, m.sim.loadW, socPct));
        m.history.observe(state(slot + slotMs - 1, m.sim.pvW, m.sim.loadW, socPct));
        const h = run.perHousehold[i]!;
        h.loadWh += p.loadWh;
        h.pvWh += p.pvWh;
        return { peerId: m.identity.peerId, slot, exportedWh: p.exportedWh, importedWh: p.importedWh, at: slot + slotMs + meterDelayMs };
      });
      const recorded = [...(contractsBySlot.get(slot)?.values() ?? [])];
      const contracts = recorded.map(({ record }) => ({ ...record.fill, id: record.id }));
      const settlement = settleSlot({ slot, slotMinutes, contracts, readings, nowMs: slot + slotMs + 3_600_001, tariff: options.tariff });
      let utilityImportWh = 0;
      let importedWh = 0;
      let exportedWh = 0;
      for (const hs of settlement.households) {
        const h = run.perHousehold[indexOf.get(hs.peerId)!]!;
        h.importedWh += hs.importedWh;
        h.exportedWh += hs.exportedWh;
        h.utilityImportWh += hs.utilityImportWh;
        h.utilityExportWh += hs.utilityExportWh;
        h.p2pBoughtWh += hs.p2pBoughtWh;
        h.p2pSoldWh += hs.p2pSoldWh;
        h.costMillisen += hs.costMillisen;
        h.baselineCostMillisen += hs.baselineCostMillisen;
        utilityImportWh += hs.utilityImportWh;
        importedWh += hs.importedWh;
        exportedWh += hs.exportedWh;
      }
      const c = central.get(slot);
      let realisedMillisen = 0;
      for (const { record } of recorded) {
        const buy = c?.orders.get(record.fill.buyOrder);
        const sell = c?.orders.get(record.fill.sellOrder);
        if (buy && sell) realisedMillisen += ((buy.limitSenPerKWh - buy.feeSenPerKWh) - (sell.limitSenPerKWh + sell.feeSenPerKWh)) * record.fill.energyWh;
      }
      run.contracts += recorded.length;
      run.oneSidedContracts += recorded.filter((r) => r.sides < 2).length;
      run.slots.push({
        slot, loadWh: energy.loadWh.reduce((a, b) => a + b, 0), importedWh, exportedWh, utilityImportWh,
        tradedWh: settlement.contracts.reduce((s, x) => s + x.deliveredWh, 0),
        contractedWh: recorded.reduce((s, r) => s + r.record.fill.energyWh, 0), contracts: recorded.length,
        optimumMillisen: c?.optimumMillisen ?? 0, realisedMillisen, clearingMs: c?.clearingMs ?? 0,
      });
      central.delete(slot);
      contractsBySlot.delete(slot);
    };

    /** Every household re-plans its orders for the open slots inside the simulated period. */
    const plan = async () => {
      const now = clock.now();
      const slots = openSlots(now, slotMinutes, options.openSlots, timeZone, options.gateMinutes).filter((s) => s < end);
      if (slots.length === 0) return;
      for (const m of members) {
        const forecast = forecastSlots({
          now, slots, slotMinutes, household: state(now, m.sim.pvW, m.sim.loadW, m.sim.socPct), expectation: m.history,
          hasPv: m.spec.pvPeakW > 0, battery: m.spec.battery, policy: DEFAULT_FORECAST_POLICY,
        });
        const live = slots.flatMap((s) => { const o = m.session.ownOrder(s)?.order; return o && o.energyWh > 0 ? [o] : []; });
        const changes = orderChanges(live, desiredOrders(forecast, m.strategy), { slots });
        for (const want of changes.place) { await m.session.placeOrder(want.slot, want); run.ordersPlaced++; }
        for (const { desired } of changes.amend) { await m.session.placeOrder(desired.slot, desired); run.ordersPlaced++; }
        for (const order of changes.cancel) {
          await m.session.placeOrder(order.slot, { side: order.side, energyWh: 0, limitSenPerKWh: order.limitSenPerKWh, feeSenPerKWh: order.feeSenPerKWh, zone: order.zone });
          run.ordersPlaced++;
        }
      }
    };

    /** The central optimum of a slot at its gate: every household's latest own order, as if nothing were lost. */
    const centralClear = (slot: SlotStart) => {
      const orders = members.flatMap((m) => { const o = m.session.ownOrder(slot)?.order; return o ? [o] : []; });
      const t0 = performance.now();
      const result = clearSlot(orders, slot, slotMinutes);
      const clearingMs = performance.now() - t0;
      central.set(slot, { optimumMillisen: result.welfareMillisen, clearingMs, orders: new Map(orders.map((o) => [o.id, o])) });
    };

    // Warm-up: the slot before the clock starts, so the devices read something at the first plan.
    const warm = slotEnergy(spec, start - 2 * slotMs, slotMinutes, -1);
    members.forEach((m, i) => m.sim.step(warm.pvWh[i]!, warm.loadWh[i]!, slotMinutes));

    const total = Math.round((end - start) / slotMs);
    let done = 0;
    for (let s = start - slotMs; s <= end; s += slotMs) {
      await stepTo(s);
      if (s > start) {
        finishSlot(s - slotMs);
        input.onSlot?.(++done, total);
      }
      if (s >= end) break;
      await plan();
      await tickAll();
      await stepTo(s + meterDelayMs + 1000);
      const next = s + slotMs;
      if (next < end) {
        await stepTo(next - gateMs);
        centralClear(next);
        await stepTo(next - gateMs + reconcileMs);
        if (options.loss > 0) for (let t = next - gateMs + reconcileMs + resendMs; t < next; t += resendMs) await stepTo(t);
      }
      for (const m of members) m.session.prune(2 * slotMs);
    }
    // Meter readings of the last slot, so the sessions finish their protocol.
    await stepTo(end + meterDelayMs + 1000);

    for (const m of members) { run.mismatches += m.session.counters.mismatches; run.sessionMessages += m.session.counters.messagesSent; }
    run.bus = busStats();
    run.wallMs = performance.now() - wallStart;
    return run;
  } finally {
    for (const m of members) await m.closeLedger?.();
    for (const m of members) m.bus.leave(m.identity.peerId);
    if (removeDir && dir) rmSync(dir, { recursive: true, force: true });
  }
}
