/**
 * The agent as the local API sees it: every JSON object of docs/api.md, built from the
 * running parts (poller, links, neighbours, market) with the pure views of views.ts,
 * and the recent-events log fed by watchers. No HTTP here: the server, the metrics,
 * Home Assistant and `tonari status` all read this one model.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Config } from '../config/index.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { PeersResult, StatusResult } from '../control/protocol.js';
import type { LinkStats } from '../devices/modbus/index.js';
import type { PollCycle } from '../devices/poller.js';
import type { HouseholdState } from '../household/state.js';
import type { LedgerRecord } from '../ledger/record.js';
import { openSlots, type SlotMinutes } from '../market/slots.js';
import type { TradeRow } from '../market/trades.js';
import type { RunningMarket } from '../app/market.js';
import type { RunningNeighbours } from '../app/neighbours.js';
import { controlTarget } from '../app/neighbours-control.js';
import { counterGrowth, EventLog, stateChanges } from './events.js';
import { LedgerTail } from './ledger-tail.js';
import type {
  BrokerHealth, EarningsView, HouseholdView, MarketHealth, OrderView, SettlementView, SlotsView, StatusView,
} from './types.js';
import { dayBounds, deviceHealth, earningsView, householdView, money, ordersView, settlementsView, slotsView, type Calendar } from './views.js';

/** The running agent's parts the API reads (RunningAgent and the effective config). */
export interface ApiSources {
  config: Config;
  clock: Clock;
  version: string;
  startedAt: number;
  /** True when the household is the built-in simulator. */
  simulated: boolean;
  household(): HouseholdState | undefined;
  links(): LinkStats[];
  neighbours: RunningNeighbours | undefined;
  market: RunningMarket | undefined;
}

/** Most ledger records one page holds. */
export const MAX_LEDGER_PAGE = 500;
export const DEFAULT_LEDGER_PAGE = 100;
/** How often the watchers look for refusals, link changes and ledger faults. */
export const WATCH_EVERY_MS = 1000;

const EMPTY_PEERS = (now: number): PeersResult => ({
  now, self: { peerId: '', fingerprint: '', zone: '' }, cluster: null, peers: [], candidates: [],
  pairing: { open: false, closesAt: null, pending: 0 }, refused: { broker: {}, tls: {}, trust: {}, mesh: {} },
});

export class ReadModel {
  readonly events: EventLog;
  readonly ledger: LedgerTail | undefined;
  private readonly peersOf: (() => PeersResult) | undefined;
  private readonly calendar: Calendar;
  private readonly cycleListeners = new Set<(cycle: PollCycle) => void>();
  private readonly failingDevices = new Set<string>();
  private timer: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;
  private watched: {
    broker: Record<string, number>;
    tls: Record<string, number>;
    trust: Record<string, number>;
    peers: Map<string, string>;
    ledgerHealthy: boolean;
  } | undefined;

  constructor(readonly sources: ApiSources) {
    this.events = new EventLog(sources.clock);
    const { neighbours, market, config } = sources;
    this.ledger = market ? new LedgerTail(market.ledger.file) : undefined;
    this.peersOf = neighbours
      ? controlTarget({ ...neighbours, zone: config.household.zone, clock: sources.clock }).peers
      : undefined;
    this.calendar = { slotMinutes: config.market.slotMinutes as SlotMinutes, timeZone: config.market.timeZone };
  }

  get peerId(): string | null {
    return this.sources.neighbours?.identity.peerId ?? null;
  }

  /** Starts the watchers that feed the events log. */
  async start(): Promise<void> {
    const { neighbours, market, clock } = this.sources;
    this.unsubscribe = neighbours?.mesh.rejections.onCount((reason, peer) => {
      this.events.add({ kind: 'message_rejected', reason, peer });
    });
    if (market && !market.ledger.healthy) {
      const fault = market.ledger.faults[0];
      this.events.add({ kind: 'ledger_damaged', reason: fault ? `line ${fault.line}: ${fault.message}` : market.ledger.status });
    }
    if (market) {
      for (const at of await tornTailsSince(market.ledger.file, this.sources.startedAt)) {
        this.events.add({ kind: 'ledger_recovered', reason: `torn tail cut off at start (copy kept, ${new Date(at).toISOString()})` });
      }
    }
    this.watched = this.watchSnapshot();
    const tick = () => {
      this.watch();
      this.timer = clock.setTimer(tick, WATCH_EVERY_MS);
    };
    this.timer = clock.setTimer(tick, WATCH_EVERY_MS);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Feed every poll cycle (Poller onCycle): device failing/recovered events and the metrics' timings. */
  observeCycle(cycle: PollCycle): void {
    const failed = new Set(cycle.failed);
    for (const device of failed) {
      if (!this.failingDevices.has(device)) {
        this.failingDevices.add(device);
        this.events.add({ kind: 'device_failing', reason: 'poll failed', device });
      }
    }
    for (const device of [...this.failingDevices]) {
      if (!failed.has(device)) {
        this.failingDevices.delete(device);
        this.events.add({ kind: 'device_recovered', reason: 'readable again', device });
      }
    }
    for (const listener of this.cycleListeners) listener(cycle);
  }

  onCycle(listener: (cycle: PollCycle) => void): () => void {
    this.cycleListeners.add(listener);
    return () => this.cycleListeners.delete(listener);
  }

  // ---- the endpoints ----

  status(): StatusView {
    const { config, clock, neighbours, market, version, startedAt, simulated } = this.sources;
    const now = clock.now();
    const rows = this.peersOf?.().peers ?? [];
    return {
      version, name: config.household.name,
      peerId: neighbours?.identity.peerId ?? null, fingerprint: neighbours?.identity.fingerprint ?? null,
      zone: config.household.zone, now, startedAt, simulated,
      health: {
        devices: deviceHealth(this.sources.household(), now, Math.max(config.poll.staleAfter, 3 * config.poll.interval)),
        broker: this.brokerHealth(),
        market: this.marketHealth(),
      },
      peers: { connected: rows.filter((r) => r.state === 'connected').length, known: rows.filter((r) => r.state !== 'untrusted').length },
      ledger: market ? { records: market.ledger.size, healthy: market.ledger.healthy } : null,
    };
  }

  household(): HouseholdView | null {
    return householdView(this.sources.household());
  }

  peers(): PeersResult {
    return this.peersOf?.() ?? EMPTY_PEERS(this.sources.clock.now());
  }

  slots(): SlotsView {
    const { config, clock, market } = this.sources;
    return slotsView({
      ...this.calendar, now: clock.now(), openSlots: config.market.openSlots, gateMs: config.market.gateClosure,
      zone: config.household.zone, books: market?.session,
    });
  }

  orders(): { orders: OrderView[] } {
    const { config, clock, market } = this.sources;
    const slots = openSlots(clock.now(), this.calendar.slotMinutes, config.market.openSlots, this.calendar.timeZone, config.market.gateClosure / 60_000);
    return ordersView(slots, market?.session);
  }

  async trades(): Promise<TradeRow[]> {
    return this.ledger ? this.ledger.trades() : [];
  }

  async contracts(): Promise<{ contracts: TradeRow[] }> {
    return { contracts: await this.trades() };
  }

  async settlements(): Promise<{ settlements: SettlementView[] }> {
    return settlementsView(await this.trades());
  }

  async earnings(): Promise<EarningsView> {
    const { utility } = this.sources.config.market;
    const tariff = { retailSenPerKWh: utility.retailSenPerKWh, buybackSenPerKWh: utility.buybackSenPerKWh };
    return earningsView(await this.trades(), tariff, this.today());
  }

  async ledgerPage(from: number, limit: number): Promise<{ records: LedgerRecord[]; next: number | null }> {
    if (!this.ledger) return { records: [], next: null };
    return this.ledger.page(from, Math.min(limit, MAX_LEDGER_PAGE));
  }

  recentEvents(): { events: ReturnType<EventLog['list']> } {
    return { events: this.events.list() };
  }

  /** What `tonari status` prints: /api/status, the household, the dashboard URL and today's trades. */
  async statusResult(dashboard: string | undefined): Promise<StatusResult> {
    const day = this.today();
    const today = (await this.trades()).filter((t) => t.slot >= day.start && t.slot < day.end);
    const { utility } = this.sources.config.market;
    return {
      ...this.status(),
      household: this.household(),
      dashboard: dashboard ?? null,
      today: { contracts: today.length, ...money(today, { retailSenPerKWh: utility.retailSenPerKWh, buybackSenPerKWh: utility.buybackSenPerKWh }) },
    };
  }

  /** The local day of the slot calendar holding now. */
  today(): { start: number; end: number } {
    return dayBounds(this.sources.clock.now(), this.calendar);
  }

  // ---- health ----

  brokerHealth(): BrokerHealth {
    const { neighbours } = this.sources;
    if (!neighbours) return 'off';
    if (neighbours.broker) return 'ok';
    return neighbours.mesh.clusterStatus()?.state === 'connected' ? 'external' : 'down';
  }

  marketHealth(): MarketHealth {
    const { market } = this.sources;
    if (!market) return 'off';
    if (!market.ledger.healthy) return 'stopped';
    return market.session ? 'ok' : 'off';
  }

  // ---- watchers ----

  private watchSnapshot(): NonNullable<ReadModel['watched']> {
    const { neighbours, market } = this.sources;
    const stats = neighbours?.broker?.stats();
    const { tls_rejected: _tls, ...broker } = stats?.rejected ?? { tls_rejected: 0 };
    return {
      broker, tls: { ...stats?.tlsRejected }, trust: { ...neighbours?.trust.rejections() },
      peers: new Map(neighbours?.mesh.peers().map((p) => [p.peerId, p.state]) ?? []),
      ledgerHealthy: market?.ledger.healthy ?? true,
    };
  }

  /** Turns what changed since the last look into events. */
  private watch(): void {
    const before = this.watched;
    if (!before) return;
    const after = this.watchSnapshot();
    this.watched = after;
    const lastDetail = this.sources.neighbours?.broker?.stats().lastRejection?.detail;
    for (const [reason, count] of Object.entries(counterGrowth(before.broker, after.broker))) {
      this.events.add({ kind: 'broker_refused', reason: count === 1 && lastDetail ? `${reason}: ${lastDetail}` : reason, count });
    }
    for (const [reason, count] of Object.entries(counterGrowth(before.tls, after.tls))) this.events.add({ kind: 'tls_refused', reason, count });
    for (const [reason, count] of Object.entries(counterGrowth(before.trust, after.trust))) this.events.add({ kind: 'pairing_refused', reason, count });
    for (const change of stateChanges(before.peers, after.peers)) {
      if (change.to === 'connected') this.events.add({ kind: 'peer_up', reason: 'connected', peer: change.key });
      else if (change.from === 'connected') this.events.add({ kind: 'peer_down', reason: change.to ?? 'forgotten', peer: change.key });
    }
    const { market } = this.sources;
    if (market && before.ledgerHealthy && !after.ledgerHealthy) {
      const fault = market.ledger.faults[0];
      this.events.add({ kind: 'ledger_damaged', reason: fault ? `line ${fault.line}: ${fault.message}` : `ledger ${market.ledger.status}: appends refused` });
    }
  }
}

/** Times (ms) of the torn-tail copies the ledger kept next to `file` at or after `since`. */
async function tornTailsSince(file: string, since: number): Promise<number[]> {
  const prefix = `${basename(file)}.torn-`;
  let names: string[];
  try {
    names = await readdir(dirname(file));
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix)).map((n) => Number(n.slice(prefix.length)))
    .filter((at) => Number.isFinite(at) && at >= since).sort((a, b) => a - b);
}

/** Copies of torn tails kept next to the ledger file: one per recovery from a crash mid-write. */
export async function tornTailCount(file: string): Promise<number> {
  return (await tornTailsSince(file, 0)).length;
}
