/**
 * The mesh, in one of two transports:
 *
 * - embedded (default): one link per trusted neighbour's broker, our own messages
 *   published on our own broker (`outbox`); keys come from the pinned TLS certificates;
 * - external (`external`): ONE client to a shared MQTT cluster, which is also the outbox;
 *   keys come from the retained status topics (self-certifying: peerIdOf(key) = owner and
 *   fingerprint trusted); consider()/forget() are trust decisions only.
 *
 * Either way every incoming message is opened (size, schema, recipient, topic, trust,
 * signature, time, replay, rate) before any handler sees it. Rejections only count; they
 * change nothing else.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { AgentIdentity } from '../identity/key-store.js';
import { fingerprintOf, peerIdFromFingerprint, peerIdOf } from '../identity/peer-id.js';
import type { TrustStore } from '../identity/trust-store.js';
import { openEnvelope, sealEnvelope } from './envelope.js';
import type { Envelope } from './envelope-schema.js';
import { NeighbourLink, type LinkState, type NeighbourEndpoint } from './neighbour-link.js';
import { RateLimiter } from './rate-limit.js';
import { Rejections } from './rejections.js';
import type { ReplayStore } from './replay-store.js';
import type { SequenceAllocator } from './sequence.js';
import { ClusterLink, type ClusterStats, type ExternalBrokerOptions } from './external-link.js';
import { decodeStatus, directTopic, encodeStatus, parseTopic, publicTopic, statusTopic, type StatusState } from './topics.js';

export type { ExternalBrokerOptions } from './external-link.js';
export { ClusterUnavailableError } from './external-link.js';

/** Where our own messages go: our embedded broker (in-process) or a shared cluster. */
export interface Outbox {
  publish(topic: string, payload: string | Uint8Array, options?: { qos?: 0 | 1 | 2; retain?: boolean }): Promise<void>;
}

export interface MeshOptions {
  identity: AgentIdentity;
  trust: TrustStore;
  /** Where our messages go in embedded mode (the embedded broker). Required unless `external` is given; ignored with it. */
  outbox?: Outbox;
  /** External-broker mode: every message goes through this one shared cluster; no links, no embedded broker. */
  external?: ExternalBrokerOptions;
  replay: ReplayStore;
  sequence: SequenceAllocator;
  clock: Clock;
  log: Logger;
  /** Hook for tests and the broker: called when a peer stops being trusted. */
  onUntrusted?: (peerId: string) => void;
  /** A key we do not trust announced itself on the cluster (external mode): a pairing candidate. */
  onUnknownPeer?: (fingerprint: string, peerId: string) => void;
  /** Link tuning; in external mode it applies to the cluster connection. */
  linkOptions?: { keepaliveSeconds?: number; backoff?: { initialMs: number; maxMs: number }; maxPacketBytes?: number };
  rate?: { ratePerSecond?: number; burst?: number };
}

/** `via`: the neighbour whose link delivered the message, or 'cluster' in external mode. */
export type EnvelopeHandler = (envelope: Envelope, via: string) => void;

export interface PeerStatus {
  peerId: string;
  name?: string;
  fingerprint: string;
  state: LinkState;
  address: { host: string; port: number };
  lastSeen: number | undefined;
  rttMs: number | undefined;
  online: boolean | undefined;
  rejections: Record<string, number>;
  /** How we hear the peer: our link to its broker, or the shared cluster (external mode). */
  transport?: 'link' | 'cluster';
}

/** Untrusted keys remembered per fingerprint, at most this many (a hostile cluster could invent keys without end). */
export const MAX_UNTRUSTED_CANDIDATES = 1024;

export class Mesh {
  private readonly links = new Map<string, NeighbourLink>();
  private readonly keys = new Map<string, Buffer>();
  private readonly online = new Map<string, boolean>();
  /** External mode: when a trusted peer was last heard on the cluster (status or accepted message). */
  private readonly seen = new Map<string, number>();
  /** External mode: statuses subscribed one by one for peers trusted after we connected. */
  private readonly refreshed = new Set<string>();
  private readonly cluster: ClusterLink | undefined;
  private readonly outbox: Outbox;
  private readonly handlers = new Set<EnvelopeHandler>();
  private readonly rate: RateLimiter;
  private readonly unsubscribeTrust: () => void;
  readonly rejections = new Rejections();
  /** Candidates refused because their key is not trusted, by fingerprint. */
  readonly untrustedCandidates = new Map<string, number>();

  constructor(private readonly options: MeshOptions) {
    this.rate = new RateLimiter(options.clock, options.rate ?? {});
    this.keys.set(options.identity.peerId, options.identity.rawPublicKey);
    if (options.external) {
      const { identity, clock, log, linkOptions } = options;
      this.cluster = new ClusterLink({
        external: options.external,
        self: identity, clock, log: log.child({ mod: 'cluster' }),
        ...(linkOptions?.backoff ? { backoff: linkOptions.backoff } : {}),
        ...(linkOptions?.keepaliveSeconds !== undefined ? { keepaliveSeconds: linkOptions.keepaliveSeconds } : {}),
        ...(linkOptions?.maxPacketBytes !== undefined ? { maxPacketBytes: linkOptions.maxPacketBytes } : {}),
        status: (state) => this.statusPayload(state),
        onMessage: (topic, payload) => { void this.receive(topic, payload, undefined); },
        onStateChange: (state) => log.info({ state }, state === 'connected' ? 'cluster connected' : 'cluster connection state'),
      });
      this.outbox = this.cluster;
    } else {
      if (!options.outbox) throw new TypeError('Mesh needs an outbox (embedded broker) or external broker options');
      this.outbox = options.outbox;
    }
    this.unsubscribeTrust = options.trust.onChange((change) => {
      if (change.type === 'removed') void this.forget(change.peer.peerId, 'trust removed');
      else if (this.cluster && !this.keys.has(change.peer.peerId)) this.refreshStatus(change.peer.peerId);
    });
  }

  /** 'external' when talking through a shared cluster, 'embedded' otherwise. */
  get mode(): 'embedded' | 'external' {
    return this.cluster ? 'external' : 'embedded';
  }

  /** The cluster connection (external mode), undefined in embedded mode. */
  clusterStatus(): ClusterStats | undefined {
    return this.cluster?.snapshot();
  }

  /** Our retained status payload (also what an embedded broker should publish as offline on shutdown). */
  statusPayload(state: StatusState): string {
    return encodeStatus(state, this.options.identity.rawPublicKey, this.options.clock.now());
  }

  get self(): string {
    return this.options.identity.peerId;
  }

  /** The raw key of a peer whose key we hold and trust (and our own), for objects signed outside envelopes. */
  keyOf(peerId: string): Buffer | undefined {
    return this.keys.get(peerId);
  }

  onEnvelope(handler: EnvelopeHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /**
   * Embedded: announces us as online (retained) on our broker; its shutdown path announces offline.
   * External: starts the cluster connection and returns at once; it announces online (retained)
   * on every connect, sets the offline last will, and announces offline in stop().
   */
  async start(): Promise<void> {
    if (this.cluster) {
      this.cluster.start();
      return;
    }
    await this.outbox.publish(statusTopic(this.self), this.statusPayload('online'), { qos: 1, retain: true });
  }

  /**
   * A neighbour we might link to (from mDNS, or static configuration). Only a
   * trusted key whose peer id matches gets a link: mDNS data are hints.
   */
  consider(endpoint: NeighbourEndpoint): 'linked' | 'moved' | 'already' | 'untrusted' | 'self' {
    if (endpoint.peerId === this.self) return 'self';
    const trusted = this.options.trust.lookup(endpoint.fingerprint);
    if (!trusted || peerIdFromFingerprint(endpoint.fingerprint) !== endpoint.peerId) {
      this.noteUntrusted(endpoint.fingerprint);
      this.rejections.count('unknown_peer', undefined);
      return 'untrusted';
    }
    if (this.cluster) {
      // External mode: trusted peers are all reached through the cluster; no link to make.
      if (!this.keys.has(endpoint.peerId)) this.refreshStatus(endpoint.peerId);
      return 'already';
    }
    const existing = this.links.get(endpoint.peerId);
    if (existing) {
      const { host, port } = existing.address;
      if (host === endpoint.host && port === endpoint.port) return 'already';
      existing.moveTo(endpoint.host, endpoint.port);
      return 'moved';
    }
    const { clock, log, identity } = this.options;
    const link = new NeighbourLink({
      self: identity, endpoint, clock, log: log.child({ peer: endpoint.peerId }),
      ...this.options.linkOptions,
      onKey: (peerId, rawKey) => {
        if (fingerprintOf(rawKey) === endpoint.fingerprint) this.keys.set(peerId, rawKey);
      },
      onMessage: (topic, payload, from) => { void this.receive(topic, payload, from); },
      onStateChange: (state, peerId) => log.info({ peer: peerId, state }, state === 'connected' ? 'neighbour linked' : 'neighbour link state'),
    });
    this.links.set(endpoint.peerId, link);
    link.start();
    return 'linked';
  }

  /** Drops a neighbour's link (lost, or no longer trusted). */
  async forget(peerId: string, why: string): Promise<void> {
    if (this.cluster) return this.forgetOnCluster(peerId, why);
    const link = this.links.get(peerId);
    if (!link) return;
    this.links.delete(peerId);
    this.keys.delete(peerId);
    this.options.log.info({ peer: peerId, why }, 'neighbour link closed');
    this.options.onUntrusted?.(peerId);
    await link.stop();
  }

  /** Signs and publishes a message for every neighbour. */
  async publish(type: string, body: Record<string, unknown>): Promise<Envelope> {
    const sealed = sealEnvelope({ type, body }, this.signer(), this.options.clock);
    await this.outbox.publish(publicTopic(this.self, type), sealed.bytes, { qos: 1 });
    return sealed.envelope;
  }

  /** Signs and publishes a message addressed to one neighbour. */
  async send(to: string, type: string, body: Record<string, unknown>): Promise<Envelope> {
    const sealed = sealEnvelope({ type, to, body }, this.signer(), this.options.clock);
    await this.outbox.publish(directTopic(this.self, to, type), sealed.bytes, { qos: 1 });
    return sealed.envelope;
  }

  peers(): PeerStatus[] {
    const rejections = this.rejections.snapshot();
    if (this.cluster) return this.clusterPeers(this.cluster, rejections.byPeer);
    return [...this.links.values()].map((link) => {
      const trusted = this.options.trust.list().find((p) => p.peerId === link.peerId);
      const status: PeerStatus = {
        peerId: link.peerId,
        fingerprint: trusted?.fingerprint ?? '',
        state: link.state,
        address: link.address,
        lastSeen: link.lastMessageAt ?? link.lastConnectedAt,
        rttMs: link.rttMs,
        online: this.online.get(link.peerId),
        rejections: rejections.byPeer[link.peerId] ?? {},
      };
      if (trusted?.name !== undefined) status.name = trusted.name;
      status.transport = 'link';
      return status;
    });
  }

  async stop(): Promise<void> {
    this.unsubscribeTrust();
    await this.cluster?.stop();
    await Promise.all([...this.links.values()].map((l) => l.stop()));
    this.links.clear();
  }

  private signer() {
    const { identity, sequence } = this.options;
    return { peerId: identity.peerId, privateKey: identity.privateKey, nextSeq: () => sequence.nextSeq() };
  }

  /** Counts a refused candidate key, remembering at most MAX_UNTRUSTED_CANDIDATES distinct keys. */
  private noteUntrusted(fingerprint: string): void {
    const count = this.untrustedCandidates.get(fingerprint);
    if (count === undefined && this.untrustedCandidates.size >= MAX_UNTRUSTED_CANDIDATES) return;
    this.untrustedCandidates.set(fingerprint, (count ?? 0) + 1);
  }

  /** External mode: asks the cluster again for one peer's retained status (it carries the key we lack). */
  private refreshStatus(peerId: string): void {
    if (!this.cluster || this.refreshed.has(peerId)) return;
    this.refreshed.add(peerId);
    this.cluster.subscribe(statusTopic(peerId));
  }

  private async forgetOnCluster(peerId: string, why: string): Promise<void> {
    const known = this.keys.delete(peerId);
    this.online.delete(peerId);
    this.seen.delete(peerId);
    if (this.refreshed.delete(peerId)) this.cluster?.unsubscribe(statusTopic(peerId));
    if (!known) return;
    this.options.log.info({ peer: peerId, why }, 'neighbour forgotten on the cluster');
    this.options.onUntrusted?.(peerId);
  }

  private clusterPeers(cluster: ClusterLink, byPeer: Record<string, Record<string, number>>): PeerStatus[] {
    const stats = cluster.snapshot();
    return this.options.trust.list()
      .filter((peer) => peer.peerId !== this.self)
      .map((peer) => {
        const online = this.online.get(peer.peerId);
        const status: PeerStatus = {
          peerId: peer.peerId,
          fingerprint: peer.fingerprint,
          // Connected means: we are on the cluster, the peer says it is, and we hold its key.
          state: stats.state === 'connected' && online === true && this.keys.has(peer.peerId) ? 'connected' : stats.state === 'stopped' ? 'stopped' : 'waiting',
          address: { ...stats.address },
          lastSeen: this.seen.get(peer.peerId),
          rttMs: stats.rttMs,
          online,
          rejections: byPeer[peer.peerId] ?? {},
          transport: 'cluster',
        };
        if (peer.name !== undefined) status.name = peer.name;
        return status;
      });
  }

  /** External mode: a retained status from the cluster, the only place a peer's key comes from there. */
  private receiveClusterStatus(owner: string, payload: Buffer): void {
    if (owner === this.self) return;
    const status = decodeStatus(payload);
    if (!status?.key || peerIdOf(status.key) !== owner) {
      this.options.log.debug({ owner }, 'cluster status without a self-certifying key ignored');
      return;
    }
    const fingerprint = fingerprintOf(status.key);
    if (!this.options.trust.lookup(fingerprint)) {
      this.noteUntrusted(fingerprint);
      this.options.onUnknownPeer?.(fingerprint, owner);
      return;
    }
    const isNew = !this.keys.has(owner);
    this.keys.set(owner, status.key);
    this.online.set(owner, status.state === 'online');
    this.seen.set(owner, this.options.clock.now());
    if (this.refreshed.delete(owner)) this.cluster?.unsubscribe(statusTopic(owner));
    if (isNew) this.options.log.info({ peer: owner, state: status.state }, 'neighbour key learned from the cluster');
  }

  private async receive(topic: string, payload: Buffer, via: string | undefined): Promise<void> {
    const parsed = parseTopic(topic);
    if (parsed?.scope === 'status') {
      if (via === undefined) this.receiveClusterStatus(parsed.owner, payload);
      // Embedded: a liveness hint (possibly a last will) from the link's own broker; never trusted for anything else.
      else if (parsed.owner === via) this.online.set(via, decodeStatus(payload)?.state === 'online');
      return;
    }
    const result = openEnvelope(payload, {
      self: this.self,
      resolveKey: (peerId) => this.keys.get(peerId),
      clock: this.options.clock,
      replay: this.options.replay,
      rate: this.rate,
      rejections: this.rejections,
      topic,
      source: via,
      log: this.options.log,
    });
    if (!result.ok) {
      this.options.log.debug({ peer: via, reason: result.reason, detail: result.detail }, 'message rejected');
      return;
    }
    // The replay record must be durable before anything acts on the message.
    if (result.dirty) await this.options.replay.flush();
    if (via === undefined) this.seen.set(result.envelope.from, this.options.clock.now());
    for (const handler of this.handlers) {
      try {
        handler(result.envelope, via ?? 'cluster');
      } catch (err) {
        this.options.log.error({ err, peer: via, type: result.envelope.type }, 'message handler failed');
      }
    }
  }
}
