/**
 * Counters of dropped messages, by reason and by peer (security.md MSG-1..MSG-4: every
 * drop is counted), for `tonari peers` and the metrics endpoint. Counting is the only
 * state a rejected message may change.
 */
export const REJECT_REASONS = [
  'too_big',
  'malformed',
  'wrong_recipient',
  'acl',
  'unknown_peer',
  'bad_sig',
  'stale',
  'replay',
  'rate',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

export type ReasonCounts = Record<RejectReason, number>;

export interface RejectionSnapshot {
  total: number;
  byReason: ReasonCounts;
  /** Per attributable peer; peers beyond the cap are summed under OTHER_PEERS. */
  byPeer: Record<string, Partial<ReasonCounts>>;
}

/** The bucket for peers beyond the cap, so counting never grows memory without bound. */
export const OTHER_PEERS = '(other)';

export function zeroCounts(): ReasonCounts {
  return Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as ReasonCounts;
}

export class Rejections {
  private total = 0;
  private readonly byReason = zeroCounts();
  private readonly byPeer = new Map<string, Partial<ReasonCounts>>();
  private readonly listeners = new Set<(reason: RejectReason, peer: string | undefined) => void>();

  /** @param maxPeers distinct peers counted separately; more are summed under OTHER_PEERS. */
  constructor(private readonly maxPeers = 256) {}

  /**
   * Counts one dropped message. Pass `peer` only when it is attributable (an authenticated
   * link or a verified sender), never a claimed `from` of an unverified message: that
   * would let anyone charge drops to a neighbour.
   */
  count(reason: RejectReason, peer?: string): void {
    this.total++;
    this.byReason[reason]++;
    for (const listener of this.listeners) {
      try { listener(reason, peer); } catch { /* see onCount */ }
    }
    if (peer === undefined) return;
    let counts = this.byPeer.get(peer);
    if (!counts) {
      const key = this.byPeer.size < this.maxPeers ? peer : OTHER_PEERS;
      counts = this.byPeer.get(key) ?? {};
      this.byPeer.set(key, counts);
    }
    counts[reason] = (counts[reason] ?? 0) + 1;
  }

  /**
   * Calls `listener` after every counted drop (the local API's event log). A listener
   * that throws is ignored: counting must never fail. Returns the unsubscribe function.
   */
  onCount(listener: (reason: RejectReason, peer: string | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** Count of one reason, overall or for one peer. */
  get(reason: RejectReason, peer?: string): number {
    if (peer === undefined) return this.byReason[reason];
    return this.byPeer.get(peer)?.[reason] ?? 0;
  }

  snapshot(): RejectionSnapshot {
    const byPeer: Record<string, Partial<ReasonCounts>> = {};
    for (const [peer, counts] of this.byPeer) byPeer[peer] = { ...counts };
    return { total: this.total, byReason: { ...this.byReason }, byPeer };
  }
}
