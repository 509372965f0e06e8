import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { DeviceSample } from '../household/quantities.js';
import { buildHouseholdState, type HouseholdState } from '../household/state.js';
import { errorKind } from './reader.js';
import type { PollableDevice } from './device.js';

export interface PollerOptions {
  devices: readonly PollableDevice[];
  clock: Clock;
  log: Logger;
  intervalMs: number;
  staleAfterMs: number;
  onState?: (state: HouseholdState) => void;
  /** After every poll cycle: how long it took on `timingClock` and which devices failed (metrics, health events). */
  onCycle?: (cycle: PollCycle) => void;
  /** The clock poll durations are measured on. Default `clock`; an accelerated agent measures its device I/O in real time. */
  timingClock?: Clock;
}

export interface PollCycle {
  startedAt: number;
  durationMs: number;
  /** Names of the devices whose poll failed in this cycle. */
  failed: string[];
}

/**
 * Reads every device once per interval and publishes the household state.
 * Devices on different links are read in parallel (each link serialises its
 * own requests). A device that fails keeps its last values, which the
 * household state then marks stale; nothing else stops.
 */
export class Poller {
  private readonly samples = new Map<string, DeviceSample>();
  private timer: TimerHandle | undefined;
  private running = false;
  private cycle: Promise<void> | undefined;
  private latest: HouseholdState | undefined;
  private completed = 0;

  constructor(private readonly options: PollerOptions) {
    for (const d of options.devices) {
      this.samples.set(d.name, { device: d.name, roles: d.roles, at: undefined, ok: false, values: {} });
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    await this.cycle;
  }

  state(): HouseholdState | undefined {
    return this.latest;
  }

  /** Cycles of the poll loop finished so far, whether their reads succeeded or not (the service watchdog's liveness signal). */
  cyclesCompleted(): number {
    return this.completed;
  }

  /** Polls every device once and returns the resulting household state. */
  async pollOnce(): Promise<HouseholdState> {
    const { clock, log } = this.options;
    const startedAt = clock.now();
    const timing = this.options.timingClock ?? clock;
    const timingStart = timing.now();
    const failed: string[] = [];
    await Promise.all(this.options.devices.map(async (device) => {
      const previous = this.samples.get(device.name)!;
      try {
        const values = await device.poll();
        this.samples.set(device.name, { ...previous, at: clock.now(), ok: true, values });
        if (!previous.ok && previous.at !== undefined) log.info({ device: device.name }, 'device readable again');
      } catch (err) {
        if (previous.ok || previous.at === undefined) {
          log.warn({ device: device.name, kind: errorKind(err), err: err instanceof Error ? err.message : String(err) }, 'device read failed');
        }
        this.samples.set(device.name, { ...previous, ok: false });
        failed.push(device.name);
      }
    }));
    this.options.onCycle?.({ startedAt, durationMs: timing.now() - timingStart, failed });
    const state = buildHouseholdState([...this.samples.values()], clock.now(), this.options.staleAfterMs);
    this.latest = state;
    this.options.onState?.(state);
    return state;
  }

  private schedule(delayMs: number): void {
    this.timer = this.options.clock.setTimer(() => {
      if (!this.running) return;
      const started = this.options.clock.now();
      this.cycle = this.pollOnce().then(
        () => undefined,
        (err: unknown) => { this.options.log.error({ err }, 'poll cycle failed'); },
      ).finally(() => {
        this.completed++;
        if (!this.running) return;
        const elapsed = this.options.clock.now() - started;
        this.schedule(Math.max(0, this.options.intervalMs - elapsed));
      });
    }, delayMs);
  }
}
