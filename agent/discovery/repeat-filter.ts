/** Lets the first occurrence of a key through, then silences it for `quietMs`. Bounded. Pure. */
export class RepeatFilter {
  private readonly last = new Map<string, number>();

  constructor(private readonly quietMs: number, private readonly maxKeys = 512) {}

  first(key: string, now: number): boolean {
    const last = this.last.get(key);
    if (last !== undefined && now >= last && now - last < this.quietMs) return false;
    this.last.delete(key);
    this.last.set(key, now);
    while (this.last.size > this.maxKeys) {
      const oldest = this.last.keys().next().value;
      if (oldest === undefined) break;
      this.last.delete(oldest);
    }
    return true;
  }
}
