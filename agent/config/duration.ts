/**
 * Durations in the config file are strings with a unit ("500ms", "2s", "5m", "1h"), so that a
 * bare `5` can never be misread as seconds when milliseconds were meant. In the parsed config
 * they are integer milliseconds.
 */

export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** Milliseconds for a duration string, or undefined if it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text);
  if (!match) return undefined;
  const [, amount, unit] = match as unknown as [string, string, Unit];
  return Math.round(Number(amount) * UNIT_MS[unit]);
}

/** The shortest exact string for a number of milliseconds: 1000 → "1s", 1500 → "1500ms". */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return ms === 0 ? '0s' : `${ms}ms`;
}
