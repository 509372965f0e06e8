/** Exponential backoff: initialMs, 2×, 4× … capped at maxMs. Pure. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  const exp = Math.min(Math.max(0, Math.floor(attempt)), 30);
  return Math.min(maxMs, initialMs * 2 ** exp);
}
