/**
 * Read-only by default: a write goes out only to a point the installer listed
 * under the device's `writable:`, and only with a value inside its range.
 */
export interface WritableRange {
  point: string;
  min: number;
  max: number;
}

export class WriteRefusedError extends Error {
  constructor(readonly device: string, readonly point: string, reason: string) {
    super(`write to ${device} ${point} refused: ${reason}`);
    this.name = 'WriteRefusedError';
  }
}

export class WriteAllowList {
  private readonly ranges: Map<string, WritableRange>;

  constructor(private readonly device: string, ranges: readonly WritableRange[]) {
    this.ranges = new Map(ranges.map((r) => [r.point, r]));
  }

  points(): string[] {
    return [...this.ranges.keys()];
  }

  /** Throws WriteRefusedError unless the point is listed and the value is a finite number within its range. */
  check(point: string, value: number): void {
    const range = this.ranges.get(point);
    if (!range) {
      const listed = this.points();
      throw new WriteRefusedError(this.device, point, listed.length === 0
        ? 'the device is read-only (no writable points are configured)'
        : `not in the device's writable list (${listed.join(', ')})`);
    }
    if (!Number.isFinite(value)) throw new WriteRefusedError(this.device, point, `${value} is not a number`);
    if (value < range.min || value > range.max) {
      throw new WriteRefusedError(this.device, point, `${value} is outside the allowed range ${range.min}..${range.max}`);
    }
  }
}
