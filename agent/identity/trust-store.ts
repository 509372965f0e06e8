/**
 * Whom this agent trusts (security.md ID-3, ID-4): the installer's allow-list from the
 * config, plus peers paired here. A new peer is accepted only while a pairing window is
 * open AND after its check code, read off that peer's own display, has been entered.
 * Everything else is refused and counted. Removal is announced through `onChange` so the
 * broker and the mesh can close that peer's sessions.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { AtomicFs } from './atomic-file.js';
import { checkCodeMatches } from './check-code.js';
import { peerIdFromFingerprint } from './peer-id.js';
import { normalizeFingerprint, readTrustFile, TrustStoreError, validName, writeTrustFile, type PairedRecord } from './trusted-peers-file.js';

export { normalizeFingerprint, TrustStoreError } from './trusted-peers-file.js';

/** Unconfirmed peers kept at once, so a flood during the window cannot grow memory. */
export const MAX_PENDING = 8;
/** Wrong codes entered for one pending peer before it is dropped. */
export const MAX_CODE_ATTEMPTS = 3;

export interface AllowListEntry {
  fingerprint: string;
  name?: string;
}

export interface TrustedPeer {
  peerId: string;
  fingerprint: string;
  name?: string;
  source: 'config' | 'paired';
  /** When it was paired (paired peers only), ms since the epoch. */
  pairedAt?: number;
}

export interface PendingPeer {
  peerId: string;
  fingerprint: string;
  name?: string;
  proposedAt: number;
}

export type TrustChange = { type: 'added' | 'removed'; peer: TrustedPeer };

export type RejectionReason = 'unknown_peer' | 'window_closed' | 'not_pending' | 'wrong_code' | 'too_many_pending' | 'bad_fingerprint' | 'bad_name' | 'already_trusted';

export type ProposeResult =
  | { status: 'pending'; peer: PendingPeer }
  | { status: 'trusted'; peer: TrustedPeer }
  | { status: 'refused'; reason: RejectionReason };

export type ConfirmResult =
  | { status: 'added'; peer: TrustedPeer }
  | { status: 'refused'; reason: RejectionReason };

export type RemoveResult = 'removed' | 'configured' | 'not_found';

export interface TrustStoreOptions {
  allowList?: readonly AllowListEntry[];
  clock: Clock;
  log: Logger;
  fs?: AtomicFs;
}

function configPeers(allowList: readonly AllowListEntry[]): Map<string, TrustedPeer> {
  const peers = new Map<string, TrustedPeer>();
  for (const [i, entry] of allowList.entries()) {
    const fingerprint = normalizeFingerprint(entry.fingerprint);
    if (!fingerprint) throw new TrustStoreError(`trust.peers[${i}].fingerprint is not a SHA-256 fingerprint (64 hex digits)`);
    if (entry.name !== undefined && !validName(entry.name)) throw new TrustStoreError(`trust.peers[${i}].name must be 1-64 printable characters`);
    peers.set(fingerprint, { peerId: peerIdFromFingerprint(fingerprint), fingerprint, ...(entry.name !== undefined ? { name: entry.name } : {}), source: 'config' });
  }
  return peers;
}

function pairedPeer(record: PairedRecord): TrustedPeer {
  return { peerId: peerIdFromFingerprint(record.fingerprint), fingerprint: record.fingerprint, ...(record.name !== undefined ? { name: record.name } : {}), source: 'paired', pairedAt: record.pairedAt };
}

export class TrustStore {
  private readonly listeners = new Set<(change: TrustChange) => void>();
  private readonly pendingPeers = new Map<string, PendingPeer & { attempts: number }>();
  private readonly counts = new Map<RejectionReason, number>();
  private windowClosesAt: number | undefined;
  /** Writes run one after another, each from the state current when it runs. */
  private writeQueue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly stateDir: string,
    private readonly configured: Map<string, TrustedPeer>,
    private paired: Map<string, PairedRecord>,
    private readonly options: TrustStoreOptions,
  ) {}

  static async open(stateDir: string, options: TrustStoreOptions): Promise<TrustStore> {
    const configured = configPeers(options.allowList ?? []);
    const records = await readTrustFile(stateDir, options.fs);
    const store = new TrustStore(stateDir, configured, new Map(records.map((r) => [r.fingerprint, r])), options);
    options.log.info({ configured: configured.size, paired: records.length }, 'trust store opened');
    return store;
  }

  isTrusted(fingerprint: string): boolean {
    return this.lookup(fingerprint) !== undefined;
  }

  lookup(fingerprint: string): TrustedPeer | undefined {
    const configured = this.configured.get(fingerprint);
    if (configured) return configured;
    const record = this.paired.get(fingerprint);
    return record ? pairedPeer(record) : undefined;
  }

  /** Configured peers first, then paired ones, each by fingerprint. */
  list(): TrustedPeer[] {
    const byFingerprint = (a: { fingerprint: string }, b: { fingerprint: string }) => a.fingerprint.localeCompare(b.fingerprint);
    const configured = [...this.configured.values()].sort(byFingerprint);
    const paired = [...this.paired.values()].filter((r) => !this.configured.has(r.fingerprint)).sort(byFingerprint).map(pairedPeer);
    return [...configured, ...paired];
  }

  /** Forgets a paired peer. Peers from the config stay until the config changes. */
  async remove(fingerprint: string): Promise<RemoveResult> {
    return this.enqueue(async () => {
      const record = this.paired.get(fingerprint);
      if (!record) return this.configured.has(fingerprint) ? 'configured' : 'not_found';
      const next = new Map(this.paired);
      next.delete(fingerprint);
      await writeTrustFile(this.stateDir, [...next.values()], this.options.fs);
      this.paired = next;
      const peer = pairedPeer(record);
      this.options.log.warn({ peerId: peer.peerId, fingerprint }, 'paired peer removed');
      // Still trusted through the config: nothing to close.
      if (!this.configured.has(fingerprint)) this.emit({ type: 'removed', peer });
      return 'removed';
    });
  }

  openPairingWindow(ms: number): { closesAt: number } {
    if (!(ms > 0) || !Number.isFinite(ms)) throw new RangeError(`pairing window must be a positive duration, got ${ms}`);
    this.windowClosesAt = this.options.clock.now() + ms;
    this.options.log.info({ closesAt: new Date(this.windowClosesAt).toISOString() }, 'pairing window opened');
    return { closesAt: this.windowClosesAt };
  }

  closePairingWindow(): void {
    if (this.windowClosesAt === undefined) return;
    this.windowClosesAt = undefined;
    this.pendingPeers.clear();
    this.options.log.info('pairing window closed');
  }

  pairingOpen(): boolean {
    if (this.windowClosesAt !== undefined && this.options.clock.now() >= this.windowClosesAt) this.closePairingWindow();
    return this.windowClosesAt !== undefined;
  }

  /** When the open window closes (ms since the epoch), or undefined. */
  pairingClosesAt(): number | undefined {
    return this.pairingOpen() ? this.windowClosesAt : undefined;
  }

  pending(): PendingPeer[] {
    if (!this.pairingOpen()) return [];
    return [...this.pendingPeers.values()].map(({ attempts: _attempts, ...peer }) => peer);
  }

  /** An unknown peer asks to be trusted (e.g. it completed a TLS handshake with an unpinned key). */
  propose(fingerprint: string, name?: string): ProposeResult {
    const trusted = this.lookup(fingerprint);
    if (trusted) return { status: 'trusted', peer: trusted };
    if (!normalizeFingerprint(fingerprint) || normalizeFingerprint(fingerprint) !== fingerprint) return this.refuse('bad_fingerprint', { fingerprint });
    if (!this.pairingOpen()) return this.refuse('unknown_peer', { fingerprint });
    const existing = this.pendingPeers.get(fingerprint);
    if (existing) return { status: 'pending', peer: { peerId: existing.peerId, fingerprint, ...(existing.name !== undefined ? { name: existing.name } : {}), proposedAt: existing.proposedAt } };
    if (name !== undefined && !validName(name)) return this.refuse('bad_name', { fingerprint });
    if (this.pendingPeers.size >= MAX_PENDING) return this.refuse('too_many_pending', { fingerprint });
    const peer: PendingPeer = { peerId: peerIdFromFingerprint(fingerprint), fingerprint, ...(name !== undefined ? { name } : {}), proposedAt: this.options.clock.now() };
    this.pendingPeers.set(fingerprint, { ...peer, attempts: 0 });
    this.options.log.info({ peerId: peer.peerId, fingerprint }, 'peer waiting for its check code to be confirmed');
    return { status: 'pending', peer };
  }

  /** Accepts a pending peer if `checkCode` (as read off that peer) is its code; only while the window is open. */
  async confirm(fingerprint: string, checkCode: string): Promise<ConfirmResult> {
    if (!this.pairingOpen()) return this.refuse('window_closed', { fingerprint });
    const pending = this.pendingPeers.get(fingerprint);
    if (!pending) return this.refuse('not_pending', { fingerprint });
    if (!checkCodeMatches(fingerprint, checkCode)) {
      pending.attempts += 1;
      if (pending.attempts >= MAX_CODE_ATTEMPTS) this.pendingPeers.delete(fingerprint);
      return this.refuse('wrong_code', { fingerprint, attempts: pending.attempts });
    }
    this.pendingPeers.delete(fingerprint);
    return this.persistPaired(fingerprint, pending.name);
  }

  /**
   * Pairs a peer whose fingerprint the installer obtained out of band (`tonari pair --add`);
   * the check code guards against a mistyped fingerprint. Needs no window.
   */
  async add(fingerprint: string, checkCode: string, name?: string): Promise<ConfirmResult> {
    const normalized = normalizeFingerprint(fingerprint);
    if (!normalized) return this.refuse('bad_fingerprint', {});
    if (name !== undefined && !validName(name)) return this.refuse('bad_name', { fingerprint: normalized });
    if (this.isTrusted(normalized)) return this.refuse('already_trusted', { fingerprint: normalized });
    if (!checkCodeMatches(normalized, checkCode)) return this.refuse('wrong_code', { fingerprint: normalized });
    return this.persistPaired(normalized, name);
  }

  /** Subscribes to additions and removals; returns the unsubscribe function. */
  onChange(listener: (change: TrustChange) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** Refusals so far, by reason (for security_events_total). */
  rejections(): Record<RejectionReason, number> {
    const reasons: RejectionReason[] = ['unknown_peer', 'window_closed', 'not_pending', 'wrong_code', 'too_many_pending', 'bad_fingerprint', 'bad_name', 'already_trusted'];
    return Object.fromEntries(reasons.map((r) => [r, this.counts.get(r) ?? 0])) as Record<RejectionReason, number>;
  }

  private async persistPaired(fingerprint: string, name: string | undefined): Promise<ConfirmResult> {
    return this.enqueue(async () => {
      if (this.paired.has(fingerprint)) return this.refuse('already_trusted', { fingerprint });
      const record: PairedRecord = { fingerprint, ...(name !== undefined ? { name } : {}), pairedAt: this.options.clock.now() };
      const next = new Map(this.paired).set(fingerprint, record);
      await writeTrustFile(this.stateDir, [...next.values()], this.options.fs);
      this.paired = next;
      const peer = this.lookup(fingerprint) ?? pairedPeer(record);
      this.options.log.info({ peerId: peer.peerId, fingerprint, name }, 'peer paired');
      if (peer.source === 'paired') this.emit({ type: 'added', peer });
      return { status: 'added', peer };
    });
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.writeQueue.then(task, task);
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  private refuse(reason: RejectionReason, details: Record<string, unknown>): { status: 'refused'; reason: RejectionReason } {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    this.options.log.warn({ ...details, reason }, 'peer refused');
    return { status: 'refused', reason };
  }

  private emit(change: TrustChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.options.log.error({ err: error, change: change.type }, 'trust change listener failed');
      }
    }
  }
}
