/**
 * Where neighbours might be: static entries from the config, adverts heard over
 * mDNS, and keys that knocked on our broker. A candidate is a hint (an address
 * and a claimed key), never trust: the mesh links only to trusted keys and TLS
 * proves them. The book remembers candidates so that a neighbour paired later
 * can be linked without waiting for its next advert.
 */
export type CandidateSource = 'static' | 'mdns' | 'inbound' | 'cluster';

export interface Candidate {
  peerId: string;
  fingerprint: string;
  source: CandidateSource;
  /** Where its broker listens; unknown for a key that only knocked on ours. */
  address: { host: string; port: number } | undefined;
  zone: string | undefined;
  /** When it was last seen (advert, knock, or start for static ones), ms since the epoch. */
  lastSeen: number;
}

/** Candidates kept at once; the oldest non-static one goes first, so a flood of keys cannot grow memory. */
export const MAX_CANDIDATES = 128;

export class CandidateBook {
  private readonly byPeer = new Map<string, Candidate>();

  constructor(private readonly max = MAX_CANDIDATES) {}

  /**
   * Records a candidate. A static entry is never replaced by an mDNS or inbound one (the
   * installer's address wins); returns the entry as kept.
   */
  note(candidate: Candidate): Candidate {
    const existing = this.byPeer.get(candidate.peerId);
    if (existing?.source === 'static' && candidate.source !== 'static') {
      existing.lastSeen = Math.max(existing.lastSeen, candidate.lastSeen);
      return existing;
    }
    // An inbound knock tells no address: keep the one an advert gave.
    const kept: Candidate = existing && candidate.source === 'inbound' && existing.address
      ? { ...existing, lastSeen: candidate.lastSeen }
      : { ...candidate };
    this.byPeer.delete(candidate.peerId);
    this.byPeer.set(candidate.peerId, kept);
    this.evict();
    return kept;
  }

  get(peerId: string): Candidate | undefined {
    return this.byPeer.get(peerId);
  }

  byFingerprint(fingerprint: string): Candidate | undefined {
    for (const candidate of this.byPeer.values()) if (candidate.fingerprint === fingerprint) return candidate;
    return undefined;
  }

  remove(peerId: string): boolean {
    return this.byPeer.delete(peerId);
  }

  list(): Candidate[] {
    return [...this.byPeer.values()].map((c) => ({ ...c }));
  }

  get size(): number {
    return this.byPeer.size;
  }

  private evict(): void {
    while (this.byPeer.size > this.max) {
      const oldest = [...this.byPeer.values()].filter((c) => c.source !== 'static').sort((a, b) => a.lastSeen - b.lastSeen)[0];
      if (!oldest) return;
      this.byPeer.delete(oldest.peerId);
    }
  }
}
