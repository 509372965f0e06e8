/**
 * Grid energy per slot from the meter's cumulative import and export registers: the
 * register values at each slot boundary (interpolated linearly between the two samples
 * around it), and their differences. Pure; fed with every household state.
 *
 * A boundary is known only when a good sample exists on each side of it within
 * `maxGapMs`; a slot whose boundaries are not both known has no reading (the settlement
 * then treats it as missing rather than guessing).
 */
import type { SlotStart } from './types.js';

export interface RegisterSample {
  at: number;
  importWh: number;
  exportWh: number;
}

export interface SlotEnergy {
  importedWh: number;
  exportedWh: number;
}

export class SlotMeter {
  private last: RegisterSample | undefined;
  /** Register values at boundaries, by boundary instant (bounded: oldest dropped). */
  private readonly boundaries = new Map<number, { importWh: number; exportWh: number }>();

  constructor(
    private readonly boundariesBetween: (fromMs: number, toMs: number) => number[],
    private readonly options: { maxGapMs: number; keep?: number } = { maxGapMs: 5 * 60_000 },
  ) {}

  /** One good reading of both registers (skip stale or missing ones). Registers only grow; a drop (meter reset) restarts the series. */
  add(sample: RegisterSample): void {
    const last = this.last;
    if (last && sample.at > last.at && sample.at - last.at <= this.options.maxGapMs && sample.importWh >= last.importWh && sample.exportWh >= last.exportWh) {
      for (const boundary of this.boundariesBetween(last.at, sample.at)) {
        const f = (boundary - last.at) / (sample.at - last.at);
        this.boundaries.set(boundary, {
          importWh: last.importWh + f * (sample.importWh - last.importWh),
          exportWh: last.exportWh + f * (sample.exportWh - last.exportWh),
        });
      }
      const keep = this.options.keep ?? 200;
      while (this.boundaries.size > keep) this.boundaries.delete(this.boundaries.keys().next().value as number);
    }
    if (!last || sample.at > last.at) this.last = sample;
  }

  /** Energy during [slot, end), whole Wh, or undefined when a boundary is unknown. */
  energy(slot: SlotStart, end: number): SlotEnergy | undefined {
    const a = this.boundaries.get(slot);
    const b = this.boundaries.get(end);
    if (!a || !b) return undefined;
    return { importedWh: Math.max(0, Math.round(b.importWh - a.importWh)), exportedWh: Math.max(0, Math.round(b.exportWh - a.exportWh)) };
  }
}
