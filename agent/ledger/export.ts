/**
 * Ledger records as CSV rows (pure; docs/ledger.md). One row per record, RFC 4180 quoting,
 * lines ending in '\n', seen from the ledger owner's side (the record's signer):
 *
 *   seq, time, kind, key, counterparty, slot, energyWh, priceSenPerKWh, amountYen
 *
 * Where the columns come from:
 * - a body with a `fill` (contracts, signed fills): the other party, the fill's slot and
 *   energy, the price this side gets (seller: sellerGetsSenPerKWh) or pays (buyer:
 *   buyerPaysSenPerKWh; either falls back to priceSenPerKWh), and the amount, positive when
 *   received, negative when paid;
 * - a body with an `order` (orders, cancellations): its slot, energy and limit price;
 * - any other body: its top-level `counterparty`, `slot`, `energyWh`, `priceSenPerKWh` and
 *   `amountMillisen`, where present (the shape settlement and dispute records should use).
 * Columns that do not apply are empty. Times are ISO 8601 UTC; amounts are exact decimals
 * of yen (1 円 = 100 sen = 100 000 millisen).
 */
import type { LedgerRecord } from './record.js';
import { isPlainObject } from './record.js';

export const CSV_HEADER = ['seq', 'time', 'kind', 'key', 'counterparty', 'slot', 'energyWh', 'priceSenPerKWh', 'amountYen'] as const;

const MILLISEN_PER_YEN = 100_000n;

export interface ExportRow {
  seq: number;
  time: string;
  kind: string;
  key: string;
  counterparty: string;
  slot: string;
  energyWh: string;
  priceSenPerKWh: string;
  amountYen: string;
}

function integer(value: unknown): number | undefined {
  return Number.isSafeInteger(value) ? (value as number) : undefined;
}

function isoTime(ms: number | undefined): string {
  if (ms === undefined) return '';
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/** Millisen as an exact decimal of yen: 2700000 → "27.00", -1234567 → "-12.34567". */
export function formatYen(millisen: bigint): string {
  const negative = millisen < 0n;
  const abs = negative ? -millisen : millisen;
  const whole = abs / MILLISEN_PER_YEN;
  let fraction = (abs % MILLISEN_PER_YEN).toString().padStart(5, '0').replace(/0+$/, '');
  fraction = fraction.padEnd(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

export function exportRow(record: LedgerRecord): ExportRow {
  const row: ExportRow = {
    seq: record.seq,
    time: isoTime(record.at),
    kind: record.kind,
    key: record.key,
    counterparty: '',
    slot: '',
    energyWh: '',
    priceSenPerKWh: '',
    amountYen: '',
  };
  const body = record.body;
  const setNumbers = (slot: unknown, energy: unknown, price: unknown): void => {
    row.slot = isoTime(integer(slot));
    row.energyWh = integer(energy)?.toString() ?? '';
    row.priceSenPerKWh = integer(price)?.toString() ?? '';
  };
  if (isPlainObject(body.fill)) {
    const fill = body.fill;
    const selling = fill.seller === record.signer;
    const buying = fill.buyer === record.signer;
    const other = selling ? fill.buyer : buying ? fill.seller : undefined;
    row.counterparty = typeof other === 'string' ? other : '';
    const price = integer(selling ? fill.sellerGetsSenPerKWh : buying ? fill.buyerPaysSenPerKWh : undefined) ?? integer(fill.priceSenPerKWh);
    setNumbers(fill.slot, fill.energyWh, price);
    const energy = integer(fill.energyWh);
    if ((selling || buying) && energy !== undefined && price !== undefined) {
      const millisen = BigInt(energy) * BigInt(price);
      row.amountYen = formatYen(selling ? millisen : -millisen);
    }
  } else if (isPlainObject(body.order)) {
    const order = body.order;
    setNumbers(order.slot, order.energyWh, order.limitSenPerKWh);
  } else {
    row.counterparty = typeof body.counterparty === 'string' ? body.counterparty : '';
    setNumbers(body.slot, body.energyWh, body.priceSenPerKWh);
    const amount = integer(body.amountMillisen);
    if (amount !== undefined) row.amountYen = formatYen(BigInt(amount));
  }
  return row;
}

/**
 * One CSV field: quoted when it holds a comma, quote or line break; text that a spreadsheet
 * would run as a formula (=, +, -, @ first) gets a leading apostrophe. Numbers pass as they are.
 */
export function csvField(value: string | number): string {
  if (typeof value === 'number') return String(value);
  let text = value;
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(fields: readonly (string | number)[]): string {
  return `${fields.map(csvField).join(',')}\n`;
}

/** The header line and one line per record, each ending in '\n'. */
export function ledgerCsv(records: Iterable<LedgerRecord>): string {
  let out = csvLine(CSV_HEADER);
  for (const record of records) {
    const row = exportRow(record);
    out += csvLine(CSV_HEADER.map((column) => row[column]));
  }
  return out;
}
