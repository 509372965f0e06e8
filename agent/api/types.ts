/**
 * The JSON the local API answers with (docs/api.md), shared by the read model, the
 * HTTP server, the metrics, Home Assistant and `tonari status`. Times are ms since
 * the epoch, powers W, energy Wh, prices sen/kWh, money millisen.
 */
import type { TradeRow, TradeStatus } from '../market/trades.js';
import type { PeersResult } from '../control/protocol.js';

export type DeviceHealth = 'ok' | 'stale' | 'failing';
export type BrokerHealth = 'ok' | 'external' | 'down' | 'off';
export type MarketHealth = 'ok' | 'stopped' | 'off';

export interface StatusView {
  version: string;
  name: string;
  /** Null when the mesh is off (no identity loaded). */
  peerId: string | null;
  fingerprint: string | null;
  zone: string;
  now: number;
  startedAt: number;
  simulated: boolean;
  health: { devices: DeviceHealth; broker: BrokerHealth; market: MarketHealth };
  peers: { connected: number; known: number };
  /** Null when the market is off (no ledger open). */
  ledger: { records: number; healthy: boolean } | null;
}

export const HOUSEHOLD_KEYS = ['pvW', 'loadW', 'gridW', 'batteryW', 'socPct', 'gridImportWh', 'gridExportWh', 'pvWh'] as const;
export type HouseholdKey = (typeof HOUSEHOLD_KEYS)[number];

export type HouseholdView = { at: number } & Record<HouseholdKey, number | null> & {
  quality: Record<HouseholdKey, 'ok' | 'stale' | 'missing'>;
  /** Why a value is not ok; only keys that are not ok. */
  reasons: Partial<Record<HouseholdKey, string>>;
};

export type SlotPhase = 'open' | 'closed' | 'delivering' | 'ended';

export interface SlotView {
  slot: number;
  end: number;
  gateAt: number;
  phase: SlotPhase;
  own: { side: 'sell' | 'buy'; energyWh: number; limitSenPerKWh: number } | null;
  orders: number;
  clearing: { priceSenPerKWh: number; energyWh: number } | null;
}

export interface SlotsView {
  now: number;
  slotMinutes: number;
  slots: SlotView[];
}

export interface OrderView {
  id: string;
  slot: number;
  side: 'sell' | 'buy';
  energyWh: number;
  limitSenPerKWh: number;
  zone: string;
}

export type ContractView = TradeRow;

export interface SettlementView {
  contract: string;
  slot: number;
  status: TradeStatus;
  deliveredWh: number | null;
  amountMillisen: number | null;
}

export interface Money {
  soldWh: number;
  boughtWh: number;
  receivedMillisen: number;
  paidMillisen: number;
  savingsMillisen: number;
}

export interface EarningsView {
  today: Money;
  total: Money;
}

export type EventKind =
  | 'message_rejected' | 'broker_refused' | 'tls_refused' | 'pairing_refused'
  | 'ledger_damaged' | 'ledger_recovered'
  | 'device_failing' | 'device_recovered'
  | 'peer_up' | 'peer_down';

export interface ApiEvent {
  at: number;
  kind: EventKind;
  reason: string;
  peer?: string;
  device?: string;
  /** How many times it happened in a row (repeats within a short window are folded into one event). */
  count: number;
}

export type PeersView = PeersResult;
