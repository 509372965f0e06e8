/**
 * Which neighbours are currently visible, with last-seen times on the injected
 * clock's time base. Pure: callers feed observations and get events back.
 */
import type { IdentityConflict, LostReason, PeerCandidate } from './types.js';
import type { ValidAdvert } from './txt.js';

export type TableEvent =
  | { type: 'seen'; peer: PeerCandidate }
  | { type: 'updated'; peer: PeerCandidate; previous: PeerCandidate }
  | { type: 'lost'; peerId: string; reason: LostReason }
  | { type: 'conflict'; conflict: IdentityConflict };

interface Entry {
  peer: PeerCandidate;
  lastSeen: number;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function differs(a: PeerCandidate, b: PeerCandidate): boolean {
  return a.port !== b.port || a.zone !== b.zone || a.host !== b.host || a.version !== b.version || !sameList(a.addresses, b.addresses);
}

export class PeerTable {
  private readonly entries = new Map<string, Entry>();

  /** A peer not heard from for `lostAfterMs` is lost. */
  constructor(private readonly lostAfterMs: number) {
    if (!(lostAfterMs > 0)) throw new RangeError(`lostAfterMs must be > 0, got ${lostAfterMs}`);
  }

  /**
   * A validated advert heard from `source`. `addresses` may be empty when the
   * packet carried no A/AAAA records: then the known addresses are kept (same
   * host) or the source address is used.
   */
  observe(advert: ValidAdvert, addresses: readonly string[], source: string, now: number): TableEvent[] {
    const entry = this.entries.get(advert.peerId);
    if (entry && entry.peer.fingerprint !== advert.fingerprint) {
      return [{
        type: 'conflict',
        conflict: { kind: 'fingerprint-changed', peerId: advert.peerId, claimedFingerprint: advert.fingerprint, knownFingerprint: entry.peer.fingerprint, source },
      }];
    }
    const resolved = addresses.length > 0
      ? [...addresses]
      : entry && entry.peer.host === advert.host ? entry.peer.addresses : [source];
    const peer: PeerCandidate = {
      peerId: advert.peerId, fingerprint: advert.fingerprint, zone: advert.zone, host: advert.host,
      addresses: resolved, port: advert.port, version: advert.version, source,
    };
    if (!entry) {
      this.entries.set(peer.peerId, { peer, lastSeen: now });
      return [{ type: 'seen', peer }];
    }
    entry.lastSeen = Math.max(entry.lastSeen, now);
    if (!differs(entry.peer, peer)) {
      entry.peer = { ...entry.peer, source };
      return [];
    }
    const previous = entry.peer;
    entry.peer = peer;
    return [{ type: 'updated', peer, previous }];
  }

  /** Liveness from a partial record (PTR/SRV without TXT) of a peer we already know. */
  touch(peerId: string, now: number): boolean {
    const entry = this.entries.get(peerId);
    if (!entry) return false;
    entry.lastSeen = Math.max(entry.lastSeen, now);
    return true;
  }

  goodbye(peerId: string): TableEvent[] {
    if (!this.entries.delete(peerId)) return [];
    return [{ type: 'lost', peerId, reason: 'goodbye' }];
  }

  /** Removes and reports peers not seen for `lostAfterMs`. */
  expire(now: number): TableEvent[] {
    const events: TableEvent[] = [];
    for (const [peerId, entry] of this.entries) {
      if (now - entry.lastSeen >= this.lostAfterMs) {
        this.entries.delete(peerId);
        events.push({ type: 'lost', peerId, reason: 'timeout' });
      }
    }
    return events;
  }

  get(peerId: string): PeerCandidate | undefined {
    return this.entries.get(peerId)?.peer;
  }

  lastSeen(peerId: string): number | undefined {
    return this.entries.get(peerId)?.lastSeen;
  }

  list(): PeerCandidate[] {
    return [...this.entries.values()].map((e) => e.peer);
  }

  clear(): void {
    this.entries.clear();
  }
}
