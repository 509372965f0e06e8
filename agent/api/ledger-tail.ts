/**
 * Follows the ledger file for the API: reads only what was appended since the last look
 * (the file is append-only), keeps the position of every record for paging and the
 * records a trade row is made of (contracts, settlements, disputes) in memory. Never
 * writes; the Ledger that owns the file is unaffected. A half-written last line is left
 * for the next look.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { MAX_LINE_BYTES, parseRecordLine, type LedgerRecord } from '../ledger/record.js';
import { tradeRows, type TradeRow } from '../market/trades.js';

const CHUNK = 64 * 1024;
const TRADE_KINDS = new Set(['contract', 'settlement', 'dispute']);

interface Position {
  seq: number;
  offset: number;
  length: number;
}

export class LedgerTail {
  private consumed = 0;
  private positions: Position[] = [];
  private tradeRecords: LedgerRecord[] = [];
  private rows: TradeRow[] | undefined;
  private running: Promise<void> | undefined;
  /** Bumped whenever a trade record arrives, so followers can tell something changed. */
  version = 0;

  constructor(readonly file: string) {}

  /** Records read so far. */
  get records(): number {
    return this.positions.length;
  }

  /** Reads what was appended since the last call (one read at a time; callers share it). */
  refresh(): Promise<void> {
    this.running ??= this.readNew().finally(() => { this.running = undefined; });
    return this.running;
  }

  /** One row per contract, with its settlement (market/trades.ts). */
  async trades(): Promise<TradeRow[]> {
    await this.refresh();
    this.rows ??= tradeRows(this.tradeRecords);
    return this.rows;
  }

  /** Up to `limit` records from seq `from` on, and the seq to ask for next (null at the end). */
  async page(from: number, limit: number): Promise<{ records: LedgerRecord[]; next: number | null }> {
    await this.refresh();
    const first = this.positions.findIndex((p) => p.seq >= from);
    if (first === -1 || limit <= 0) return { records: [], next: null };
    const wanted = this.positions.slice(first, first + limit);
    const records: LedgerRecord[] = [];
    const handle = await open(this.file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      for (const p of wanted) {
        const buffer = Buffer.alloc(p.length);
        await handle.read(buffer, 0, p.length, p.offset);
        const parsed = parseRecordLine(buffer);
        if (parsed.ok) records.push(parsed.record);
      }
    } finally {
      await handle.close();
    }
    const after = this.positions[first + wanted.length];
    return { records, next: after ? after.seq : null };
  }

  private async readNew(): Promise<void> {
    let handle;
    try {
      handle = await open(this.file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      if (size < this.consumed) this.reset(); // replaced or cut: read it again from the start
      let pending: Buffer[] = [];
      let pendingLength = 0;
      let lineStart = this.consumed;
      let position = this.consumed;
      while (position < size) {
        const chunk = Buffer.alloc(Math.min(CHUNK, size - position));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
        if (bytesRead === 0) break;
        const view = chunk.subarray(0, bytesRead);
        let start = 0;
        for (let nl = view.indexOf(10, start); nl !== -1; nl = view.indexOf(10, start)) {
          const piece = view.subarray(start, nl);
          const length = pendingLength + piece.length;
          if (length <= MAX_LINE_BYTES) this.take(pendingLength > 0 ? Buffer.concat([...pending, piece]) : piece, lineStart, length);
          lineStart += length + 1;
          pending = [];
          pendingLength = 0;
          start = nl + 1;
        }
        if (start < bytesRead) {
          // Part of a line: kept only while it can still become a valid one.
          if (pendingLength + bytesRead - start <= MAX_LINE_BYTES) pending.push(Buffer.from(view.subarray(start)));
          pendingLength += bytesRead - start;
        }
        position += bytesRead;
      }
      this.consumed = lineStart;
    } finally {
      await handle.close();
    }
  }

  private take(line: Buffer, offset: number, length: number): void {
    const parsed = parseRecordLine(line);
    if (!parsed.ok) return;
    this.positions.push({ seq: parsed.record.seq, offset, length });
    if (TRADE_KINDS.has(parsed.record.kind)) {
      this.tradeRecords.push(parsed.record);
      this.rows = undefined;
      this.version++;
    }
  }

  private reset(): void {
    this.consumed = 0;
    this.positions = [];
    this.tradeRecords = [];
    this.rows = undefined;
    this.version++;
  }
}
