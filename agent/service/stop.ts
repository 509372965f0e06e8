/**
 * A stop with a deadline. systemd sends SIGKILL when TimeoutStopSec runs out, in the middle
 * of whatever the agent was doing; an agent that notices first can say what hung and exit
 * with a status that marks the stop as failed.
 */
import type { Clock } from '../core/clock.js';

/**
 * How long `tonari run` lets its parts stop (ledger closed, MQTT links ended, Modbus
 * closed) before it gives up and exits non-zero. The unit's TimeoutStopSec is 30 s, which
 * leaves 10 s for the exit itself and for systemd-notify (test/systemd checks the two agree).
 */
export const STOP_DEADLINE_MS = 20_000;

export type StopOutcome =
  | { outcome: 'stopped'; ms: number }
  | { outcome: 'failed'; ms: number; error: unknown }
  | { outcome: 'timeout'; ms: number };

/** Runs `stop` and reports how it ended, or 'timeout' once `deadlineMs` of `clock` have passed. */
export async function stopWithin(stop: () => Promise<void>, deadlineMs: number, clock: Clock): Promise<StopOutcome> {
  const started = clock.now();
  let timer: { cancel(): void } | undefined;
  const deadline = new Promise<StopOutcome>((resolve) => {
    timer = clock.setTimer(() => resolve({ outcome: 'timeout', ms: clock.now() - started }), deadlineMs);
  });
  const finished = stop().then(
    (): StopOutcome => ({ outcome: 'stopped', ms: clock.now() - started }),
    (error: unknown): StopOutcome => ({ outcome: 'failed', ms: clock.now() - started, error }),
  );
  try {
    return await Promise.race([finished, deadline]);
  } finally {
    timer?.cancel();
  }
}
