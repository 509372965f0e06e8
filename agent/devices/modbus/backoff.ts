/** Exponential backoff: initial, doubling, capped; reset on success. Pure state, no timers. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor?: number;
}

export class Backoff {
  private nextDelay: number;

  constructor(private readonly policy: BackoffPolicy) {
    this.nextDelay = policy.initialMs;
  }

  /** The delay to wait now; the following call returns a longer one, up to the cap. */
  next(): number {
    const delay = this.nextDelay;
    this.nextDelay = Math.min(this.policy.maxMs, this.nextDelay * (this.policy.factor ?? 2));
    return delay;
  }

  reset(): void {
    this.nextDelay = this.policy.initialMs;
  }
}
