import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { loadOrCreateIdentity, type AgentIdentity } from '../../agent/identity/key-store.js';
import { TrustStore } from '../../agent/identity/trust-store.js';
import { Mesh } from '../../agent/mesh/mesh.js';
import { ReplayStore } from '../../agent/mesh/replay-store.js';
import { SequenceAllocator } from '../../agent/mesh/sequence.js';
import type { Envelope } from '../../agent/mesh/envelope-schema.js';
import { startBroker, type BrokerHandle } from '../../broker/index.js';

export interface TestAgent {
  name: string;
  stateDir: string;
  identity: AgentIdentity;
  trust: TrustStore;
  broker: BrokerHandle;
  mesh: Mesh;
  received: { envelope: Envelope; via: string }[];
  stop(): Promise<void>;
}

const log = silentLogger();

export async function makeIdentities(names: string[]): Promise<{ name: string; stateDir: string; identity: AgentIdentity }[]> {
  return Promise.all(names.map(async (name) => {
    const stateDir = mkdtempSync(join(tmpdir(), `tonari-${name}-`));
    return { name, stateDir, identity: await loadOrCreateIdentity(stateDir, { clock: systemClock, log }) };
  }));
}

/** An agent on 127.0.0.1 with its own broker, trusting `trusted` by fingerprint (the installer allow-list). */
export async function startAgent(me: { name: string; stateDir: string; identity: AgentIdentity }, trusted: AgentIdentity[]): Promise<TestAgent> {
  const trust = await TrustStore.open(me.stateDir, { allowList: trusted.map((p) => ({ fingerprint: p.fingerprint })), clock: systemClock, log });
  const broker = await startBroker({ identity: me.identity, trust, host: '127.0.0.1', port: 0, localPort: null, log });
  const replay = await ReplayStore.open(join(me.stateDir, 'replay.json'), systemClock);
  const sequence = SequenceAllocator.open(join(me.stateDir, 'seq.json'), systemClock);
  const mesh = new Mesh({
    identity: me.identity, trust, outbox: broker, replay, sequence, clock: systemClock, log,
    onUntrusted: (peerId) => { broker.disconnect(peerId); },
    linkOptions: { keepaliveSeconds: 2, backoff: { initialMs: 100, maxMs: 1000 } },
  });
  const received: TestAgent['received'] = [];
  mesh.onEnvelope((envelope, via) => received.push({ envelope, via }));
  await mesh.start();
  return {
    ...me, trust, broker, mesh, received,
    async stop() {
      await mesh.stop();
      await replay.close();
      await broker.close();
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Polls `predicate` every 20 ms until true or `ms` pass; returns whether it became true. */
export async function eventually(predicate: () => boolean, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return predicate();
}

/** Every agent considers every other one at its broker address (static peers, as mDNS would hint). */
export function meshUp(agents: TestAgent[]): void {
  for (const a of agents) {
    for (const b of agents) {
      if (a === b) continue;
      const { host, port } = b.broker.tlsAddress();
      a.mesh.consider({ peerId: b.identity.peerId, fingerprint: b.identity.fingerprint, host, port });
    }
  }
}
