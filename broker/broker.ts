/**
 * The embedded MQTT broker each agent runs for its trusted neighbours: aedes
 * behind a mutual-TLS listener that pins peers by key fingerprint, a read-only
 * plaintext listener on 127.0.0.1 for local tools, a packet-size guard in
 * front of aedes, connection limits, identity-bound client ids and topic ACLs.
 * See security.md TLS-1..3 and MQ-1..8.
 */
import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { Aedes, type AedesOptions, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { systemClock, type Clock } from '../agent/core/clock.js';
import { silentLogger, type Logger } from '../agent/core/log.js';
import { PEER_ID_PATTERN, peerIdFromFingerprint } from '../agent/identity/peer-id.js';
import {
  checkConnect, hubMayPublish, hubMayReceive, hubMaySubscribe, localMayReceive, localMaySubscribe,
  neighbourMayReceive, neighbourMaySubscribe, ownerMayPublish, textProblem,
} from './acl.js';
import { certificateFingerprint, peerCertificateFingerprint } from './cert-identity.js';
import { GuardedConnection, type GuardViolation } from './packet-guard.js';

export interface BrokerIdentity {
  /** The owner's peer id; must be the one derived from `certPem`'s key. */
  peerId: string;
  keyPem: string;
  certPem: string;
}

export interface TrustLookup {
  /** The trusted peer with this key fingerprint (64 hex), or undefined. */
  lookup(fingerprint: string): { peerId: string } | undefined;
}

export interface BrokerLimits {
  /** Largest MQTT remaining length accepted; bigger packets close the connection before they are buffered. */
  maxPacketBytes: number;
  /** Open sockets on the TLS listener, handshaking ones included. */
  maxConnections: number;
  /** Open sockets on the TLS listener from one source address. */
  maxConnectionsPerAddress: number;
  /** Open sockets on the local plaintext listener. */
  maxLocalConnections: number;
  /** A TLS handshake must complete within this time. */
  handshakeTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<BrokerLimits> = Object.freeze({
  maxPacketBytes: 64 * 1024,
  maxConnections: 32,
  maxConnectionsPerAddress: 4,
  maxLocalConnections: 8,
  handshakeTimeoutMs: 10_000,
});

/**
 * 'agent': the owner's own broker; only the owner publishes (in-process).
 * 'hub': a community broker; each trusted member publishes under its own root.
 */
export type BrokerMode = 'agent' | 'hub';

export interface BrokerOptions {
  identity: BrokerIdentity;
  trust: TrustLookup;
  /** Called (after the socket is closed) when a certificate with an unknown key connects; for pairing UIs. */
  onUnknownPeer?: (fingerprint: string) => void;
  /** Bind address of the TLS listener (the agent binds its LAN address). Default 127.0.0.1. */
  host?: string;
  /** TLS port; 0 (default) picks a free one. */
  port?: number;
  /** Port of the read-only plaintext listener on 127.0.0.1; 0 (default) picks one; null disables it. */
  localPort?: number | null;
  mode?: BrokerMode;
  /**
   * Topic roots the owner publishes under for local tools only (Home Assistant discovery
   * and state): local clients may read them, neighbours never receive them.
   */
  localTopics?: readonly string[];
  limits?: Partial<BrokerLimits>;
  log?: Logger;
  clock?: Clock;
}

export const REJECTION_REASONS = [
  'tls_rejected', 'conn_limit', 'too_big', 'malformed', 'bad_client_id', 'bad_username',
  'not_authorized', 'acl', 'bad_topic', 'forward_denied',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export const TLS_REJECTION_REASONS = ['unknown_peer', 'no_cert', 'not_ed25519', 'bad_cert', 'trust_mismatch', 'handshake'] as const;
export type TlsRejectionReason = (typeof TLS_REJECTION_REASONS)[number];

export interface BrokerStats {
  /** Open sockets now. */
  connections: { tls: number; local: number };
  /** MQTT clients past CONNACK. */
  clients: number;
  /** Peer ids with an open, pinned TLS connection. */
  peers: string[];
  rejected: Record<RejectionReason, number>;
  /** Breakdown of `rejected.tls_rejected`. */
  tlsRejected: Record<TlsRejectionReason, number>;
  /** Messages routed (owner publishes, and in hub mode members' publishes and wills). */
  published: number;
  lastRejection?: { reason: RejectionReason; detail: string; at: number };
}

export interface PublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
}

export interface BrokerHandle {
  readonly peerId: string;
  readonly mode: BrokerMode;
  tlsAddress(): { host: string; port: number };
  localAddress(): { host: string; port: number } | undefined;
  /** Publishes as the owner, in-process; the topic must be under the owner's root. */
  publish(topic: string, payload: string | Uint8Array, options?: PublishOptions): Promise<void>;
  stats(): BrokerStats;
  /** True while the listeners accept connections and aedes is not closed (the service watchdog's broker check). */
  listening(): boolean;
  /** Closes every connection of a peer (e.g. when its trust is revoked); returns how many were closed. */
  disconnect(peerId: string): number;
  close(): Promise<void>;
}

/** The explicit aedes tuning (MQ-2); hooks are added by startBroker. */
export function aedesOptions(id: string): AedesOptions {
  return {
    id,
    maxTopicLevels: 16,
    drainTimeout: 20_000,
    maxInflightInbound: 100,
    connectTimeout: 10_000,
    keepaliveLimit: 300,
    queueLimit: 42,
    concurrency: 100,
    heartbeatInterval: 60_000,
    maxClientsIdLength: 23,
  };
}

type ConnInfo =
  | { kind: 'peer'; peerId: string; fingerprint: string; remote: string }
  | { kind: 'local'; remote: string };

interface ConnectStash {
  clientId: string;
  clean: boolean;
}

const LOCAL_HOST = '127.0.0.1';

function normalizeAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function addressOf(server: net.Server): { host: string; port: number } {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('broker listener is not listening');
  return { host: address.address, port: address.port };
}

export async function startBroker(options: BrokerOptions): Promise<BrokerHandle> {
  const log = options.log ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const mode: BrokerMode = options.mode ?? 'agent';
  const limits: BrokerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const owner = options.identity.peerId;
  const localTopics = options.localTopics ?? [];
  if (!PEER_ID_PATTERN.test(owner)) throw new RangeError(`identity.peerId is not a peer id: ${owner}`);
  const own = certificateFingerprint(options.identity.certPem);
  if (!own.ok) throw new Error(`identity.certPem: ${own.detail}`);
  if (peerIdFromFingerprint(own.fingerprint) !== owner) throw new Error('identity.peerId does not match the key in identity.certPem');

  const rejected = Object.fromEntries(REJECTION_REASONS.map((r) => [r, 0])) as Record<RejectionReason, number>;
  const tlsRejected = Object.fromEntries(TLS_REJECTION_REASONS.map((r) => [r, 0])) as Record<TlsRejectionReason, number>;
  let lastRejection: BrokerStats['lastRejection'];
  let published = 0;

  // Floods of these would fill the journal (SD card wear); they are counted either way.
  const quiet = (reason: RejectionReason, detail: string) => reason === 'conn_limit' || detail.startsWith('handshake:');
  const reject = (reason: RejectionReason, detail: string, extra: Record<string, unknown> = {}) => {
    rejected[reason]++;
    lastRejection = { reason, detail, at: clock.now() };
    log[quiet(reason, detail) ? 'debug' : 'warn']({ event: 'broker_rejected', reason, detail, ...extra }, `broker rejected: ${reason}: ${detail}`);
  };
  const rejectTls = (reason: TlsRejectionReason, detail: string, extra: Record<string, unknown> = {}) => {
    tlsRejected[reason]++;
    reject('tls_rejected', `${reason}: ${detail}`, extra);
  };

  const infoByConn = new WeakMap<object, ConnInfo>();
  const stashByClient = new WeakMap<object, ConnectStash>();
  const peerConns = new Map<string, Set<GuardedConnection>>();
  const tlsSockets = new Set<Socket>();
  const localSockets = new Set<Socket>();
  const perAddress = new Map<string, number>();

  const infoOf = (client: Client | null): ConnInfo | undefined => (client ? infoByConn.get(client.conn) : undefined);
  const describe = (client: Client | null) => {
    const info = infoOf(client);
    return { clientId: client?.id, peer: info?.kind === 'peer' ? info.peerId : undefined, remote: info?.remote };
  };

  const guard = (socket: Socket, info: ConnInfo): GuardedConnection => {
    const conn = new GuardedConnection(socket, {
      maxPacketBytes: limits.maxPacketBytes,
      onViolation: (v: GuardViolation) => {
        if (v.reason === 'too_big') reject('too_big', `remaining length ${v.remainingLength} > ${limits.maxPacketBytes} (packet type ${v.packetType})`, { remote: info.remote });
        else reject('malformed', v.detail, { remote: info.remote });
      },
    });
    infoByConn.set(conn, info);
    // aedes reports the error too; the guard already counted and logged it.
    conn.on('error', () => {});
    return conn;
  };

  // ---- aedes with our hooks ----
  const aedesOpts: AedesOptions = {
    ...aedesOptions(`tonari-${owner}`),
    preConnect(client, packet, callback) {
      if (!infoOf(client)) return callback(new Error('connection of unknown origin'), false);
      stashByClient.set(client, { clientId: packet.clientId ?? '', clean: packet.clean !== false });
      callback(null, true);
    },
    authenticate(client, username, _password, done) {
      const info = infoOf(client);
      const stash = stashByClient.get(client);
      if (!info || !stash) return done(Object.assign(new Error('not authorized'), { returnCode: 5 }) as AuthenticateError, false);
      const verdict = checkConnect(stash.clientId, stash.clean, username, info.kind === 'peer' ? info.peerId : undefined);
      if (!verdict.ok) {
        reject(verdict.reason, verdict.detail, { remote: info.remote, peer: info.kind === 'peer' ? info.peerId : undefined, clientId: JSON.stringify(stash.clientId) });
        return done(Object.assign(new Error(verdict.detail), { returnCode: verdict.returnCode }) as AuthenticateError, false);
      }
      log.info({ event: 'broker_client', kind: info.kind, peer: info.kind === 'peer' ? info.peerId : undefined, clientId: stash.clientId, remote: info.remote }, 'broker client connected');
      done(null, true);
    },
    authorizePublish(client, packet, callback) {
      const info = infoOf(client);
      const isWill = client !== null && (client as Client & { will?: unknown }).will === packet;
      const problem = textProblem(packet.topic);
      if (problem) {
        reject('bad_topic', `topic ${problem}`, describe(client));
        return callback(new Error(`bad topic: ${problem}`));
      }
      if (mode === 'hub' && info?.kind === 'peer' && hubMayPublish(info.peerId, packet.topic)) return callback(null);
      // On an agent's broker nobody publishes over the network: neighbours, local tools and
      // wills (aedes runs a will through this hook when the client goes away uncleanly;
      // client null = a will left in persistence) are all refused. aedes closes the client.
      reject('acl', `${isWill ? 'will' : 'publish'} to ${JSON.stringify(packet.topic)} denied`, describe(client));
      callback(new Error('publishing is not allowed here'));
    },
    authorizeSubscribe(client, sub, callback) {
      const info = infoOf(client);
      const problem = textProblem(sub.topic);
      if (problem) {
        reject('bad_topic', `topic filter ${problem}`, describe(client));
        return callback(new Error(`bad topic filter: ${problem}`));
      }
      const allowed = info?.kind === 'local'
        ? localMaySubscribe(sub.topic, localTopics)
        : info?.kind === 'peer'
          ? (mode === 'hub' ? hubMaySubscribe(info.peerId, sub.topic) : neighbourMaySubscribe(owner, info.peerId, sub.topic))
          : false;
      if (!allowed) {
        reject('acl', `subscribe to ${JSON.stringify(sub.topic)} denied`, describe(client));
        return callback(null, null);
      }
      callback(null, sub);
    },
    authorizeForward(client, packet) {
      const info = infoOf(client);
      const ok = info?.kind === 'local'
        ? localMayReceive(packet.topic, localTopics)
        : info?.kind === 'peer'
          ? (mode === 'hub' ? hubMayReceive(info.peerId, packet.topic) : neighbourMayReceive(owner, info.peerId, packet.topic))
          : false;
      if (ok) return packet;
      reject('forward_denied', `delivery of ${JSON.stringify(packet.topic)} withheld`, describe(client));
      return null;
    },
  };
  const aedes = await Aedes.createBroker(aedesOpts);
  aedes.on('publish', (packet) => { if (!packet.topic.startsWith('$SYS/')) published++; });
  aedes.on('clientError', (client, err) => log.debug({ event: 'broker_client_error', ...describe(client), err: err.message }, 'broker client error'));
  aedes.on('connectionError', (client, err) => log.debug({ event: 'broker_connection_error', ...describe(client), err: err.message }, 'broker connection error'));
  aedes.on('clientDisconnect', (client) => log.info({ event: 'broker_client_gone', ...describe(client) }, 'broker client disconnected'));
  (aedes as unknown as NodeJS.EventEmitter).on('error', (err: Error) => log.error({ event: 'broker_error', err: err.message }, 'broker error'));

  // ---- TLS listener: raw TCP first (limits), then TLS, then pinning ----
  const tlsServer = tls.createServer({
    key: options.identity.keyPem,
    cert: options.identity.certPem,
    minVersion: 'TLSv1.3',
    requestCert: true,
    rejectUnauthorized: false, // the chain means nothing for self-signed peers; we pin the key below
    handshakeTimeout: limits.handshakeTimeoutMs,
  });
  tlsServer.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    // With a listener here Node leaves the socket open (even on a handshake timeout).
    socket.destroy();
    rejectTls('handshake', err.code ?? err.message, { remote: `${normalizeAddress(socket.remoteAddress)}:${socket.remotePort}` });
  });
  tlsServer.on('secureConnection', (socket: TLSSocket) => {
    const remote = `${normalizeAddress(socket.remoteAddress)}:${socket.remotePort}`;
    socket.on('error', () => {});
    // No byte of MQTT has been read yet: nothing reads this socket until aedes gets it.
    const id = peerCertificateFingerprint(socket);
    if (!id.ok) {
      socket.destroy();
      rejectTls(id.reason, id.detail, { remote });
      return;
    }
    let entry: { peerId: string } | undefined;
    try {
      entry = options.trust.lookup(id.fingerprint);
    } catch (error) {
      log.error({ event: 'broker_trust_error', err: (error as Error).message }, 'trust lookup failed');
      entry = undefined;
    }
    if (!entry) {
      socket.destroy();
      rejectTls('unknown_peer', `fingerprint ${id.fingerprint}`, { remote, fingerprint: id.fingerprint });
      try { options.onUnknownPeer?.(id.fingerprint); } catch (error) { log.error({ err: (error as Error).message }, 'onUnknownPeer failed'); }
      return;
    }
    const peerId = peerIdFromFingerprint(id.fingerprint);
    if (entry.peerId !== peerId) {
      socket.destroy();
      rejectTls('trust_mismatch', `trust store says ${entry.peerId} for a key whose peer id is ${peerId}`, { remote });
      return;
    }
    const conn = guard(socket, { kind: 'peer', peerId, fingerprint: id.fingerprint, remote });
    let set = peerConns.get(peerId);
    if (!set) peerConns.set(peerId, (set = new Set()));
    set.add(conn);
    conn.on('close', () => {
      const s = peerConns.get(peerId);
      s?.delete(conn);
      if (s && s.size === 0) peerConns.delete(peerId);
    });
    aedes.handle(conn);
  });

  const tcpServer = net.createServer((socket) => {
    socket.on('error', () => {});
    const address = normalizeAddress(socket.remoteAddress);
    const fromAddress = perAddress.get(address) ?? 0;
    if (tlsSockets.size >= limits.maxConnections || fromAddress >= limits.maxConnectionsPerAddress) {
      socket.destroy();
      const detail = tlsSockets.size >= limits.maxConnections ? `${tlsSockets.size} connections open` : `${fromAddress} connections open from ${address}`;
      reject('conn_limit', detail, { remote: address });
      return;
    }
    tlsSockets.add(socket);
    perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      tlsSockets.delete(socket);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
    tlsServer.emit('connection', socket);
  });

  // ---- local read-only plaintext listener, 127.0.0.1 only ----
  const localServer = options.localPort === null ? undefined : net.createServer((socket) => {
    socket.on('error', () => {});
    if (localSockets.size >= limits.maxLocalConnections) {
      socket.destroy();
      reject('conn_limit', `${localSockets.size} local connections open`, { remote: 'local' });
      return;
    }
    localSockets.add(socket);
    socket.once('close', () => localSockets.delete(socket));
    aedes.handle(guard(socket, { kind: 'local', remote: `${normalizeAddress(socket.remoteAddress)}:${socket.remotePort}` }));
  });

  const closeAedes = () => new Promise<void>((resolve) => aedes.close(() => resolve()));
  try {
    await listen(tcpServer, options.port ?? 0, options.host ?? LOCAL_HOST);
    if (localServer) await listen(localServer, options.localPort ?? 0, LOCAL_HOST);
  } catch (error) {
    tcpServer.close();
    localServer?.close();
    await closeAedes();
    throw error;
  }
  log.info({ event: 'broker_listening', mode, peerId: owner, tls: addressOf(tcpServer), local: localServer ? addressOf(localServer) : undefined }, 'broker listening');

  let closing: Promise<void> | undefined;
  return {
    peerId: owner,
    mode,
    tlsAddress: () => addressOf(tcpServer),
    localAddress: () => (localServer ? addressOf(localServer) : undefined),

    publish(topic, payload, publishOptions = {}) {
      if (closing) return Promise.reject(new Error('broker is closed'));
      if (!ownerMayPublish(owner, topic, localTopics)) return Promise.reject(new RangeError(`not a topic under this owner's root: ${JSON.stringify(topic)}`));
      const packet: PublishPacket = {
        cmd: 'publish',
        topic,
        payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload),
        qos: publishOptions.qos ?? 0,
        retain: publishOptions.retain ?? false,
        dup: false,
      };
      return new Promise((resolve, reject) => aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
    },

    stats: () => ({
      connections: { tls: tlsSockets.size, local: localSockets.size },
      clients: aedes.connectedClients,
      peers: [...peerConns.keys()].sort(),
      rejected: { ...rejected },
      tlsRejected: { ...tlsRejected },
      published,
      ...(lastRejection ? { lastRejection: { ...lastRejection } } : {}),
    }),

    listening: () => closing === undefined && !aedes.closed && tcpServer.listening && (localServer?.listening ?? true),

    disconnect(peerId) {
      const set = peerConns.get(peerId);
      if (!set) return 0;
      const n = set.size;
      for (const conn of [...set]) conn.destroy();
      log.info({ event: 'broker_disconnect', peer: peerId, connections: n }, 'broker disconnected a peer');
      return n;
    },

    close() {
      closing ??= (async () => {
        const stopped = Promise.all([tcpServer, localServer].filter((s): s is net.Server => s !== undefined)
          .map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
        await closeAedes();
        for (const s of [...tlsSockets, ...localSockets]) s.destroy();
        await stopped;
        log.info({ event: 'broker_closed' }, 'broker closed');
      })();
      return closing;
    },
  };
}
