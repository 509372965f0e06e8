/**
 * Server-sent events for /api/stream: `status`, `household` (at most once a second),
 * `peers`, `slots`, `contract` (one row when a contract appears or its settlement
 * changes), `event` (one row of the events log). Each `data:` is the JSON of the
 * matching endpoint. A comment line every `heartbeatMs` keeps proxies from closing an
 * idle stream. Streams are few (`maxStreams`); a client that does not read is dropped
 * rather than buffered without bound. Nothing is computed while nobody listens.
 */
import type { ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { ReadModel } from './read-model.js';
import type { ApiEvent } from './types.js';

export interface StreamOptions {
  maxStreams?: number;
  heartbeatMs?: number;
  /** How often the stream looks for changes (household at most this often). Default 1 s. */
  tickMs?: number;
  /** Status, peers and slots are sent when they change, and at least this often. Default 10 s. */
  refreshMs?: number;
}

export const DEFAULT_MAX_STREAMS = 16;
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** Bytes a client may leave unread before it is dropped. */
const MAX_UNREAD_BYTES = 1024 * 1024;

/** One server-sent event: `event:` line, `data:` line (JSON has no newlines), blank line. */
export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A JSON text of `value` without its `now` (for comparing views that carry the time). */
function withoutNow(value: object): string {
  return JSON.stringify({ ...value, now: 0 });
}

export class StreamHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly maxStreams: number;
  private readonly heartbeatMs: number;
  private readonly tickMs: number;
  private readonly refreshMs: number;
  private timer: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;
  private last = { household: -1, status: '', peers: '', slots: '', ledger: -1 };
  private sentAt = { status: -Infinity, peers: -Infinity, slots: -Infinity, heartbeat: -Infinity };
  private contractState = new Map<string, string>();
  private ticking = false;

  constructor(private readonly model: ReadModel, private readonly clock: Clock, private readonly log: Logger, options: StreamOptions = {}) {
    this.maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.tickMs = options.tickMs ?? 1000;
    this.refreshMs = options.refreshMs ?? 10_000;
  }

  get size(): number {
    return this.clients.size;
  }

  start(): void {
    this.unsubscribe = this.model.events.onEvent((event: ApiEvent) => this.broadcast(sseFrame('event', event)));
    const tick = () => {
      void this.tick().finally(() => {
        if (this.timer) this.timer = this.clock.setTimer(tick, this.tickMs);
      });
    };
    this.timer = this.clock.setTimer(tick, this.tickMs);
  }

  /**
   * Takes over a response as a stream; false (nothing written) when the limit is reached.
   * The caller has checked the request; headers are written here.
   */
  async add(res: ServerResponse, headers: Record<string, string>): Promise<boolean> {
    if (this.clients.size >= this.maxStreams) return false;
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    res.writeHead(200, { ...headers, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.socket?.setNoDelay(true);
    // A first picture at once: a new client need not wait for the next change.
    const contracts = await this.model.contracts().catch(() => ({ contracts: [] }));
    if (this.clients.has(res)) {
      this.write(res, `retry: 5000\n\n${sseFrame('status', this.model.status())}${sseFrame('household', this.model.household())}`
        + `${sseFrame('peers', this.model.peers())}${sseFrame('slots', this.model.slots())}`);
      if (this.contractState.size === 0) for (const row of contracts.contracts) this.contractState.set(row.contract, JSON.stringify(row));
    }
    return true;
  }

  /** Ends every stream (the server is stopping). */
  closeAll(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private async tick(): Promise<void> {
    if (this.clients.size === 0 || this.ticking) return;
    this.ticking = true;
    try {
      const now = this.clock.now();
      const household = this.model.household();
      if (household && household.at !== this.last.household) {
        this.last.household = household.at;
        this.broadcast(sseFrame('household', household));
      }
      this.maybe('status', this.model.status(), now);
      this.maybe('peers', this.model.peers(), now);
      this.maybe('slots', this.model.slots(), now);
      await this.contracts();
      if (now - this.sentAt.heartbeat >= this.heartbeatMs) {
        this.sentAt.heartbeat = now;
        this.broadcast(': keepalive\n\n');
      }
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'event stream update failed');
    } finally {
      this.ticking = false;
    }
  }

  /** Sends a view when it changed (apart from its time) or has not been sent for refreshMs. */
  private maybe(name: 'status' | 'peers' | 'slots', view: object, now: number): void {
    const text = withoutNow(view);
    if (text === this.last[name] && now - this.sentAt[name] < this.refreshMs) return;
    this.last[name] = text;
    this.sentAt[name] = now;
    this.broadcast(sseFrame(name, view));
  }

  /** One `contract` event per contract that is new or whose settlement changed. */
  private async contracts(): Promise<void> {
    const ledger = this.model.ledger;
    if (!ledger) return;
    await ledger.refresh();
    if (ledger.version === this.last.ledger) return;
    this.last.ledger = ledger.version;
    for (const row of await ledger.trades()) {
      const text = JSON.stringify(row);
      if (this.contractState.get(row.contract) === text) continue;
      this.contractState.set(row.contract, text);
      this.broadcast(sseFrame('contract', row));
    }
  }

  private broadcast(frame: string): void {
    for (const res of this.clients) this.write(res, frame);
  }

  private write(res: ServerResponse, frame: string): void {
    if (res.writableLength > MAX_UNREAD_BYTES) {
      this.log.warn({ unreadBytes: res.writableLength }, 'event stream client does not read; dropped');
      this.clients.delete(res);
      res.destroy();
      return;
    }
    res.write(frame);
  }
}
