/**
 * Whether the agent deserves a watchdog ping (security.md SYS-3): the event loop turns
 * without extreme delays, the device poll loop completes cycles, and the embedded broker
 * listens. Pure: a sample of plain numbers in, a verdict out.
 *
 * What is deliberately NOT unhealthy, because restarting would not fix it:
 * - devices that do not answer (an unplugged inverter): a cycle whose reads all fail is
 *   still a completed cycle;
 * - neighbours that are away, and in external-broker mode the cluster being unreachable:
 *   the mqtt client reconnects by itself.
 */

export type BrokerHealth =
  /** The embedded broker: healthy while its listeners are open and aedes is not closed. */
  | { kind: 'embedded'; listening: boolean }
  /** mesh.broker: the client to the shared cluster exists; whether it is connected is not our health. */
  | { kind: 'external' }
  /** No broker runs (mesh disabled). */
  | { kind: 'off' };

export interface HealthSample {
  /** Real time now, ms. */
  now: number;
  /** Real time at which watching began (the agent had started), ms. */
  startedAt: number;
  /** The longest event-loop delay since the previous sample, ms. */
  loopDelayMs: number;
  /** Real time at which the poll loop was last seen to complete a cycle, ms; undefined before the first. */
  pollProgressAt: number | undefined;
  broker: BrokerHealth;
}

export interface HealthLimits {
  /** A longer event-loop delay within one sample period makes that sample unhealthy. */
  maxLoopDelayMs: number;
  /** A poll loop that completes no cycle for longer than this is hung. */
  pollStallMs: number;
}

export interface HealthVerdict {
  healthy: boolean;
  /** Why not, in words for `systemctl status` and the journal; empty when healthy. */
  problems: string[];
}

/**
 * Limits for a watchdog of `watchdogMs` and a poll loop of `pollIntervalMs` whose slowest
 * request may wait `requestTimeoutMs`. A poll cycle over a dead RS-485 bus can take many
 * request timeouts before the links back off, so the stall limit allows for that; the loop
 * delay limit is a quarter of the watchdog (a loop blocked that long, again and again, is
 * not serving its neighbours) but never under 5 s, which a busy 2-core gateway can reach.
 */
export function healthLimits(options: { watchdogMs: number; pollIntervalMs: number; requestTimeoutMs: number }): HealthLimits {
  return {
    maxLoopDelayMs: Math.max(5_000, Math.round(options.watchdogMs / 4)),
    pollStallMs: Math.max(60_000, 3 * options.pollIntervalMs, 20 * options.requestTimeoutMs),
  };
}

export function assessHealth(sample: HealthSample, limits: HealthLimits): HealthVerdict {
  const problems: string[] = [];
  if (sample.loopDelayMs > limits.maxLoopDelayMs) {
    problems.push(`event loop delayed ${seconds(sample.loopDelayMs)}`);
  }
  const since = sample.pollProgressAt ?? sample.startedAt;
  if (sample.now - since > limits.pollStallMs) {
    problems.push(`poll loop made no progress for ${seconds(sample.now - since)}`);
  }
  if (sample.broker.kind === 'embedded' && !sample.broker.listening) {
    problems.push('embedded broker is not listening');
  }
  return { healthy: problems.length === 0, problems };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/**
 * Turns a counter that grows with progress (completed poll cycles) into the time it last
 * grew. The first observation of a non-zero count counts as progress at that time.
 */
export class ProgressTracker {
  private count = 0;
  private at: number | undefined;

  observe(count: number, now: number): number | undefined {
    if (count !== this.count) {
      this.count = count;
      this.at = now;
    }
    return this.at;
  }
}
