/**
 * Per-peer token buckets on the injected clock: a neighbour may send `ratePerSecond`
 * messages a second on average and `burst` at once; more are dropped as `rate`.
 */
import type { Clock } from '../core/clock.js';

export interface RateLimitOptions {
  ratePerSecond: number;
  burst: number;
  /** Buckets kept; the least recently used is forgotten beyond this (it refills to full anyway). */
  maxPeers: number;
}

export const DEFAULT_RATE_LIMIT: Readonly<RateLimitOptions> = Object.freeze({ ratePerSecond: 20, burst: 40, maxPeers: 1024 });

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly options: RateLimitOptions;
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly clock: Clock, options: Partial<RateLimitOptions> = {}) {
    this.options = { ...DEFAULT_RATE_LIMIT, ...options };
    const { ratePerSecond, burst, maxPeers } = this.options;
    if (!(ratePerSecond > 0) || !(burst >= 1) || !(maxPeers >= 1)) throw new RangeError('rate limit needs ratePerSecond > 0, burst >= 1, maxPeers >= 1');
  }

  /** Tokens `peer` has now (fractional), without taking one. */
  available(peer: string): number {
    const bucket = this.buckets.get(peer);
    if (!bucket) return this.options.burst;
    const elapsed = Math.max(0, this.clock.now() - bucket.at);
    return Math.min(this.options.burst, bucket.tokens + (elapsed * this.options.ratePerSecond) / 1000);
  }

  /** Whether `peer` may send one more message now. Changes nothing. */
  allows(peer: string): boolean {
    return this.available(peer) >= 1;
  }

  /** Takes one token; false (and no change at all) when the bucket is empty. */
  take(peer: string): boolean {
    const tokens = this.available(peer);
    if (tokens < 1) return false;
    this.buckets.delete(peer); // re-insert: Map order doubles as least-recently-used order
    this.buckets.set(peer, { tokens: tokens - 1, at: this.clock.now() });
    if (this.buckets.size > this.options.maxPeers) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    return true;
  }
}
