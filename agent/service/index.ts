/**
 * tonari as a systemd Type=notify service: READY=1 once the agent runs, watchdog pings
 * while it is healthy, STATUS= lines, STOPPING=1. Nothing at all happens outside systemd
 * (no NOTIFY_SOCKET). See docs/service.md.
 */
import type { RunningAgent } from '../app/agent.js';
import type { Config } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { serviceEnvironment } from './env.js';
import { healthLimits } from './health.js';
import { eventLoopDelayMeter } from './loop-delay.js';
import { SystemdNotifier } from './notifier.js';
import { agentProbe } from './probe.js';
import { ServiceWatchdog } from './watchdog.js';

export { STOP_DEADLINE_MS, stopWithin, type StopOutcome } from './stop.js';
export { serviceEnvironment } from './env.js';

/** Without a watchdog the health limits still shape STATUS=; they assume systemd's usual 60 s. */
const DEFAULT_WATCHDOG_MS = 60_000;

export interface RunningService {
  watchdog: ServiceWatchdog;
  notifier: SystemdNotifier;
  /** STOPPING=1 (on SIGTERM, before the agent stops). */
  stopping(): void;
  /** Ends the checks and waits until the last message is handed to systemd. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  env: Readonly<Record<string, string | undefined>>;
  pid: number;
  /** Real time: systemd's watchdog does not run faster under --speed. */
  clock: Clock;
  log: Logger;
}

/** Tells systemd the agent is ready and starts the watchdog; undefined when not run by systemd. */
export function startService(agent: Pick<RunningAgent, 'poller' | 'neighbours'>, config: Pick<Config, 'poll' | 'links'>, options: ServiceOptions): RunningService | undefined {
  const { notifySocket, watchdogMs } = serviceEnvironment(options.env, options.pid);
  if (notifySocket === undefined) return undefined;
  const log = options.log.child({ mod: 'service' });
  const timeouts = Object.values(config.links).map((l) => l.timeout);
  const limits = healthLimits({
    watchdogMs: watchdogMs ?? DEFAULT_WATCHDOG_MS,
    pollIntervalMs: config.poll.interval,
    requestTimeoutMs: Math.max(1_000, ...timeouts),
  });
  const notifier = new SystemdNotifier({ socket: notifySocket, log, timeoutMs: 5_000 });
  const watchdog = new ServiceWatchdog({ notifier, clock: options.clock, watchdogMs, limits, probe: agentProbe(agent), loopDelay: eventLoopDelayMeter(), log });
  watchdog.ready();
  log.info({ watchdogMs: watchdogMs ?? null, pingEveryMs: watchdogMs === undefined ? null : watchdog.periodMs, limits }, 'told systemd the agent is ready');
  return {
    watchdog,
    notifier,
    stopping: () => watchdog.stopping(),
    async close() {
      watchdog.close();
      await notifier.flush();
    },
  };
}
