/**
 * The mesh: one link per trusted neighbour, our own messages sealed and
 * published on our own broker, and every incoming message opened (size,
 * schema, recipient, topic, trust, signature, time, replay, rate) before any
 * handler sees it. Rejections only count; they change nothing else.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { AgentIdentity } from '../identity/key-store.js';
import { fingerprintOf, peerIdFromFingerprint } from '../identity/peer-id.js';
import type { TrustStore } from '../identity/trust-store.js';
import { openEnvelope, sealEnvelope } from './envelope.js';
import type { Envelope } from './envelope-schema.js';
import { NeighbourLink, type LinkState, type NeighbourEndpoint } from './neighbour-link.js';
import { RateLimiter } from './rate-limit.js';
import { Rejections } from './rejections.js';
import type { ReplayStore } from './replay-store.js';
import type { SequenceAllocator } from './sequence.js';
import { directTopic, parseTopic, publicTopic, statusTopic } from './topics.js';

/** Where our own messages go: our embedded broker (in-process) or a shared cluster. */
export interface Outbox {
  publish(topic: string, payload: string | Uint8Array, options?: { qos?: 0 | 1 | 2; retain?: boolean }): Promise<void>;
}

export interface MeshOptions {
  identity: AgentIdentity;
  trust: TrustStore;
  outbox: Outbox;
  replay: ReplayStore;
  sequence: SequenceAllocator;
  clock: Clock;
  log: Logger;
  /** Hook for tests and the broker: called when a peer stops being trusted. */
  onUntrusted?: (peerId: string) => void;
  linkOptions?: { keepaliveSeconds?: number; backoff?: { initialMs: number; maxMs: number }; maxPacketBytes?: number };
  rate?: { ratePerSecond?: number; burst?: number };
}

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
}

export class Mesh {
  private readonly links = new Map<string, NeighbourLink>();
  private readonly keys = new Map<string, Buffer>();
  private readonly online = new Map<string, boolean>();
  private readonly handlers = new Set<EnvelopeHandler>();
  private readonly rate: RateLimiter;
  private readonly unsubscribeTrust: () => void;
  readonly rejections = new Rejections();
  /** Candidates refused because their key is not trusted, by fingerprint. */
  readonly untrustedCandidates = new Map<string, number>();

  constructor(private readonly options: MeshOptions) {
    this.rate = new RateLimiter(options.clock, options.rate ?? {});
    this.keys.set(options.identity.peerId, options.identity.rawPublicKey);
    this.unsubscribeTrust = options.trust.onChange((change) => {
      if (change.type === 'removed') void this.forget(change.peer.peerId, 'trust removed');
    });
  }

  get self(): string {
    return this.options.identity.peerId;
  }

  onEnvelope(handler: EnvelopeHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Announces us as online (retained); the broker's own shutdown path announces offline. */
  async start(): Promise<void> {
    await this.options.outbox.publish(statusTopic(this.self), JSON.stringify({ state: 'online', at: this.options.clock.now() }), { qos: 1, retain: true });
  }

  /**
   * A neighbour we might link to (from mDNS, or static configuration). Only a
   * trusted key whose peer id matches gets a link: mDNS data are hints.
   */
  consider(endpoint: NeighbourEndpoint): 'linked' | 'moved' | 'already' | 'untrusted' | 'self' {
    if (endpoint.peerId === this.self) return 'self';
    const trusted = this.options.trust.lookup(endpoint.fingerprint);
    if (!trusted || peerIdFromFingerprint(endpoint.fingerprint) !== endpoint.peerId) {
      this.untrustedCandidates.set(endpoint.fingerprint, (this.untrustedCandidates.get(endpoint.fingerprint) ?? 0) + 1);
      this.rejections.count('unknown_peer', undefined);
      return 'untrusted';
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
    await this.options.outbox.publish(publicTopic(this.self, type), sealed.bytes, { qos: 1 });
    return sealed.envelope;
  }

  /** Signs and publishes a message addressed to one neighbour. */
  async send(to: string, type: string, body: Record<string, unknown>): Promise<Envelope> {
    const sealed = sealEnvelope({ type, to, body }, this.signer(), this.options.clock);
    await this.options.outbox.publish(directTopic(this.self, to, type), sealed.bytes, { qos: 1 });
    return sealed.envelope;
  }

  peers(): PeerStatus[] {
    const rejections = this.rejections.snapshot();
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
      return status;
    });
  }

  async stop(): Promise<void> {
    this.unsubscribeTrust();
    await Promise.all([...this.links.values()].map((l) => l.stop()));
    this.links.clear();
  }

  private signer() {
    const { identity, sequence } = this.options;
    return { peerId: identity.peerId, privateKey: identity.privateKey, nextSeq: () => sequence.nextSeq() };
  }

  private async receive(topic: string, payload: Buffer, via: string): Promise<void> {
    const parsed = parseTopic(topic);
    if (parsed?.scope === 'status') {
      // A liveness hint (possibly a last will); never trusted for anything else.
      if (parsed.owner === via) this.online.set(via, payload.toString('utf8').includes('"online"'));
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
    for (const handler of this.handlers) {
      try {
        handler(result.envelope, via);
      } catch (err) {
        this.options.log.error({ err, peer: via, type: result.envelope.type }, 'message handler failed');
      }
    }
  }
}
