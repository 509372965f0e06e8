/**
 * Prometheus metrics (prefix tonari_, docs/api.md "Metrics") on a private prom-client
 * registry. Values are taken at scrape time from the read model: `scrape()` gathers one
 * snapshot, then every metric's collect() copies its part. Cumulative counts the agent
 * already keeps (Modbus requests, refusals, settled energy) are exposed as counters;
 * the poll-cycle histogram is observed as cycles happen.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LinkStats } from '../devices/modbus/index.js';
import type { PeersResult } from '../control/protocol.js';
import type { TradeRow } from '../market/trades.js';
import { tornTailCount, type ReadModel } from './read-model.js';
import { HOUSEHOLD_KEYS, type HouseholdView, type OrderView } from './types.js';

interface Snapshot {
  household: HouseholdView | null;
  links: LinkStats[];
  peers: PeersResult;
  mdnsWarnings: number | undefined;
  broker: { rejected: Record<string, number>; tls: Record<string, number> } | undefined;
  trades: TradeRow[];
  orders: OrderView[];
  ledger: { records: number; healthy: boolean } | null;
  recoveries: number | undefined;
}

const POWER_LABELS = { pvW: 'pv', loadW: 'load', gridW: 'grid', batteryW: 'battery' } as const;
const ENERGY_LABELS = { gridImportWh: 'grid_import', gridExportWh: 'grid_export', pvWh: 'pv' } as const;
const SETTLED = new Set(['settled', 'settled-by-timeout', 'provisional', 'disputed']);

export class ApiMetrics {
  readonly registry = new Registry();
  private snap: Snapshot | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly stopCycles: () => void;

  constructor(private readonly model: ReadModel) {
    const r = [this.registry];
    const snap = () => this.snap;

    new Gauge({
      name: 'tonari_info', help: 'Always 1; the labels tell the version and the peer id of this agent.', labelNames: ['version', 'peer_id'], registers: r,
      collect() { this.reset(); this.set({ version: model.sources.version, peer_id: model.peerId ?? '' }, 1); },
    });
    new Gauge({
      name: 'tonari_start_time_seconds', help: 'When the agent started, seconds since the epoch.', registers: r,
      collect() { this.set(model.sources.startedAt / 1000); },
    });

    // ---- Modbus ----
    new Counter({
      name: 'tonari_modbus_requests_total', help: 'Modbus requests asked of a link (refused-fast ones included).', labelNames: ['link'], registers: r,
      collect() { this.reset(); for (const l of snap()?.links ?? []) this.inc({ link: l.name }, l.requests); },
    });
    new Counter({
      name: 'tonari_modbus_errors_total', help: 'Failed Modbus requests by link and kind (timeout, exception, connection, ...).', labelNames: ['link', 'kind'], registers: r,
      collect() {
        this.reset();
        for (const l of snap()?.links ?? []) for (const [kind, n] of Object.entries(l.errors)) this.inc({ link: l.name, kind }, n);
      },
    });
    new Counter({
      name: 'tonari_modbus_reconnects_total', help: 'Connections of a link re-established after the first.', labelNames: ['link'], registers: r,
      collect() { this.reset(); for (const l of snap()?.links ?? []) this.inc({ link: l.name }, l.reconnects); },
    });
    new Gauge({
      name: 'tonari_modbus_latency_seconds', help: 'Exponentially weighted mean round trip of a link\'s answered requests.', labelNames: ['link'], registers: r,
      collect() {
        this.reset();
        for (const l of snap()?.links ?? []) if (l.ewmaLatencyMs !== null) this.set({ link: l.name }, l.ewmaLatencyMs / 1000);
      },
    });
    new Gauge({
      name: 'tonari_modbus_connected', help: '1 while the link has an open connection.', labelNames: ['link'], registers: r,
      collect() { this.reset(); for (const l of snap()?.links ?? []) this.set({ link: l.name }, l.connected ? 1 : 0); },
    });
    const pollDuration = new Histogram({
      name: 'tonari_device_poll_duration_seconds', help: 'Duration of one poll cycle over every device.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: r,
    });
    this.stopCycles = model.onCycle((cycle) => pollDuration.observe(cycle.durationMs / 1000));

    // ---- household ----
    new Gauge({
      name: 'tonari_power_watts', help: 'Household power, W: pv and load >= 0; grid > 0 imports; battery > 0 discharges. Absent while missing.',
      labelNames: ['quantity'], registers: r,
      collect() {
        this.reset();
        const h = snap()?.household;
        for (const [key, quantity] of Object.entries(POWER_LABELS)) {
          const value = h?.[key as keyof typeof POWER_LABELS];
          if (typeof value === 'number') this.set({ quantity }, value);
        }
      },
    });
    new Gauge({
      name: 'tonari_battery_soc_ratio', help: 'Battery state of charge, 0..1. Absent while missing.', registers: r,
      collect() {
        this.reset();
        const soc = snap()?.household?.socPct;
        if (typeof soc === 'number') this.set(soc / 100);
      },
    });
    new Gauge({
      name: 'tonari_energy_wh', help: 'The devices\' lifetime energy counters, Wh (grid import, grid export, PV).', labelNames: ['counter'], registers: r,
      collect() {
        this.reset();
        const h = snap()?.household;
        for (const [key, counter] of Object.entries(ENERGY_LABELS)) {
          const value = h?.[key as keyof typeof ENERGY_LABELS];
          if (typeof value === 'number') this.set({ counter }, value);
        }
      },
    });
    new Gauge({
      name: 'tonari_reading_stale', help: '1 while a household value is not ok (stale or missing), by its /api/household key.', labelNames: ['quantity'], registers: r,
      collect() {
        this.reset();
        const h = snap()?.household;
        for (const key of HOUSEHOLD_KEYS) this.set({ quantity: key }, !h || h.quality[key] !== 'ok' ? 1 : 0);
      },
    });

    // ---- mesh and security (OBS-1) ----
    new Gauge({
      name: 'tonari_peers', help: 'Neighbours by state (connected, connecting, waiting, stopped, unreachable, untrusted).', labelNames: ['state'], registers: r,
      collect() {
        this.reset();
        for (const state of ['connected', 'connecting', 'waiting', 'stopped', 'unreachable', 'untrusted']) this.set({ state }, 0);
        for (const p of snap()?.peers.peers ?? []) this.inc({ state: p.state });
      },
    });
    new Counter({
      name: 'tonari_msg_rejected_total', help: 'Mesh messages dropped, by reason (too_big, malformed, bad_sig, replay, stale, rate, ...).', labelNames: ['reason'], registers: r,
      collect() { this.reset(); for (const [reason, n] of Object.entries(snap()?.peers.refused.mesh ?? {})) this.inc({ reason }, n); },
    });
    new Counter({
      name: 'tonari_tls_rejected_total', help: 'TLS connections to the embedded broker refused, by reason (unknown_peer, no_cert, handshake, ...).', labelNames: ['reason'], registers: r,
      collect() { this.reset(); for (const [reason, n] of Object.entries(snap()?.broker?.tls ?? {})) this.inc({ reason }, n); },
    });
    new Counter({
      name: 'tonari_broker_refused_total', help: 'What the embedded broker refused, by reason (tls_rejected, conn_limit, acl, too_big, ...).', labelNames: ['reason'], registers: r,
      collect() { this.reset(); for (const [reason, n] of Object.entries(snap()?.broker?.rejected ?? {})) this.inc({ reason }, n); },
    });
    new Counter({
      name: 'tonari_pairing_refused_total', help: 'Pairing attempts refused by the trust store, by reason.', labelNames: ['reason'], registers: r,
      collect() { this.reset(); for (const [reason, n] of Object.entries(snap()?.peers.refused.trust ?? {})) this.inc({ reason }, n); },
    });
    new Counter({
      name: 'tonari_mdns_warnings_total', help: 'Warnings of the mDNS stack (interface churn, send errors). Absent while discovery is off.', registers: r,
      collect() {
        this.reset();
        const n = snap()?.mdnsWarnings;
        if (n !== undefined) this.inc(n);
      },
    });
    new Counter({
      name: 'tonari_log_recovery_events_total', help: 'Torn ledger tails cut off after a crash or power cut (each leaves a ledger.jsonl.torn-* copy). Absent while the market is off.', registers: r,
      collect() {
        this.reset();
        const n = snap()?.recoveries;
        if (n !== undefined) this.inc(n);
      },
    });
    new Gauge({
      name: 'tonari_ledger_records', help: 'Records in the (intact part of the) trade ledger.', registers: r,
      collect() { this.reset(); const l = snap()?.ledger; if (l) this.set(l.records); },
    });
    new Gauge({
      name: 'tonari_ledger_healthy', help: '1 while the ledger accepts appends; 0 when damaged (trading is stopped).', registers: r,
      collect() { this.reset(); const l = snap()?.ledger; if (l) this.set(l.healthy ? 1 : 0); },
    });

    // ---- market ----
    new Gauge({
      name: 'tonari_orders', help: 'This agent\'s live orders for open slots, by side.', labelNames: ['side'], registers: r,
      collect() {
        this.reset();
        for (const side of ['sell', 'buy']) this.set({ side }, (snap()?.orders ?? []).filter((o) => o.side === side).length);
      },
    });
    new Counter({
      name: 'tonari_contracts_total', help: 'Contracts recorded in the ledger, by side.', labelNames: ['side'], registers: r,
      collect() {
        this.reset();
        for (const side of ['sell', 'buy']) this.inc({ side }, (snap()?.trades ?? []).filter((t) => t.side === side).length);
      },
    });
    new Gauge({
      name: 'tonari_contracts', help: 'Contracts by side and current status (contracted, provisional, settled, settled-by-timeout, disputed).', labelNames: ['side', 'status'], registers: r,
      collect() {
        this.reset();
        for (const t of snap()?.trades ?? []) this.inc({ side: t.side, status: t.status });
      },
    });
    new Counter({
      name: 'tonari_settled_energy_wh_total', help: 'Energy delivered under settled contracts, Wh, by side.', labelNames: ['side'], registers: r,
      collect() {
        this.reset();
        for (const side of ['sell', 'buy']) this.inc({ side }, settled(snap()?.trades, side).reduce((sum, t) => sum + (t.deliveredWh ?? 0), 0));
      },
    });
    new Counter({
      name: 'tonari_settled_amount_yen_total', help: 'Money of settled contracts, yen: received (sell) and paid (buy).', labelNames: ['side'], registers: r,
      collect() {
        this.reset();
        for (const side of ['sell', 'buy']) this.inc({ side }, settled(snap()?.trades, side).reduce((sum, t) => sum + Math.abs(t.amountMillisen ?? 0), 0) / 100_000);
      },
    });
  }

  /** The exposition text, from a fresh snapshot of the read model. Scrapes run one at a time (they share the snapshot). */
  scrape(): Promise<string> {
    const run = this.queue.then(() => this.scrapeNow());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async scrapeNow(): Promise<string> {
    const { model } = this;
    const { neighbours, market } = model.sources;
    const stats = neighbours?.broker?.stats();
    this.snap = {
      household: model.household(),
      links: model.sources.links(),
      peers: model.peers(),
      mdnsWarnings: neighbours?.discovery?.counters().warnings,
      broker: stats ? { rejected: stats.rejected, tls: stats.tlsRejected } : undefined,
      trades: await model.trades(),
      orders: model.orders().orders,
      ledger: model.status().ledger,
      recoveries: market ? await tornTailCount(market.ledger.file) : undefined,
    };
    try {
      return await this.registry.metrics();
    } finally {
      this.snap = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.stopCycles();
  }
}

function settled(trades: TradeRow[] | undefined, side: string): TradeRow[] {
  return (trades ?? []).filter((t) => t.side === side && SETTLED.has(t.status) && t.deliveredWh !== null);
}
