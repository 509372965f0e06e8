/**
 * The one source of time for all timing logic. Production uses `systemClock`;
 * tests use `ManualClock` and step it; the simulator can run a `ScaledClock`
 * that goes faster than real time.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds of this clock's time. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Resolves after `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told to. Timers fire in order of due time. */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: PendingTimer[] = [];

  constructor(startMs = Date.UTC(2026, 5, 21, 0, 0, 0)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: PendingTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => { this.setTimer(resolve, ms); });
  }

  /** Number of timers still waiting to fire. */
  pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order. Awaits a macrotask
   * turn after each timer so promise chains woken by it can schedule follow-ups.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
    this.timers = this.timers.filter((t) => !t.cancelled);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * Real time sped up by `speed` from `startMs`: one real second is `speed`
 * seconds of this clock. Used to run the simulator faster than real time.
 */
export class ScaledClock implements Clock {
  private readonly realStart: number;

  /**
   * `realStartMs`: the base clock's instant at which this clock reads `startMs` (default: now).
   * Processes given the same pair share one timeline.
   */
  constructor(private readonly startMs: number, private readonly speed: number, private readonly base: Clock = systemClock, realStartMs?: number) {
    if (!(speed > 0)) throw new RangeError(`speed must be > 0, got ${speed}`);
    this.realStart = realStartMs ?? base.now();
  }

  now(): number {
    return this.startMs + (this.base.now() - this.realStart) * this.speed;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    return this.base.setTimer(fn, ms / this.speed);
  }

  sleep(ms: number): Promise<void> {
    return this.base.sleep(ms / this.speed);
  }
}
