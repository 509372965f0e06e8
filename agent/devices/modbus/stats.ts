/** Request counters kept per link and per unit; exported as plain data. */
import type { ModbusErrorKind } from './errors.js';

export interface RequestStats {
  /** Every read/write asked for, including ones refused fast. */
  requests: number;
  ok: number;
  errors: Record<ModbusErrorKind, number>;
  /** Round trip of the last request answered by the device (data or exception). */
  lastLatencyMs: number | null;
  /** Exponentially weighted mean of those round trips. */
  ewmaLatencyMs: number | null;
}

const EWMA_ALPHA = 0.2;

export class RequestCounters {
  private requests = 0;
  private ok = 0;
  private readonly errors: Record<ModbusErrorKind, number> = { timeout: 0, exception: 0, connection: 0, protocol: 0, backoff: 0, closed: 0 };
  private lastLatencyMs: number | null = null;
  private ewmaLatencyMs: number | null = null;

  requested(): void { this.requests++; }
  succeeded(): void { this.ok++; }
  failed(kind: ModbusErrorKind): void { this.errors[kind]++; }

  answeredIn(ms: number): void {
    this.lastLatencyMs = ms;
    this.ewmaLatencyMs = this.ewmaLatencyMs === null ? ms : this.ewmaLatencyMs + EWMA_ALPHA * (ms - this.ewmaLatencyMs);
  }

  snapshot(): RequestStats {
    return { requests: this.requests, ok: this.ok, errors: { ...this.errors }, lastLatencyMs: this.lastLatencyMs, ewmaLatencyMs: this.ewmaLatencyMs };
  }
}
