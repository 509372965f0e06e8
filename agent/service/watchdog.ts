/**
 * The agent's side of systemd's Type=notify protocol: READY=1 once started, then a
 * WATCHDOG=1 every half watchdog period while the health check passes (withheld while it
 * does not, so systemd restarts an agent that stays unhealthy for a whole WatchdogSec),
 * STATUS= with the household and the neighbours, and STOPPING=1 on the way out.
 *
 * The ping timer runs on the event loop it vouches for: a blocked or frozen loop sends
 * nothing. The health decision itself is health.ts; sending is notifier.ts.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { assessHealth, ProgressTracker, type BrokerHealth, type HealthLimits, type HealthVerdict } from './health.js';
import type { LoopDelayMeter } from './loop-delay.js';
import type { Notifier, NotifyFields } from './notifier.js';

/** What the health check and the status line read from the running agent. */
export interface AgentProbe {
  /** Poll cycles completed so far (successful or not). */
  pollCycles(): number;
  broker(): BrokerHealth;
  /** The status line, given the current health problems. */
  status(problems: readonly string[]): string;
}

export interface ServiceWatchdogOptions {
  notifier: Notifier;
  /** Real time (never an accelerated clock: systemd's watchdog runs in real time). */
  clock: Clock;
  /** WATCHDOG_USEC in ms; undefined: no pings, only READY/STATUS/STOPPING. */
  watchdogMs: number | undefined;
  limits: HealthLimits;
  probe: AgentProbe;
  loopDelay: LoopDelayMeter;
  log: Logger;
  /** How often STATUS= is refreshed when it changed and no watchdog runs. Default 30 s. */
  statusEveryMs?: number;
}

export class ServiceWatchdog {
  private timer: TimerHandle | undefined;
  private startedAt = 0;
  private readonly progress = new ProgressTracker();
  private lastStatus = '';
  private healthy = true;
  private stopped = false;
  /** Watchdog pings sent and withheld (for tests and the journal). */
  readonly counts = { pings: 0, withheld: 0 };

  constructor(private readonly options: ServiceWatchdogOptions) {}

  /** The period of the checks: half the watchdog timeout, as sd_watchdog_enabled(3) advises. */
  get periodMs(): number {
    const { watchdogMs, statusEveryMs } = this.options;
    return watchdogMs !== undefined ? Math.max(1, Math.floor(watchdogMs / 2)) : statusEveryMs ?? 30_000;
  }

  /** Sends READY=1 (with the first status and watchdog ping) and starts the checks. */
  ready(): void {
    this.startedAt = this.options.clock.now();
    this.options.loopDelay.takeMaxMs();
    const verdict = this.check();
    this.send({ READY: '1' }, verdict, true);
    this.schedule();
  }

  /** Sends STOPPING=1 and stops pinging (systemd stops the watchdog once the unit is deactivating). */
  stopping(reason = 'stopping'): void {
    if (this.stopped) return;
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.options.notifier.notify({ STOPPING: '1', STATUS: reason });
  }

  /** Ends the checks without telling systemd anything (the agent failed to start or exits). */
  close(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.options.loopDelay.close();
  }

  /** One check: pings when healthy, updates STATUS when it changed. Exposed for tests. */
  tick(): HealthVerdict {
    const verdict = this.check();
    this.send({}, verdict, false);
    return verdict;
  }

  private check(): HealthVerdict {
    const { clock, probe, limits, loopDelay } = this.options;
    const now = clock.now();
    return assessHealth({
      now,
      startedAt: this.startedAt,
      loopDelayMs: loopDelay.takeMaxMs(),
      pollProgressAt: this.progress.observe(probe.pollCycles(), now),
      broker: probe.broker(),
    }, limits);
  }

  private send(fields: NotifyFields, verdict: HealthVerdict, force: boolean): void {
    const { log, watchdogMs, probe } = this.options;
    if (verdict.healthy !== this.healthy) {
      if (verdict.healthy) log.info('healthy again: watchdog pings resume');
      else log.error({ problems: verdict.problems, watchdogMs }, `unhealthy: ${verdict.problems.join('; ')}; withholding watchdog pings`);
      this.healthy = verdict.healthy;
    }
    const out: NotifyFields = { ...fields };
    if (watchdogMs !== undefined) {
      if (verdict.healthy) {
        out.WATCHDOG = '1';
        this.counts.pings++;
      } else {
        this.counts.withheld++;
      }
    }
    const status = probe.status(verdict.problems);
    // With a watchdog the status rides along with every ping (same datagram, no extra process).
    if (force || status !== this.lastStatus || out.WATCHDOG !== undefined) {
      out.STATUS = status;
      this.lastStatus = status;
    }
    if (Object.keys(out).length > 0) this.options.notifier.notify(out);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimer(() => {
      if (this.stopped) return;
      this.tick();
      this.schedule();
    }, this.periodMs);
  }
}
