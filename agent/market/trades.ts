/**
 * The trades of one agent, from its ledger records: one row per contract with what
 * settled it (pure; `tonari trades` prints it).
 */
import type { LedgerRecord } from '../ledger/record.js';

export type TradeStatus = 'contracted' | 'settled' | 'settled-by-timeout' | 'provisional' | 'disputed';

export interface TradeRow {
  contract: string;
  slot: number;
  side: 'sell' | 'buy';
  counterparty: string;
  energyWh: number;
  priceSenPerKWh: number;
  status: TradeStatus;
  deliveredWh: number | null;
  /** Money for the delivered energy, millisen: positive received, negative paid. Null until settled. */
  amountMillisen: number | null;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function tradeRows(records: readonly LedgerRecord[]): TradeRow[] {
  const settlements = new Map<string, LedgerRecord>();
  for (const record of records) {
    if (record.kind === 'settlement' || record.kind === 'dispute') settlements.set(record.key.slice(record.key.indexOf(':') + 1), record);
  }
  const rows: TradeRow[] = [];
  for (const record of records) {
    if (record.kind !== 'contract') continue;
    const fill = record.body.fill as Record<string, unknown> | undefined;
    if (!fill) continue;
    const id = record.key.slice(record.key.indexOf(':') + 1);
    const side = fill.seller === record.signer ? 'sell' : 'buy';
    const settled = settlements.get(id);
    const delivered = settled ? num(settled.body.deliveredWh) : undefined;
    const payment = settled ? num(settled.body.paymentMillisen) : undefined;
    const status = settled ? ((typeof settled.body.status === 'string' ? settled.body.status : 'settled') as TradeStatus) : 'contracted';
    rows.push({
      contract: id,
      slot: num(fill.slot) ?? 0,
      side,
      counterparty: String(side === 'sell' ? fill.buyer : fill.seller),
      energyWh: num(fill.energyWh) ?? 0,
      priceSenPerKWh: num(fill.priceSenPerKWh) ?? 0,
      status,
      deliveredWh: delivered ?? null,
      amountMillisen: payment === undefined ? null : side === 'sell' ? payment : -payment,
    });
  }
  return rows.sort((a, b) => a.slot - b.slot || (a.contract < b.contract ? -1 : 1));
}
