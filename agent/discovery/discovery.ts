/**
 * LAN discovery of neighbour agents over mDNS (bonjour-service 1.4.4).
 *
 * Advertises `_tonari._tcp` with instance name = peer id, browses for the
 * others and reports candidates. It must never take the agent down: bind
 * failures are retried with backoff, every callback is guarded, and
 * bonjour-service's throwing defaults are replaced (security.md F4, MD-1, MD-2).
 *
 * Liveness: bonjour-service never expires a SIGKILLed peer (PTR TTL 8 h), so
 * every `sweepIntervalMs` we multicast a PTR query and track when each peer
 * last answered (any response counts, including answers to other hosts'
 * queries); a peer silent for `lostAfterMs` is lost. Goodbyes are immediate.
 */
import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import type { RemoteInfo } from 'node:dgram';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { silentLogger, type Logger } from '../core/log.js';
import { backoffDelay } from './backoff.js';
import { RepeatFilter } from './repeat-filter.js';
import { openBonjour, type MdnsStack, type MdnsStackOptions } from './mdns-adapter.js';
import { parseResponse, type DnsPacket } from './packet.js';
import { PeerTable, type TableEvent } from './peer-table.js';
import { QuestionLimiter, isOnLink, type LocalInterfaceAddress, type Question, type QuestionLimiterOptions } from './responder-guard.js';
import { assertValidSelf, SERVICE_FQDN } from './txt.js';
import { Advertiser } from './advertiser.js';
import { classifyObservation } from './classify.js';
import { zeroCounters, type DiscoveryCounters, type IdentityConflict, type LostReason, type PeerCandidate, type SelfAdvert } from './types.js';

export type DiscoveryState = 'stopped' | 'binding' | 'ready' | 'retrying';

export interface DiscoveryEvents {
  peerSeen: [peer: PeerCandidate];
  peerUpdated: [peer: PeerCandidate, previous: PeerCandidate];
  peerLost: [peerId: string, reason: LostReason];
  peerConflict: [conflict: IdentityConflict];
  /** Our advert got no 'up' in time: another responder holds our instance name. */
  nameConflict: [instance: string];
  state: [state: DiscoveryState];
}

export interface DiscoveryOptions {
  /** What to advertise; omit to browse only. */
  self?: SelfAdvert;
  clock?: Clock;
  log?: Logger;
  /** Period of the PTR re-query. Default 2000 ms. */
  sweepIntervalMs?: number;
  /** A peer that has not answered for this long is lost. Default 6500 ms. */
  lostAfterMs?: number;
  /** No 'up' within this long after publishing is treated as a name conflict. Default 2000 ms. */
  upTimeoutMs?: number;
  /** Retry publishing after a name conflict after this long. Default 30 s. */
  republishAfterConflictMs?: number;
  /** Backoff for re-binding UDP 5353. Default 1 s doubling to 30 s. */
  bindRetry?: { initialMs?: number; maxMs?: number };
  /** Bound on waiting for goodbyes and socket close in stop(). Default 1000 ms. */
  stopTimeoutMs?: number;
  /** Same conflict / malformed advert / warning is logged and emitted at most once per this long. Default 30 s. */
  repeatQuietMs?: number;
  responder?: QuestionLimiterOptions;
  /** mDNS UDP port (tests only). */
  port?: number;
  /** Local addresses, for the on-link check and for noticing address changes. */
  localInterfaces?: () => LocalInterfaceAddress[];
  /** Opens the mDNS stack (tests inject a fake). */
  openStack?: (options: MdnsStackOptions) => MdnsStack;
}

interface Session {
  stack: MdnsStack;
  ready: boolean;
  advertiser?: Advertiser;
}

type Listener = (...args: unknown[]) => void;

function systemInterfaces(): LocalInterfaceAddress[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => ({ address: i.address, family: i.family, netmask: i.netmask, internal: i.internal })));
}

function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err) return String((err as { code: unknown }).code);
  return 'unknown';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Discovery extends EventEmitter<DiscoveryEvents> {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly self: SelfAdvert | undefined;
  private readonly sweepIntervalMs: number;
  private readonly upTimeoutMs: number;
  private readonly republishAfterConflictMs: number;
  private readonly bindRetryInitialMs: number;
  private readonly bindRetryMaxMs: number;
  private readonly stopTimeoutMs: number;
  private readonly openStack: (options: MdnsStackOptions) => MdnsStack;
  private readonly localInterfaces: () => LocalInterfaceAddress[];
  private readonly port: number | undefined;
  private readonly table: PeerTable;
  private readonly limiter: QuestionLimiter;
  private readonly count: DiscoveryCounters = zeroCounters();
  private readonly repeats: RepeatFilter;
  private session: Session | undefined;
  private bindAttempt = 0;
  private retryTimer: TimerHandle | undefined;
  private sweepTimer: TimerHandle | undefined;
  private ifaceCache: { at: number; list: LocalInterfaceAddress[] } | undefined;
  private current: DiscoveryState = 'stopped';

  constructor(options: DiscoveryOptions = {}) {
    super();
    if (options.self) assertValidSelf(options.self);
    this.self = options.self ? { ...options.self, host: options.self.host ?? `${options.self.peerId}.local` } : undefined;
    this.clock = options.clock ?? systemClock;
    this.log = (options.log ?? silentLogger()).child({ mod: 'discovery' });
    this.sweepIntervalMs = options.sweepIntervalMs ?? 2000;
    this.upTimeoutMs = options.upTimeoutMs ?? 2000;
    this.republishAfterConflictMs = options.republishAfterConflictMs ?? 30_000;
    this.bindRetryInitialMs = options.bindRetry?.initialMs ?? 1000;
    this.bindRetryMaxMs = options.bindRetry?.maxMs ?? 30_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 1000;
    this.repeats = new RepeatFilter(options.repeatQuietMs ?? 30_000);
    this.openStack = options.openStack ?? openBonjour;
    this.localInterfaces = options.localInterfaces ?? systemInterfaces;
    this.port = options.port;
    this.table = new PeerTable(options.lostAfterMs ?? 6500);
    this.limiter = new QuestionLimiter(options.responder);
  }

  get state(): DiscoveryState {
    return this.current;
  }

  /** Currently visible neighbours (candidates only). */
  peers(): PeerCandidate[] {
    return this.table.list();
  }

  counters(): DiscoveryCounters {
    return { ...this.count };
  }

  /** Starts binding; never throws for network trouble, which is retried in the background. */
  start(): void {
    if (this.current !== 'stopped') return;
    this.openSession();
  }

  /** Sends goodbyes (if published), closes the socket and forgets all peers. */
  async stop(): Promise<void> {
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
    const session = this.session;
    this.session = undefined;
    this.setState('stopped');
    if (session) {
      this.cancelSessionTimers(session);
      if (session.ready && session.advertiser?.published) {
        await this.bounded((done) => session.stack.unpublishAll(done));
      }
      await this.bounded((done) => session.stack.destroy(done));
    }
    this.table.clear();
  }

  // ---- session (one bonjour-service instance per bind attempt) ----

  private openSession(): void {
    this.setState('binding');
    let stack: MdnsStack;
    try {
      stack = this.openStack({ ...(this.port !== undefined ? { port: this.port } : {}), onError: (err) => this.onSendError(err) });
    } catch (err) {
      this.bindFailed(undefined, err);
      return;
    }
    const session: Session = { stack, ready: false };
    this.session = session;
    const { mdns } = stack;
    mdns.on('error', (err: unknown) => this.guard(() => this.bindFailed(session, err)));
    mdns.on('warning', (err: unknown) => this.guard(() => this.onWarning(err)));
    mdns.once('ready', () => this.guard(() => this.onReady(session)));
    mdns.on('response', (packet: DnsPacket, rinfo: RemoteInfo) => this.guard(() => this.onResponse(packet, rinfo)));
    this.guardQueries(session);
  }

  private bindFailed(session: Session | undefined, err: unknown): void {
    if (session && session !== this.session) return;
    this.count.bindFailures++;
    const retryInMs = backoffDelay(this.bindAttempt++, this.bindRetryInitialMs, this.bindRetryMaxMs);
    this.log.error({ code: errorCode(err), err: errorMessage(err), retryInMs, attempt: this.bindAttempt }, 'mdns_bind_failed');
    if (session) {
      this.session = undefined;
      this.cancelSessionTimers(session);
      this.sweepTimer?.cancel();
      this.sweepTimer = undefined;
      try {
        session.stack.destroy(() => undefined);
      } catch (closeErr) {
        this.log.debug({ err: errorMessage(closeErr) }, 'mdns_close_failed');
      }
    }
    this.setState('retrying');
    this.retryTimer = this.clock.setTimer(() => {
      this.retryTimer = undefined;
      if (this.current === 'retrying') this.guard(() => this.openSession());
    }, retryInMs);
  }

  private onReady(session: Session): void {
    if (session !== this.session) return;
    session.ready = true;
    if (this.bindAttempt > 0) this.log.info({ attempts: this.bindAttempt }, 'mdns_bind_recovered');
    this.bindAttempt = 0;
    // We were deaf while unbound: give known peers a fresh grace period.
    for (const peer of this.table.list()) this.table.touch(peer.peerId, this.clock.now());
    this.setState('ready');
    if (this.self) {
      session.advertiser = new Advertiser({
        stack: session.stack, self: { ...this.self, host: this.self.host ?? `${this.self.peerId}.local` }, clock: this.clock, log: this.log,
        upTimeoutMs: this.upTimeoutMs, republishAfterConflictMs: this.republishAfterConflictMs,
        addressKey: () => this.addressKey(),
        onNameConflict: (instance) => {
          this.count.nameConflicts++;
          this.safeEmit('nameConflict', instance);
        },
        onRepublish: () => { this.count.republishes++; },
        guard: (fn) => this.guard(fn),
      });
      session.advertiser.publish();
    }
    this.sweep();
  }

  /** Puts bonjour-service's responder behind the on-link check and the rate limit (MD-3, MD-4). */
  private guardQueries(session: Session): void {
    const { mdns } = session.stack;
    const originals = mdns.listeners('query') as Listener[];
    for (const listener of originals) mdns.removeListener('query', listener);
    mdns.on('query', (packet: { questions?: Question[] }, rinfo: RemoteInfo) => this.guard(() => {
      this.count.queriesSeen++;
      if (!this.onLink(rinfo.address)) {
        this.count.offLink++;
        return;
      }
      const questions = Array.isArray(packet.questions) ? packet.questions : [];
      const { admitted, dropped } = this.limiter.admit(questions, this.clock.now());
      this.count.questionsDropped += dropped;
      if (admitted.length === 0) return;
      const limited = { ...packet, questions: admitted };
      for (const listener of originals) listener.call(mdns, limited, rinfo);
    }));
  }

  private addressKey(): string {
    return this.interfaces().filter((i) => i.internal !== true).map((i) => i.address).sort().join(',');
  }

  // ---- browsing and liveness ----

  private sweep(): void {
    const session = this.session;
    if (!session?.ready) return;
    session.stack.mdns.query({ questions: [{ name: SERVICE_FQDN, type: 'PTR' }] }, (err) => {
      if (err) this.onSendError(err);
    });
    this.emitAll(this.table.expire(this.clock.now()));
    session.advertiser?.checkAddresses();
    this.sweepTimer = this.clock.setTimer(() => this.guard(() => this.sweep()), this.sweepIntervalMs);
  }

  private onResponse(packet: DnsPacket, rinfo: RemoteInfo): void {
    this.count.responsesSeen++;
    if (!this.onLink(rinfo.address)) {
      this.count.offLink++;
      return;
    }
    const now = this.clock.now();
    for (const obs of parseResponse(packet, SERVICE_FQDN)) {
      const verdict = classifyObservation(obs, rinfo.address, this.self, (id) => this.table.get(id)?.fingerprint);
      switch (verdict.action) {
        case 'goodbye':
          this.emitAll(this.table.goodbye(verdict.peerId));
          break;
        case 'touch':
          this.table.touch(verdict.peerId, now);
          break;
        case 'own':
          this.count.own++;
          break;
        case 'conflict':
          this.conflict(verdict.conflict);
          break;
        case 'malformed':
          this.count.malformed++;
          if (this.firstInWhile(`malformed|${obs.instance}|${verdict.reason}|${rinfo.address}`)) {
            this.log.debug({ instance: obs.instance, reason: verdict.reason, source: rinfo.address }, 'mdns_advert_malformed');
          }
          break;
        case 'observe':
          this.emitAll(this.table.observe(verdict.advert, obs.addresses, rinfo.address, now));
          break;
      }
    }
  }

  private emitAll(events: TableEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'seen':
          this.log.info({ peerId: event.peer.peerId, addresses: event.peer.addresses, port: event.peer.port, zone: event.peer.zone }, 'peer_seen');
          this.safeEmit('peerSeen', event.peer);
          break;
        case 'updated':
          this.log.info({ peerId: event.peer.peerId, addresses: event.peer.addresses, port: event.peer.port, zone: event.peer.zone }, 'peer_updated');
          this.safeEmit('peerUpdated', event.peer, event.previous);
          break;
        case 'lost':
          this.log.info({ peerId: event.peerId, reason: event.reason }, 'peer_lost');
          this.safeEmit('peerLost', event.peerId, event.reason);
          break;
        case 'conflict':
          this.conflict(event.conflict);
          break;
      }
    }
  }

  private conflict(conflict: IdentityConflict): void {
    this.count.conflicts++;
    if (!this.firstInWhile(`conflict|${conflict.kind}|${conflict.peerId}|${conflict.claimedFingerprint}|${conflict.source}`)) return;
    this.log.warn({ ...conflict }, 'peer_identity_conflict');
    this.safeEmit('peerConflict', conflict);
  }

  // ---- errors, helpers ----

  private onWarning(err: unknown): void {
    this.count.warnings++;
    const code = errorCode(err);
    if (this.firstInWhile(`warning|${code}`)) this.log.warn({ code, err: errorMessage(err) }, 'mdns_warning');
  }

  private onSendError(err: unknown): void {
    this.count.warnings++;
    const code = errorCode(err);
    if (this.firstInWhile(`send|${code}`)) this.log.warn({ code, err: errorMessage(err) }, 'mdns_send_failed');
  }

  private interfaces(): LocalInterfaceAddress[] {
    const now = this.clock.now();
    if (!this.ifaceCache || now - this.ifaceCache.at >= 1000 || now < this.ifaceCache.at) {
      let list: LocalInterfaceAddress[] = [];
      try {
        list = this.localInterfaces();
      } catch (err) {
        this.log.debug({ err: errorMessage(err) }, 'interfaces_unavailable');
      }
      this.ifaceCache = { at: now, list };
    }
    return this.ifaceCache.list;
  }

  private onLink(address: string): boolean {
    return isOnLink(address, this.interfaces());
  }

  private firstInWhile(key: string): boolean {
    return this.repeats.first(key, this.clock.now());
  }

  private cancelSessionTimers(session: Session): void {
    session.advertiser?.close();
  }

  private setState(state: DiscoveryState): void {
    if (this.current === state) return;
    this.current = state;
    this.safeEmit('state', state);
  }

  private safeEmit<K extends keyof DiscoveryEvents>(event: K, ...args: DiscoveryEvents[K]): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error({ event, err: errorMessage(err) }, 'discovery_listener_failed');
    }
  }

  /** Runs `fn`, logging instead of throwing: an mDNS callback must never crash the agent. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'discovery_internal_error');
    }
  }

  private bounded(start: (done: () => void) => void): Promise<void> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        resolve();
      };
      const timer = this.clock.setTimer(finish, this.stopTimeoutMs);
      try {
        start(finish);
      } catch (err) {
        this.log.debug({ err: errorMessage(err) }, 'mdns_stop_step_failed');
        finish();
      }
    });
  }
}
