/** Runs `stepHousehold` on a clock and keeps the latest state. */
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { BatteryControl } from './battery.js';
import { householdParams, initialHouseholdState, stepHousehold, type HouseholdParams, type HouseholdState } from './household.js';

export interface SimulatedHouseholdOptions {
  clock: Clock;
  params?: HouseholdParams;
  seed?: number;
  /** Clock time between steps (default 1 s). */
  stepMs?: number;
  initialSocPct?: number;
  /** When the clock jumps, catch up in at most this many steps of `stepMs`; the rest is one longer step. */
  maxCatchUpSteps?: number;
}

export type HouseholdListener = (state: HouseholdState) => void;

export class SimulatedHousehold {
  private current: HouseholdState;
  private parameters: HouseholdParams;
  private readonly clock: Clock;
  private readonly stepMs: number;
  private readonly maxCatchUpSteps: number;
  private timer: TimerHandle | undefined;
  private readonly listeners = new Set<HouseholdListener>();

  constructor(options: SimulatedHouseholdOptions) {
    this.clock = options.clock;
    this.parameters = options.params ?? householdParams();
    this.stepMs = options.stepMs ?? 1000;
    if (!(this.stepMs > 0)) throw new RangeError(`stepMs must be > 0, got ${this.stepMs}`);
    this.maxCatchUpSteps = options.maxCatchUpSteps ?? 10_000;
    this.current = initialHouseholdState(this.parameters, this.clock.now(), options.seed ?? 1, options.initialSocPct);
  }

  get state(): HouseholdState {
    return this.current;
  }

  get params(): HouseholdParams {
    return this.parameters;
  }

  /** Takes effect from the next step (e.g. after a SunSpec control write). */
  setBatteryControl(control: BatteryControl): void {
    this.parameters = { ...this.parameters, batteryControl: control };
  }

  onStep(listener: HouseholdListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.timer) return;
    this.schedule();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Steps up to the clock's current time. */
  advanceToNow(): HouseholdState {
    const target = this.clock.now();
    let steps = 0;
    while (this.current.timeMs < target) {
      const remaining = target - this.current.timeMs;
      const dt = steps < this.maxCatchUpSteps - 1 ? Math.min(this.stepMs, remaining) : remaining;
      this.current = stepHousehold(this.current, this.parameters, this.current.timeMs + dt, dt);
      steps += 1;
    }
    if (steps > 0) for (const listener of this.listeners) listener(this.current);
    return this.current;
  }

  private schedule(): void {
    this.timer = this.clock.setTimer(() => {
      this.advanceToNow();
      if (this.timer) this.schedule();
    }, this.stepMs);
  }
}
