/**
 * Recent security and health events for /api/events and the `event` stream: a bounded
 * ring, newest first. A burst of the same event (same kind, reason, peer and device
 * within `foldMs`) is folded into one entry with a count, so a hostile neighbour's
 * flood neither floods the ring nor the browsers following the stream.
 *
 * Also the pure transition rules the watchers use: counters that grew, and states that
 * changed.
 */
import type { Clock } from '../core/clock.js';
import type { ApiEvent, EventKind } from './types.js';

export const DEFAULT_EVENT_CAPACITY = 200;
export const DEFAULT_FOLD_MS = 10_000;

export interface NewEvent {
  kind: EventKind;
  reason: string;
  peer?: string | undefined;
  device?: string | undefined;
  count?: number;
}

export class EventLog {
  private readonly ring: ApiEvent[] = [];
  private readonly listeners = new Set<(event: ApiEvent) => void>();

  constructor(private readonly clock: Clock, private readonly capacity = DEFAULT_EVENT_CAPACITY, private readonly foldMs = DEFAULT_FOLD_MS) {}

  /** Records an event; returns the entry (a new one, or the earlier one it was folded into). */
  add(event: NewEvent): ApiEvent {
    const now = this.clock.now();
    const count = event.count ?? 1;
    const same = this.ring.find((e) => now - e.at <= this.foldMs && e.kind === event.kind && e.reason === event.reason
      && e.peer === event.peer && e.device === event.device);
    if (same) {
      same.count += count;
      return same;
    }
    const entry: ApiEvent = {
      at: now, kind: event.kind, reason: event.reason,
      ...(event.peer !== undefined ? { peer: event.peer } : {}),
      ...(event.device !== undefined ? { device: event.device } : {}),
      count,
    };
    this.ring.unshift(entry);
    if (this.ring.length > this.capacity) this.ring.length = this.capacity;
    for (const listener of this.listeners) listener(entry);
    return entry;
  }

  /** Newest first (copies). */
  list(): ApiEvent[] {
    return this.ring.map((e) => ({ ...e }));
  }

  /** Called for every new entry (not for folded repeats). Returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Per key, how much a cumulative counter grew between two snapshots (only keys that grew). */
export function counterGrowth(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): Record<string, number> {
  const grown: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const delta = value - (before[key] ?? 0);
    if (delta > 0) grown[key] = delta;
  }
  return grown;
}

/** Keys whose state changed between two snapshots (added and removed ones included, as undefined). */
export function stateChanges<S>(before: ReadonlyMap<string, S>, after: ReadonlyMap<string, S>): { key: string; from: S | undefined; to: S | undefined }[] {
  const changes: { key: string; from: S | undefined; to: S | undefined }[] = [];
  for (const [key, to] of after) {
    const from = before.get(key);
    if (from !== to) changes.push({ key, from, to });
  }
  for (const [key, from] of before) if (!after.has(key)) changes.push({ key, from, to: undefined });
  return changes;
}
