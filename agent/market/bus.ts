/**
 * An in-memory message bus for market sessions (`tonari simulate`, protocol tests):
 * publish reaches every other member, send reaches one. Delivery is deferred to
 * `deliver()`, so a simulation decides when messages arrive, and it can lose or
 * duplicate them with a seeded random source, reproducibly.
 */
import type { MarketTransport } from './session.js';

export interface BusMessage {
  from: string;
  to: string;
  type: string;
  body: Record<string, unknown>;
}

export interface BusOptions {
  /** Probability in [0, 1] that one delivery is lost. */
  loss?: number;
  /** Probability in [0, 1] that one delivery arrives twice. */
  duplicate?: number;
  /** Uniform random in [0, 1); seeded in simulations. */
  random?: () => number;
}

export type BusReceiver = (type: string, from: string, body: Record<string, unknown>) => Promise<void> | void;

export class MemoryBus {
  private readonly members = new Map<string, BusReceiver>();
  private queue: BusMessage[] = [];
  readonly stats = { sent: 0, delivered: 0, lost: 0, duplicated: 0 };

  constructor(private readonly options: BusOptions = {}) {}

  /** Joins `peerId`; its transport's messages are queued for the others. */
  join(peerId: string, receive: BusReceiver): MarketTransport {
    this.members.set(peerId, receive);
    // One deep-frozen copy shared by every recipient: nobody can mutate what another receives.
    const copy = (body: Record<string, unknown>) => deepFreeze(JSON.parse(JSON.stringify(body)) as Record<string, unknown>);
    return {
      publish: async (type, body) => {
        this.stats.sent++;
        const shared = copy(body);
        for (const to of this.members.keys()) if (to !== peerId) this.queue.push({ from: peerId, to, type, body: shared });
      },
      send: async (to, type, body) => {
        this.stats.sent++;
        if (this.members.has(to)) this.queue.push({ from: peerId, to, type, body: copy(body) });
      },
    };
  }

  leave(peerId: string): void {
    this.members.delete(peerId);
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Delivers everything queued, including what the deliveries send, until quiet (bounded by `maxRounds`). */
  async deliver(maxRounds = 50): Promise<void> {
    const random = this.options.random ?? Math.random;
    for (let round = 0; round < maxRounds && this.queue.length > 0; round++) {
      const batch = this.queue;
      this.queue = [];
      for (const message of batch) {
        const receive = this.members.get(message.to);
        if (!receive) continue;
        if (this.options.loss && random() < this.options.loss) {
          this.stats.lost++;
          continue;
        }
        const copies = this.options.duplicate && random() < this.options.duplicate ? 2 : 1;
        if (copies === 2) this.stats.duplicated++;
        for (let i = 0; i < copies; i++) {
          this.stats.delivered++;
          await receive(message.type, message.from, message.body);
        }
      }
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
