/**
 * Health of one device (unit id) on a shared link. A unit that keeps failing
 * rests for a growing time, so a dead meter on an RS-485 bus does not stall
 * the others. Requests run one at a time, so the first request after the
 * rest is the single probe: success resets the unit, failure rests it longer.
 */
import { Backoff, type BackoffPolicy } from './backoff.js';

export interface UnitHealthPolicy {
  /** Consecutive failures (timeouts, garbled replies) before the unit rests. */
  failuresBeforeBackoff: number;
  backoff: BackoffPolicy;
}

export class UnitHealth {
  private failures = 0;
  private restUntil: number | null = null;
  private readonly backoff: Backoff;

  constructor(private readonly policy: UnitHealthPolicy) {
    this.backoff = new Backoff(policy.backoff);
  }

  /** Epoch ms until which requests to this unit are refused, or null. */
  refusedUntil(now: number): number | null {
    return this.restUntil !== null && now < this.restUntil ? this.restUntil : null;
  }

  succeeded(): void {
    this.failures = 0;
    this.restUntil = null;
    this.backoff.reset();
  }

  failed(now: number): void {
    this.failures++;
    if (this.failures >= this.policy.failuresBeforeBackoff) this.restUntil = now + this.backoff.next();
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  get backedOffUntil(): number | null {
    return this.restUntil;
  }
}
