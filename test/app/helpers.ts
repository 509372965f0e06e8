import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { startNeighbours, type NeighboursConfig, type NeighboursOptions, type RunningNeighbours } from '../../agent/app/neighbours.js';
import type { MdnsStack } from '../../agent/discovery/index.js';
import { defaultConfig } from '../../agent/config/index.js';
import { systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { loadOrCreateIdentity, type AgentIdentity } from '../../agent/identity/key-store.js';

export interface Node {
  name: string;
  stateDir: string;
  port: number;
  identity: AgentIdentity;
}

/** A free TCP port on 127.0.0.1 (bound and released; good enough for tests). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** State directories (short paths under the OS temp dir: unix socket paths are limited) with identities and ports. */
export async function makeNodes(names: string[]): Promise<Node[]> {
  const nodes: Node[] = [];
  for (const name of names) {
    const stateDir = mkdtempSync(join(tmpdir(), `tn-${name}-`));
    nodes.push({ name, stateDir, port: await freePort(), identity: await loadOrCreateIdentity(stateDir, { clock: systemClock, log: silentLogger() }) });
  }
  return nodes;
}

export function removeNodes(nodes: Node[]): void {
  for (const node of nodes) rmSync(node.stateDir, { recursive: true, force: true });
}

/** The config of `me`: broker on 127.0.0.1, no mDNS, the given static neighbours and allow-list. */
export function nodeConfig(me: Node, options: { staticPeers: Node[]; trusted: Node[]; zone?: string }): NeighboursConfig {
  const base = defaultConfig();
  return {
    stateDir: me.stateDir,
    household: { zone: options.zone ?? 'default' },
    mesh: {
      ...base.mesh,
      listen: { host: '127.0.0.1', port: me.port },
      localPort: null,
      discovery: false,
      peers: options.staticPeers.map((p) => ({ host: '127.0.0.1', port: p.port, fingerprint: p.identity.fingerprint })),
    },
    trust: { peers: options.trusted.map((p) => ({ fingerprint: p.identity.fingerprint, name: p.name })) },
  };
}

export function start(config: NeighboursConfig, extra: Pick<NeighboursOptions, 'discovery'> = {}): Promise<RunningNeighbours> {
  return startNeighbours(config, {
    clock: systemClock, log: silentLogger(), linkOptions: { keepaliveSeconds: 1, backoff: { initialMs: 100, maxMs: 500 } }, ...extra,
  });
}

/** An mDNS stack that never binds and sends nothing: discovery stays 'binding', and tests emit its events. */
export function silentStack(): MdnsStack {
  const mdns = Object.assign(new EventEmitter(), { query() {}, destroy(callback?: () => void) { callback?.(); } });
  return {
    mdns,
    publish: () => Object.assign(new EventEmitter(), { stop(callback?: () => void) { callback?.(); } }),
    unpublishAll: (callback) => callback(),
    destroy: (callback) => callback(),
  };
}

/** Polls `predicate` (sync or async) every 25 ms until true or `ms` pass. */
export async function eventually(predicate: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return predicate();
}
