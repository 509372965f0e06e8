/** The longest event-loop delay between two readings, from perf_hooks' sampling histogram. */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopDelayMeter {
  /** The longest delay since the previous call, ms (0 when nothing was measured). */
  takeMaxMs(): number;
  close(): void;
}

/**
 * Samples the loop every `resolutionMs` (a timer on the loop itself; a frozen loop shows as
 * one long delay). The histogram records whole intervals, so the delay is what exceeds one.
 */
export function eventLoopDelayMeter(resolutionMs = 100): LoopDelayMeter {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  return {
    takeMaxMs() {
      const max = histogram.count > 0 ? Math.max(0, histogram.max / 1e6 - resolutionMs) : 0;
      histogram.reset();
      return max;
    },
    close() {
      histogram.disable();
    },
  };
}
