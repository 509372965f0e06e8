/**
 * One MQTT client link to one trusted neighbour's broker: pinned mutual TLS,
 * client id = our peer id, subscriptions to what the neighbour says to us,
 * reconnect with jittered exponential backoff and a cap (MC-1), no queued
 * publishes while away (MC-2), and the packet-size guard on the stream (MC-3).
 */
import { MqttClient, type IClientOptions, type Packet } from 'mqtt';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { X509Certificate } from 'node:crypto';
import { connectPinned } from '../identity/tls.js';
import { rawPublicKey } from '../identity/peer-id.js';
import { GuardedConnection } from '../../broker/packet-guard.js';
import { neighbourSubscriptions } from './topics.js';

export interface NeighbourEndpoint {
  peerId: string;
  fingerprint: string;
  host: string;
  port: number;
}

export type LinkState = 'connecting' | 'connected' | 'waiting' | 'stopped';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_LINK_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 30_000 };

export interface NeighbourLinkOptions {
  self: { peerId: string; keyPem: string; certPem: string };
  endpoint: NeighbourEndpoint;
  clock: Clock;
  log: Logger;
  onMessage: (topic: string, payload: Buffer, from: string) => void;
  /** The neighbour's raw Ed25519 key, once its broker's certificate matched the pin. */
  onKey?: (peerId: string, rawKey: Buffer) => void;
  onStateChange?: (state: LinkState, peerId: string) => void;
  backoff?: BackoffPolicy;
  keepaliveSeconds?: number;
  maxPacketBytes?: number;
  /** Uniform random in [0, 1) for the jitter; injectable for tests. */
  random?: () => number;
}

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with "equal jitter" (half fixed, half random). */
export function reconnectDelayMs(attempt: number, policy: BackoffPolicy, random: number): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** How long a stopping link waits for its DISCONNECT to go out before it drops the socket. */
const STOP_DISCONNECT_DEADLINE_MS = 2000;

/**
 * Ends a client on stop: a connected one sends DISCONNECT (the neighbour's broker sees a clean
 * leave, not a dropped connection), a dead or unresponsive one is dropped after `deadlineMs`
 * of real time, so a stop never waits on a neighbour.
 */
export function endClient(client: MqttClient, deadlineMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!client.connected) {
      client.end(true, {}, () => resolve());
      return;
    }
    const timer = setTimeout(() => {
      client.stream?.destroy();
      resolve();
    }, deadlineMs);
    client.end(false, {}, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Ends a client we no longer want, without its close handler (which would schedule a reconnect). */
export function discardClient(client: MqttClient | undefined): void {
  if (!client) return;
  client.removeAllListeners('close');
  client.end(true);
}

/** Reports the round-trip time of every keepalive PINGREQ/PINGRESP pair of `client`. */
export function trackPingRtt(client: MqttClient, clock: Clock, onRtt: (ms: number) => void): void {
  let sentAt: number | undefined;
  client.on('packetsend', (packet: Packet) => { if (packet.cmd === 'pingreq') sentAt = clock.now(); });
  client.on('packetreceive', (packet: Packet) => {
    if (packet.cmd === 'pingresp' && sentAt !== undefined) {
      onRtt(clock.now() - sentAt);
      sentAt = undefined;
    }
  });
}

export class NeighbourLink {
  private client: MqttClient | undefined;
  private timer: TimerHandle | undefined;
  private current: LinkState = 'waiting';
  private attempt = 0;
  private endpoint: NeighbourEndpoint;
  readonly peerId: string;
  connects = 0;
  lastConnectedAt: number | undefined;
  lastMessageAt: number | undefined;
  rttMs: number | undefined;
  lastError: string | undefined;

  constructor(private readonly options: NeighbourLinkOptions) {
    this.endpoint = options.endpoint;
    this.peerId = options.endpoint.peerId;
  }

  get state(): LinkState {
    return this.current;
  }

  get address(): { host: string; port: number } {
    return { host: this.endpoint.host, port: this.endpoint.port };
  }

  start(): void {
    if (this.current === 'stopped') throw new Error('a stopped link cannot restart; make a new one');
    if (!this.client && !this.timer) this.connect();
  }

  /** A new address (mDNS said the neighbour moved): reconnect there. The key pin stays. */
  moveTo(host: string, port: number): void {
    if (host === this.endpoint.host && port === this.endpoint.port) return;
    this.endpoint = { ...this.endpoint, host, port };
    if (this.current === 'stopped') return;
    this.dropClient();
    this.timer?.cancel();
    this.timer = undefined;
    this.attempt = 0;
    this.connect();
  }

  async stop(): Promise<void> {
    this.setState('stopped');
    this.timer?.cancel();
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) await endClient(client, STOP_DISCONNECT_DEADLINE_MS);
  }

  private setState(state: LinkState): void {
    if (this.current === state || this.current === 'stopped') return;
    this.current = state;
    this.options.onStateChange?.(state, this.peerId);
  }

  private connect(): void {
    const { self, clock, log } = this.options;
    const { host, port, fingerprint } = this.endpoint;
    this.setState('connecting');
    const maxPacketBytes = this.options.maxPacketBytes ?? 64 * 1024;
    const options: IClientOptions = {
      clientId: self.peerId,
      protocolVersion: 4,
      clean: true,
      keepalive: this.options.keepaliveSeconds ?? 5,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      queueQoSZero: false,
      resubscribe: false,
    };
    const client = new MqttClient(() => {
      const socket = connectPinned(self, { host, port, expectedFingerprint: fingerprint });
      socket.once('secureConnect', () => {
        // pinServer ran first (it was attached first): a live socket here has the pinned key.
        if (socket.destroyed) return;
        const cert = socket.getPeerCertificate(true);
        if (cert?.raw) this.options.onKey?.(this.peerId, rawPublicKey(new X509Certificate(cert.raw).publicKey));
      });
      return new GuardedConnection(socket, {
        maxPacketBytes,
        onViolation: (v) => log.warn({ peer: this.peerId, violation: v }, 'neighbour broker sent an oversized or malformed packet'),
      });
    }, options);
    this.client = client;
    let sessionBegan = false;
    let failed = false;
    client.on('connect', () => {
      if (this.client !== client) return;
      sessionBegan = true;
      this.attempt = 0;
      this.connects++;
      this.lastConnectedAt = clock.now();
      this.lastError = undefined;
      // Linked only once the neighbour has acknowledged every subscription, so nothing it says after that is missed.
      const topics = neighbourSubscriptions(this.peerId, self.peerId);
      let pending = topics.length;
      for (const topic of topics) {
        client.subscribe(topic, { qos: 1 }, (err) => {
          if (err) log.warn({ peer: this.peerId, topic, err: err.message }, 'neighbour refused a subscription');
          if (--pending === 0 && this.client === client) this.setState('connected');
        });
      }
    });
    client.on('message', (topic, payload) => {
      if (this.client !== client) return;
      this.lastMessageAt = clock.now();
      this.options.onMessage(topic, payload, this.peerId);
    });
    trackPingRtt(client, clock, (ms) => { this.rttMs = ms; });
    client.on('error', (err) => { failed = true; this.lastError = err.message; });
    client.on('close', () => {
      if (this.client !== client) return;
      // A broker that does not trust our key completes TLS (the client certificate is checked after the handshake) and then just closes.
      if (!sessionBegan && !failed) this.lastError = 'closed by the neighbour before the MQTT session began (does it trust this agent\'s key?)';
      this.dropClient();
      this.scheduleReconnect();
    });
  }

  private dropClient(): void {
    discardClient(this.client);
    this.client = undefined;
  }

  private scheduleReconnect(): void {
    if (this.current === 'stopped') return;
    this.setState('waiting');
    const delay = reconnectDelayMs(this.attempt++, this.options.backoff ?? DEFAULT_LINK_BACKOFF, (this.options.random ?? Math.random)());
    // The first failure of a streak at info, with its reason; the retries at debug.
    const level = this.attempt === 1 ? 'info' : 'debug';
    this.options.log[level]({ peer: this.peerId, delayMs: delay, error: this.lastError }, 'neighbour link down; reconnecting later');
    this.timer = this.options.clock.setTimer(() => {
      this.timer = undefined;
      if (this.current !== 'stopped') this.connect();
    }, delay);
  }
}
