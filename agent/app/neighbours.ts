/**
 * The composition root of "meet the neighbours": identity, trust store,
 * embedded broker, replay store and sequence allocator, the mesh, mDNS
 * discovery feeding it, static neighbours, and the control socket that
 * `tonari peers` and `tonari pair` talk to. Started in this order and stopped
 * in the reverse one; the retained offline status is published before the
 * broker closes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { HouseholdConfig, MeshConfig, TrustConfig } from '../config/index.js';
import { createControlHandler, type ControlTarget } from '../control/handler.js';
import { controlSocketPath } from '../control/client.js';
import { startControlServer } from '../control/server.js';
import { Discovery, type DiscoveryOptions, type PeerCandidate } from '../discovery/index.js';
import { loadOrCreateIdentity, type AgentIdentity } from '../identity/key-store.js';
import { peerIdFromFingerprint } from '../identity/peer-id.js';
import { TrustStore } from '../identity/trust-store.js';
import { normalizeFingerprint } from '../identity/trusted-peers-file.js';
import { Mesh, type ExternalBrokerOptions, type MeshOptions } from '../mesh/mesh.js';
import { ReplayStore } from '../mesh/replay-store.js';
import { SequenceAllocator } from '../mesh/sequence.js';
import { statusTopic } from '../mesh/topics.js';
import { normalizeFingerprint as normalizePin } from '../identity/trusted-peers-file.js';
import { startBroker, type BrokerHandle } from '../../broker/index.js';
import { CandidateBook, type Candidate } from './candidates.js';
import { controlTarget } from './neighbours-control.js';

export const REPLAY_FILE = 'replay.json';
export const SEQUENCE_FILE = 'sequence.json';

export interface NeighboursConfig {
  stateDir: string;
  household: Pick<HouseholdConfig, 'zone'>;
  mesh: MeshConfig;
  trust: TrustConfig;
}

export interface NeighboursOptions {
  clock: Clock;
  log: Logger;
  linkOptions?: MeshOptions['linkOptions'];
  /** Extra discovery options (tests: mDNS port, timings). */
  discovery?: Omit<DiscoveryOptions, 'self' | 'clock' | 'log'>;
  /** Serve the control socket in the state directory. Default true. */
  control?: boolean;
  /** Topic roots this agent publishes on its broker for local tools only (Home Assistant), given its peer id. */
  localTopics?: (peerId: string) => string[];
  /** Answers `tonari status` on the control socket (the local API's read model). */
  status?: ControlTarget['status'];
}

export interface RunningNeighbours {
  identity: AgentIdentity;
  trust: TrustStore;
  /** The embedded broker; undefined in external-broker mode (mesh.broker). */
  broker: BrokerHandle | undefined;
  mesh: Mesh;
  discovery: Discovery | undefined;
  candidates: CandidateBook;
  /** The control socket's path, when it is served. */
  controlPath: string | undefined;
  stop(): Promise<void>;
}

type Cleanup = { what: string; run: () => Promise<void> | void };

export async function startNeighbours(config: NeighboursConfig, options: NeighboursOptions): Promise<RunningNeighbours> {
  const { clock } = options;
  const log = options.log.child({ mod: 'neighbours' });
  const { stateDir, mesh: meshConfig } = config;
  const zone = config.household.zone;
  const cleanups: Cleanup[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup.run();
      } catch (error) {
        log.error({ err: (error as Error).message, step: cleanup.what }, 'stopping failed');
      }
    }
  };

  try {
    const identity = await loadOrCreateIdentity(stateDir, { clock, log: options.log });
    const trust = await TrustStore.open(stateDir, {
      allowList: config.trust.peers.map((p) => ({ fingerprint: p.fingerprint, ...(p.name !== undefined ? { name: p.name } : {}) })),
      clock, log: options.log,
    });
    const candidates = new CandidateBook();
    let mesh: Mesh | undefined;

    /** Links to a candidate if its key is trusted; offers it for pairing while a window is open. */
    const consider = (candidate: Candidate) => {
      if (!mesh || !candidate.address) return;
      const result = mesh.consider({ peerId: candidate.peerId, fingerprint: candidate.fingerprint, ...candidate.address });
      if (result === 'linked') log.info({ peer: candidate.peerId, source: candidate.source, address: candidate.address }, 'linking to neighbour');
      else if (result === 'moved') log.info({ peer: candidate.peerId, address: candidate.address }, 'neighbour moved');
      else if (result === 'untrusted') {
        log.debug({ peer: candidate.peerId, fingerprint: candidate.fingerprint, source: candidate.source }, 'neighbour not trusted');
        if (trust.pairingOpen()) trust.propose(candidate.fingerprint);
      }
    };

    const external = meshConfig.broker;
    const broker = external ? undefined : await startBroker({
      identity: { peerId: identity.peerId, keyPem: identity.keyPem, certPem: identity.certPem },
      trust,
      host: meshConfig.listen.host,
      port: meshConfig.listen.port,
      localPort: meshConfig.localPort,
      ...(options.localTopics ? { localTopics: options.localTopics(identity.peerId) } : {}),
      log: options.log,
      clock,
      // A key we do not trust completed a handshake: pending while a pairing window is open, refused and counted otherwise.
      onUnknownPeer: (fingerprint) => {
        candidates.note({ peerId: peerIdFromFingerprint(fingerprint), fingerprint, source: 'inbound', address: undefined, zone: undefined, lastSeen: clock.now() });
        trust.propose(fingerprint);
      },
    });
    if (broker) cleanups.push({ what: 'broker', run: () => broker.close() });

    const replay = await ReplayStore.open(join(stateDir, REPLAY_FILE), clock, {}, options.log);
    cleanups.push({ what: 'replay store', run: () => replay.close() });
    const sequence = SequenceAllocator.open(join(stateDir, SEQUENCE_FILE), clock, {}, options.log);

    const activeMesh = new Mesh({
      identity, trust, replay, sequence, clock, log: options.log,
      ...(broker ? { outbox: broker } : { external: await externalBrokerOptions(external!) }),
      onUntrusted: (peerId) => { broker?.disconnect(peerId); },
      // External mode: a key we do not trust announced itself on the cluster.
      onUnknownPeer: (fingerprint, peerId) => {
        candidates.note({ peerId, fingerprint, source: 'cluster', address: undefined, zone: undefined, lastSeen: clock.now() });
        trust.propose(fingerprint);
      },
      ...(options.linkOptions ? { linkOptions: options.linkOptions } : {}),
    });
    mesh = activeMesh;
    await activeMesh.start();
    if (broker) {
      cleanups.push({
        what: 'offline status',
        run: () => broker.publish(statusTopic(identity.peerId), activeMesh.statusPayload('offline'), { qos: 1, retain: true }),
      });
    }
    cleanups.push({ what: 'mesh', run: () => activeMesh.stop() });

    const unwatch = trust.onChange((change) => {
      if (change.type === 'removed') {
        // The mesh drops its own link; sessions the neighbour holds on our broker go here.
        const closed = broker?.disconnect(change.peer.peerId) ?? 0;
        log.info({ peer: change.peer.peerId, sessionsClosed: closed }, 'neighbour no longer trusted');
        return;
      }
      const candidate = candidates.byFingerprint(change.peer.fingerprint);
      log.info({ peer: change.peer.peerId, name: change.peer.name, known: candidate?.address !== undefined }, 'neighbour trusted');
      if (candidate) consider(candidate);
    });
    cleanups.push({ what: 'trust watch', run: unwatch });

    log.info({ peerId: identity.peerId, fingerprint: identity.fingerprint, checkCode: identity.checkCode, zone }, 'agent identity (compare the check code when pairing)');
    if (broker) {
      const tls = broker.tlsAddress();
      const local = broker.localAddress();
      log.info({ tls: `${tls.host}:${tls.port}`, local: local ? `${local.host}:${local.port}` : null, trusted: trust.list().length }, 'embedded broker listening');
    } else {
      log.info({ cluster: external!.url, topicPrefix: external!.topicPrefix ?? null, trusted: trust.list().length }, 'external-broker mode: no embedded broker, every neighbour through the shared cluster');
      if (meshConfig.peers.length > 0) log.warn({ peers: meshConfig.peers.length }, 'mesh.peers is unused in external-broker mode');
    }

    for (const entry of broker ? meshConfig.peers : []) {
      const fingerprint = normalizeFingerprint(entry.fingerprint);
      if (!fingerprint) continue; // the config schema refused it already
      const peerId = peerIdFromFingerprint(fingerprint);
      if (peerId === identity.peerId) {
        log.warn({ host: entry.host }, 'mesh.peers lists this agent itself; ignored');
        continue;
      }
      consider(candidates.note({ peerId, fingerprint, source: 'static', address: { host: entry.host, port: entry.port }, zone: undefined, lastSeen: clock.now() }));
    }

    let discovery: Discovery | undefined;
    if (meshConfig.discovery && broker) {
      const found = new Discovery({ ...options.discovery, self: { peerId: identity.peerId, fingerprint: identity.fingerprint, zone, port: broker.tlsAddress().port }, clock, log: options.log });
      discovery = found;
      const seen = (peer: PeerCandidate) => {
        if (peer.zone !== zone) {
          log.debug({ peer: peer.peerId, zone: peer.zone }, 'neighbour in another zone; ignored');
          return;
        }
        const host = peer.addresses[0] ?? peer.host;
        const kept = candidates.note({ peerId: peer.peerId, fingerprint: peer.fingerprint, source: 'mdns', address: { host, port: peer.port }, zone: peer.zone, lastSeen: clock.now() });
        if (kept.source === 'mdns') consider(kept);
      };
      found.on('peerSeen', seen);
      found.on('peerUpdated', (peer) => seen(peer));
      found.on('peerLost', (peerId, reason) => {
        if (candidates.get(peerId)?.source !== 'mdns') return; // static neighbours stay; the link's backoff handles them
        candidates.remove(peerId);
        log.info({ peer: peerId, reason }, 'neighbour lost');
        void activeMesh.forget(peerId, `mdns: ${reason}`);
      });
      found.on('peerConflict', (conflict) => log.warn({ ...conflict }, 'conflicting mDNS advert ignored'));
      found.on('state', (state) => log.info({ state }, 'discovery state'));
      found.start();
      cleanups.push({ what: 'discovery', run: () => found.stop() });
    } else {
      log.info({ state: 'off', why: broker ? 'mesh.discovery is false' : 'external-broker mode' }, 'discovery state');
    }

    let controlPath: string | undefined;
    if (options.control !== false) {
      const target = controlTarget({ identity, trust, broker, mesh: activeMesh, discovery, candidates, zone, clock, status: options.status });
      const server = await startControlServer({
        path: controlSocketPath(stateDir),
        handler: createControlHandler(target, (error, cmd) => log.error({ err: (error as Error).message, cmd }, 'control request failed')),
        log: options.log,
      });
      controlPath = server.path;
      cleanups.push({ what: 'control socket', run: () => server.close() });
    }

    return {
      identity, trust, broker, mesh: activeMesh, discovery, candidates, controlPath,
      async stop() {
        await stopAll();
        log.info('neighbours stopped');
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The cluster settings of mesh.broker, with the CA file read. */
async function externalBrokerOptions(config: NonNullable<MeshConfig['broker']>): Promise<ExternalBrokerOptions> {
  const options: ExternalBrokerOptions = { url: config.url };
  if (config.fingerprint !== undefined) options.brokerFingerprint = normalizePin(config.fingerprint) ?? config.fingerprint;
  if (config.caFile !== undefined) {
    try {
      options.caPem = await readFile(config.caFile, 'utf8');
    } catch (error) {
      throw new Error(`mesh.broker.caFile: cannot read ${config.caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (config.servername !== undefined) options.servername = config.servername;
  if (config.topicPrefix !== undefined) options.topicPrefix = config.topicPrefix;
  return options;
}
