/**
 * bench:mesh (1): time from start to full mesh for N agents, all in this
 * process on 127.0.0.1. Each agent is what `tonari run` builds: an identity
 * created in its own state directory, a trust store whose installer
 * allow-list holds every other agent, its embedded broker (product limits
 * but one, below), and a Mesh (product link defaults). They share this
 * process's event loop, so every TLS handshake of every agent runs on one core. Once all are started, every agent
 * considers every other (static peers, as discovery would hint); the clock
 * runs from the first start until every agent has N−1 links 'connected'.
 *
 * Source addresses: on a LAN each neighbour connects from its own address, so
 * the broker's limit of 4 connections per source address never bites. On
 * loopback every link comes from 127.0.0.1, and with 10 agents each broker
 * sees 9 neighbours from that one address. So these brokers raise that one
 * limit to the total limit (32); every other guard and limit (TLS 1.3
 * pinning, packet guard, ACL, total connections, handshake timeout) stays at
 * its product default, and the Mesh and its links are untouched.
 */
import { join } from 'node:path';
import { systemClock } from '../../agent/core/clock.js';
import { TrustStore } from '../../agent/identity/trust-store.js';
import type { AgentIdentity } from '../../agent/identity/key-store.js';
import { Mesh } from '../../agent/mesh/mesh.js';
import { ReplayStore } from '../../agent/mesh/replay-store.js';
import { SequenceAllocator } from '../../agent/mesh/sequence.js';
import { DEFAULT_LIMITS, startBroker, type BrokerHandle, type BrokerLimits } from '../../broker/index.js';
import { delay } from './devices-procs.js';
import { log, newIdentity, type BenchIdentity } from './mesh-procs.js';

/** The only limit changed for the loopback mesh (see above). */
export const LOOPBACK_LIMITS: Partial<BrokerLimits> = { maxConnectionsPerAddress: DEFAULT_LIMITS.maxConnections };

interface BenchAgent {
  me: BenchIdentity;
  broker: BrokerHandle;
  mesh: Mesh;
  stop(): Promise<void>;
}

async function startAgent(me: BenchIdentity, trusted: AgentIdentity[]): Promise<BenchAgent> {
  const trust = await TrustStore.open(me.stateDir, { allowList: trusted.map((p) => ({ fingerprint: p.fingerprint })), clock: systemClock, log });
  const broker = await startBroker({ identity: me.identity, trust, host: '127.0.0.1', port: 0, localPort: null, limits: LOOPBACK_LIMITS, log });
  const replay = await ReplayStore.open(join(me.stateDir, 'replay.json'), systemClock);
  const sequence = SequenceAllocator.open(join(me.stateDir, 'seq.json'), systemClock);
  const mesh = new Mesh({
    identity: me.identity, trust, outbox: broker, replay, sequence, clock: systemClock, log,
    onUntrusted: (peerId) => { broker.disconnect(peerId); },
  });
  await mesh.start();
  return {
    me, broker, mesh,
    async stop() {
      await mesh.stop();
      await replay.close();
      await broker.close();
    },
  };
}

export interface MeshUpFigures {
  agents: number;
  /** From the first start to every link 'connected' (NaN when the cap was hit). */
  seconds: number;
  /** From the first start until every agent was up (identity, trust, broker, mesh). */
  startSeconds: number;
  /** Links 'connected' at the end, of N·(N−1). */
  connectedLinks: number;
  /** Pinned neighbour sessions each broker saw at the end, summed. */
  brokerPeers: number;
  connLimitRejections: number;
  tlsRejections: number;
}

/** Identities are made inside the timed window (a first start creates its key), concurrently as independent agents would. */
export async function measureMeshUp(n: number, capMs = 30_000): Promise<MeshUpFigures> {
  const t0 = performance.now();
  const all = await Promise.all(Array.from({ length: n }, (_, i) => newIdentity(`agent${i}`)));
  const agents: BenchAgent[] = [];
  try {
    const started = await Promise.allSettled(all.map((me) => startAgent(me, all.filter((o) => o !== me).map((o) => o.identity))));
    for (const s of started) if (s.status === 'fulfilled') agents.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason as Error;
    const startSeconds = (performance.now() - t0) / 1000;
    for (const a of agents) {
      for (const b of agents) {
        if (a === b) continue;
        const { host, port } = b.broker.tlsAddress();
        a.mesh.consider({ peerId: b.me.identity.peerId, fingerprint: b.me.identity.fingerprint, host, port });
      }
    }
    const connected = () => agents.reduce((s, a) => s + a.mesh.peers().filter((p) => p.state === 'connected').length, 0);
    const deadline = t0 + capMs;
    while (connected() < n * (n - 1) && performance.now() < deadline) await delay(5);
    const done = connected() === n * (n - 1);
    const seconds = done ? (performance.now() - t0) / 1000 : NaN;
    // Brokers register a session a moment after CONNACK; give them a little time (outside the timed window).
    const until = performance.now() + 2000;
    const brokerPeers = () => agents.reduce((s, a) => s + a.broker.stats().peers.length, 0);
    while (brokerPeers() < n * (n - 1) && performance.now() < until) await delay(10);
    const stats = agents.map((a) => a.broker.stats());
    return {
      agents: n,
      seconds,
      startSeconds,
      connectedLinks: connected(),
      brokerPeers: brokerPeers(),
      connLimitRejections: stats.reduce((s, x) => s + x.rejected.conn_limit, 0),
      tlsRejections: stats.reduce((s, x) => s + x.rejected.tls_rejected, 0),
    };
  } finally {
    await Promise.allSettled(agents.map((a) => a.stop()));
  }
}
