/**
 * External-broker mode: ONE mqtt.js client to a shared MQTT cluster (Mosquitto, EMQX, ...).
 * Client id = our peer id, our identity certificate as client certificate, a retained
 * last will (offline, with our key), subscriptions to every status, every public message
 * and what is addressed to us; our own messages are published here under our own root.
 *
 * Like NeighbourLink: reconnect with jittered exponential backoff and a cap (MC-1), the
 * packet-size guard on the stream (MC-3), and bounded memory while the cluster is away
 * (MC-2): a publish while disconnected fails at once (ClusterUnavailableError) and is
 * counted, nothing is queued; in-flight publishes are capped and time out.
 */
import { MqttClient, type IClientOptions } from 'mqtt';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { GuardedConnection } from '../../broker/packet-guard.js';
import { connectCluster, parseClusterUrl, type ClusterAddress, type ClusterTlsOptions } from './external-tls.js';
import { DEFAULT_LINK_BACKOFF, discardClient, reconnectDelayMs, trackPingRtt, type BackoffPolicy, type LinkState } from './neighbour-link.js';
import { clusterSubscriptions, statusTopic } from './topics.js';

export interface ExternalBrokerOptions extends ClusterTlsOptions {
  /** Client key and certificate; default: the agent's own identity (the cluster maps its CN, the peer id, to the user name). */
  clientKeyPem?: string;
  certPem?: string;
  /**
   * Prepended (with '/') to every topic on the cluster, e.g. `community-a` gives
   * `community-a/tonari/v1/...`; stripped from incoming topics. No wildcards, no '$'.
   */
  topicPrefix?: string;
}

export class ClusterUnavailableError extends Error {
  readonly code = 'ERR_TONARI_CLUSTER_UNAVAILABLE';
  override readonly name = 'ClusterUnavailableError';
}

export interface ClusterStats {
  state: LinkState;
  address: ClusterAddress;
  connects: number;
  lastConnectedAt: number | undefined;
  lastError: string | undefined;
  rttMs: number | undefined;
  /** Publishes refused because the cluster was away or too many were in flight (never queued). */
  publishesDropped: number;
  /** Publishes the cluster never acknowledged in time, or that died with the connection. */
  publishesFailed: number;
  inflight: number;
}

export interface ClusterLinkOptions {
  external: ExternalBrokerOptions;
  self: { peerId: string; keyPem: string; certPem: string };
  clock: Clock;
  log: Logger;
  /** The retained status payloads: the online one published on every connect, the offline one as last will. */
  status: (state: 'online' | 'offline') => string;
  /** Topic with the prefix already removed. */
  onMessage: (topic: string, payload: Buffer) => void;
  onStateChange?: (state: LinkState) => void;
  backoff?: BackoffPolicy;
  keepaliveSeconds?: number;
  maxPacketBytes?: number;
  /** Cap on unacknowledged publishes; beyond it a publish fails at once. Default 100. */
  maxInflight?: number;
  /** How long a publish may wait for its PUBACK. Default 10 s. */
  publishTimeoutMs?: number;
  random?: () => number;
}

const PREFIX_PATTERN = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

export function checkTopicPrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '';
  if (!PREFIX_PATTERN.test(prefix)) throw new RangeError(`topicPrefix must be topic levels of [A-Za-z0-9_.-] without wildcards, '$' or empty levels, got ${prefix}`);
  return `${prefix}/`;
}

export class ClusterLink {
  private client: MqttClient | undefined;
  private timer: TimerHandle | undefined;
  private current: LinkState = 'waiting';
  private attempt = 0;
  private readonly prefix: string;
  readonly address: ClusterAddress;
  private readonly stats = { connects: 0, lastConnectedAt: undefined as number | undefined, lastError: undefined as string | undefined, rttMs: undefined as number | undefined, dropped: 0, failed: 0, inflight: 0 };

  constructor(private readonly options: ClusterLinkOptions) {
    this.address = parseClusterUrl(options.external);
    this.prefix = checkTopicPrefix(options.external.topicPrefix);
  }

  get state(): LinkState {
    return this.current;
  }

  snapshot(): ClusterStats {
    const s = this.stats;
    return {
      state: this.current, address: { ...this.address }, connects: s.connects, lastConnectedAt: s.lastConnectedAt, lastError: s.lastError,
      rttMs: s.rttMs, publishesDropped: s.dropped, publishesFailed: s.failed, inflight: s.inflight,
    };
  }

  start(): void {
    if (this.current === 'stopped') throw new Error('a stopped cluster link cannot restart; make a new one');
    if (!this.client && !this.timer) this.connect();
  }

  /**
   * Publishes under our root. Resolves on PUBACK (QoS 1) or once written (QoS 0).
   * Fails at once, and counts, while the cluster is away: nothing is queued.
   */
  publish(topic: string, payload: string | Uint8Array, options: { qos?: 0 | 1 | 2; retain?: boolean } = {}): Promise<void> {
    const client = this.client;
    const maxInflight = this.options.maxInflight ?? 100;
    if (!client || this.current !== 'connected' || !client.connected) {
      this.stats.dropped++;
      return Promise.reject(new ClusterUnavailableError(`cluster ${this.address.host}:${this.address.port} is ${this.current}; message not sent`));
    }
    if (this.stats.inflight >= maxInflight) {
      this.stats.dropped++;
      return Promise.reject(new ClusterUnavailableError(`${this.stats.inflight} publishes await the cluster's acknowledgement; message not sent`));
    }
    this.stats.inflight++;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        this.stats.inflight--;
        timer.cancel();
        if (error) {
          this.stats.failed++;
          reject(error);
        } else resolve();
      };
      const timer = this.options.clock.setTimer(() => settle(new ClusterUnavailableError('the cluster did not acknowledge the publish in time')), this.options.publishTimeoutMs ?? 10_000);
      client.publish(this.prefix + topic, typeof payload === 'string' ? payload : Buffer.from(payload), { qos: options.qos ?? 1, retain: options.retain ?? false }, (err) => settle(err ?? undefined));
    });
  }

  /** Subscribes one more topic (without prefix), e.g. a newly trusted peer's status to get its retained key. */
  subscribe(topic: string): void {
    this.client?.subscribe(this.prefix + topic, { qos: 1 }, (err) => {
      if (err) this.options.log.warn({ topic, err: err.message }, 'cluster refused a subscription');
    });
  }

  unsubscribe(topic: string): void {
    this.client?.unsubscribe(this.prefix + topic);
  }

  /** Announces offline (best effort, bounded), then disconnects cleanly (no will). */
  async stop(): Promise<void> {
    if (this.current === 'connected') {
      await Promise.race([
        this.publish(statusTopic(this.options.self.peerId), this.options.status('offline'), { qos: 1, retain: true }).catch(() => undefined),
        this.options.clock.sleep(2000),
      ]);
    }
    this.setState('stopped');
    this.timer?.cancel();
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('close');
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    }
  }

  private setState(state: LinkState): void {
    if (this.current === state || this.current === 'stopped') return;
    this.current = state;
    this.options.onStateChange?.(state);
  }

  private connect(): void {
    const { self, clock, log, external } = this.options;
    this.setState('connecting');
    const identity = { keyPem: external.clientKeyPem ?? self.keyPem, certPem: external.certPem ?? self.certPem };
    const maxPacketBytes = this.options.maxPacketBytes ?? 64 * 1024;
    const options: IClientOptions = {
      clientId: self.peerId,
      protocolVersion: 4,
      clean: true,
      keepalive: this.options.keepaliveSeconds ?? 30,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: this.prefix + statusTopic(self.peerId), payload: Buffer.from(this.options.status('offline')), qos: 1, retain: true },
    };
    const client = new MqttClient(() => {
      const socket = connectCluster(identity, this.address, external);
      return new GuardedConnection(socket, {
        maxPacketBytes,
        onViolation: (v) => log.warn({ violation: v }, 'cluster sent an oversized or malformed packet'),
      });
    }, options);
    this.client = client;
    client.on('connect', () => {
      if (this.client !== client) return;
      this.attempt = 0;
      this.stats.connects++;
      this.stats.lastConnectedAt = clock.now();
      this.stats.lastError = undefined;
      void this.subscribeAll(client);
    });
    client.on('message', (topic, payload) => {
      if (this.client !== client) return;
      if (!topic.startsWith(this.prefix)) return; // outside our prefix: not ours (a subscription never asked for it)
      this.options.onMessage(topic.slice(this.prefix.length), payload);
    });
    trackPingRtt(client, clock, (ms) => { this.stats.rttMs = ms; });
    client.on('error', (err) => { this.stats.lastError = err.message; });
    client.on('close', () => {
      if (this.client !== client) return;
      this.dropClient();
      this.scheduleReconnect();
    });
  }

  /** Status first (retained keys arrive before messages that need them), then the rest; then online. */
  private async subscribeAll(client: MqttClient): Promise<void> {
    const { self, log } = this.options;
    for (const topic of clusterSubscriptions(self.peerId)) {
      try {
        const granted = await client.subscribeAsync(this.prefix + topic, { qos: 1 });
        if (granted.some((g) => g.qos === 128)) log.warn({ topic }, 'cluster refused a subscription');
      } catch (err) {
        if (this.client !== client) return;
        log.warn({ topic, err: (err as Error).message }, 'cluster refused a subscription');
      }
      if (this.client !== client) return;
    }
    this.setState('connected');
    this.publish(statusTopic(self.peerId), this.options.status('online'), { qos: 1, retain: true })
      .catch((err: Error) => log.warn({ err: err.message }, 'could not announce online on the cluster'));
  }

  private dropClient(): void {
    discardClient(this.client);
    this.client = undefined;
  }

  private scheduleReconnect(): void {
    if (this.current === 'stopped') return;
    this.setState('waiting');
    const delay = reconnectDelayMs(this.attempt++, this.options.backoff ?? DEFAULT_LINK_BACKOFF, (this.options.random ?? Math.random)());
    this.options.log.info({ cluster: `${this.address.host}:${this.address.port}`, delayMs: delay, error: this.stats.lastError }, 'cluster connection down; reconnecting later');
    this.timer = this.options.clock.setTimer(() => {
      this.timer = undefined;
      if (this.current !== 'stopped') this.connect();
    }, delay);
  }
}
