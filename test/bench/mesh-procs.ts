/**
 * Processes and clients for bench:mesh: the broker child, Mosquitto, pinned
 * mutual-TLS mqtt.js clients, and a free port. Children are tracked by
 * devices-procs.ts and killed when the benchmark exits by any route.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import net from 'node:net';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MqttClient } from 'mqtt';
import { systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { loadOrCreateIdentity, type AgentIdentity } from '../../agent/identity/key-store.js';
import { connectPinned, type PinnedConnectOptions } from '../../agent/identity/tls.js';
import { GuardedConnection } from '../../broker/packet-guard.js';
import type { BrokerStats } from '../../broker/index.js';
import { mosquittoAcl, mosquittoConfig } from './mesh-figures.js';
import { delay, spawnTracked, tempDir, type Tracked } from './devices-procs.js';

export const log = silentLogger();

export interface BenchIdentity {
  stateDir: string;
  identity: AgentIdentity;
}

/** A new identity in its own temporary state directory (removed when the benchmark exits). */
export async function newIdentity(label: string): Promise<BenchIdentity> {
  const stateDir = tempDir(`tonari-bench-${label}-`);
  return { stateDir, identity: await loadOrCreateIdentity(stateDir, { clock: systemClock, log }) };
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await delay(50);
  }
}

// ---------------------------------------------------------------- the broker child

export interface BrokerChild {
  pid: number;
  port: number;
  peerId: string;
  /** Sends one command and resolves with its answer (commands run one at a time). */
  command<T extends Record<string, unknown>>(cmd: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  stats(): Promise<BrokerStats>;
  /** The child's process.memoryUsage(), bytes. */
  memory(): Promise<NodeJS.MemoryUsage>;
  stop(): Promise<void>;
}

const CHILD_ENTRY = join(fileURLToPath(new URL('.', import.meta.url)), 'mesh-broker-child.js');

/** Starts the embedded broker (product defaults, every guard on) in its own Node process. */
export async function startBrokerChild(mode: 'agent' | 'hub', owner: BenchIdentity, trusted: AgentIdentity[]): Promise<BrokerChild> {
  const configFile = join(owner.stateDir, 'bench-child.json');
  writeFileSync(configFile, JSON.stringify({ mode, stateDir: owner.stateDir, trusted: trusted.map((t) => t.fingerprint) }));
  const tracked: Tracked = spawnTracked(process.execPath, ['--expose-gc', CHILD_ENTRY, configFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting: { op: string; resolve: (o: Record<string, unknown>) => void }[] = [];
  let ready: ((o: Record<string, unknown>) => void) | undefined;
  const readyP = new Promise<Record<string, unknown>>((resolve) => { ready = resolve; });
  createInterface({ input: tracked.child.stdout! }).on('line', (line) => {
    let o: Record<string, unknown>;
    try { o = JSON.parse(line) as Record<string, unknown>; } catch { return; }
    if (o.ready) ready?.(o);
    else waiting.shift()?.resolve(o);
  });
  const exited = new Promise<never>((_, reject) => tracked.child.once('exit', (code, signal) =>
    reject(new Error(`broker child exited (${code ?? signal}): ${tracked.output().trim().slice(-2000)}`))));
  exited.catch(() => {});
  const timeout = <T>(p: Promise<T>, ms: number, what: string) => Promise.race([p, exited, delay(ms).then(() => { throw new Error(`broker child: no answer to ${what} within ${ms} ms`); })]);

  let info: Record<string, unknown>;
  try {
    info = await timeout(readyP, 15_000, 'start');
  } catch (error) {
    await tracked.stop();
    throw error;
  }
  let chain: Promise<unknown> = Promise.resolve();
  const command = <T extends Record<string, unknown>>(cmd: Record<string, unknown>, timeoutMs = 30_000): Promise<T> => {
    const run = chain.then(() => {
      const answer = new Promise<Record<string, unknown>>((resolve) => waiting.push({ op: String(cmd.op), resolve }));
      tracked.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
      return timeout(answer, timeoutMs, String(cmd.op)).then((o) => {
        if (o.op === 'error') throw new Error(`broker child: ${String(o.error)}`);
        return o as T;
      });
    });
    chain = run.catch(() => {});
    return run;
  };
  return {
    pid: tracked.pid,
    port: Number(info.port),
    peerId: String(info.peerId),
    command,
    stats: async () => (await command<{ stats: BrokerStats }>({ op: 'stats' })).stats,
    memory: async () => (await command<{ memory: NodeJS.MemoryUsage }>({ op: 'memory' })).memory,
    async stop() {
      tracked.child.stdin?.end();
      await tracked.stop(3000);
    },
  };
}

// ---------------------------------------------------------------- Mosquitto

/** Debian's package puts the broker here (not on a normal user's PATH). */
export const DEBIAN_MOSQUITTO = '/usr/sbin/mosquitto';

/** The mosquitto executable: Debian's, else one on PATH; undefined if there is none. */
export function findMosquitto(): string | undefined {
  const candidates = [DEBIAN_MOSQUITTO, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'mosquitto'))];
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch { /* next */ }
  }
  return undefined;
}

/** "2.0.11" from `mosquitto -h` (which prints its version and exits non-zero), or "unknown version". */
export function mosquittoVersion(binary: string): string {
  const r = spawnSync(binary, ['-h'], { encoding: 'utf8', timeout: 5000 });
  return /mosquitto version (\S+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? 'unknown version';
}

export interface Mosquitto {
  pid: number;
  port: number;
  /** The server's identity (an agent-style Ed25519 self-signed certificate), to pin. */
  server: AgentIdentity;
  stop(): Promise<void>;
}

/**
 * Mosquitto (Debian's 2.0.x) on 127.0.0.1 with a TLS 1.3 listener (Ed25519
 * certificate, client certificate required, the CN as user name), an ACL and
 * no persistence; its own port, its own generated config.
 */
export async function startMosquitto(binary: string, clients: AgentIdentity[], tcpNoDelay: boolean): Promise<Mosquitto> {
  const server = await newIdentity('mosquitto');
  const dir = tempDir('tonari-bench-mosquitto-');
  const port = await freePort();
  const files = {
    port,
    cafile: join(dir, 'clients.pem'),
    certfile: join(dir, 'server.crt'),
    keyfile: join(dir, 'server.key'),
    aclFile: join(dir, 'acl'),
    user: userInfo().username,
    tcpNoDelay,
  };
  writeFileSync(files.cafile, clients.map((c) => c.certPem).join(''));
  writeFileSync(files.certfile, server.identity.certPem);
  writeFileSync(files.keyfile, server.identity.keyPem, { mode: 0o600 });
  writeFileSync(files.aclFile, mosquittoAcl());
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, mosquittoConfig(files));
  const tracked = spawnTracked(binary, ['-c', conf]);
  try {
    await Promise.race([
      waitForPort(port, 10_000),
      new Promise<never>((_, reject) => tracked.child.once('exit', (code) => reject(new Error(`mosquitto exited (${code}): ${tracked.output().trim()}`)))),
    ]);
  } catch (error) {
    await tracked.stop();
    throw error;
  }
  return { pid: tracked.pid, port, server: server.identity, stop: () => tracked.stop(3000) };
}

// ---------------------------------------------------------------- clients

/**
 * connectPinned's `extra` with a source address. tls.connect hands its options
 * to net.connect, which binds `localAddress`; Node's TLS typings just do not
 * list it (net.TcpSocketConnectOpts does).
 */
export function fromSource(localAddress: string): NonNullable<PinnedConnectOptions['extra']> {
  const extra: NonNullable<PinnedConnectOptions['extra']> & Pick<net.TcpSocketConnectOpts, 'localAddress'> = { localAddress };
  return extra;
}

export interface PinnedClientOptions {
  self: AgentIdentity;
  port: number;
  /** The server key fingerprint to pin. */
  serverFingerprint: string;
  /** Bind the client socket to this source address. */
  localAddress?: string;
  timeoutMs?: number;
  /** TCP_NODELAY on the client's socket. */
  noDelay?: boolean;
}

/** An mqtt.js client over mutual TLS 1.3 pinned to the server's key, client id = our peer id, behind the packet guard (as a NeighbourLink). */
export function pinnedClient(o: PinnedClientOptions): Promise<MqttClient> {
  const client = new MqttClient(() => {
    const socket = connectPinned(o.self, { host: '127.0.0.1', port: o.port, expectedFingerprint: o.serverFingerprint, ...(o.localAddress ? { extra: fromSource(o.localAddress) } : {}) });
    if (o.noDelay) socket.setNoDelay(true);
    return new GuardedConnection(socket, { maxPacketBytes: 64 * 1024, onViolation: () => {} });
  }, { clientId: o.self.peerId, protocolVersion: 4, clean: true, keepalive: 30, reconnectPeriod: 0, connectTimeout: o.timeoutMs ?? 10_000 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { client.end(true); reject(new Error('MQTT connect timed out')); }, o.timeoutMs ?? 10_000);
    client.once('connect', () => { clearTimeout(timer); client.removeAllListeners('error'); client.on('error', () => {}); resolve(client); });
    client.once('error', (err) => { clearTimeout(timer); client.end(true); reject(err); });
    client.once('close', () => { clearTimeout(timer); reject(new Error('connection closed before CONNACK')); });
  });
}

/** Subscribes and insists the broker granted it. */
export function subscribe(client: MqttClient, filter: string, qos: 0 | 1 = 1): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no SUBACK for ${filter}`)), 10_000);
    client.subscribe(filter, { qos }, (err, granted) => {
      clearTimeout(timer);
      if (err) return reject(err);
      const g = granted?.[0]?.qos;
      if (g === undefined || g === 128) return reject(new Error(`subscription to ${filter} refused`));
      resolve();
    });
  });
}

export function endClient(client: MqttClient | undefined): Promise<void> {
  if (!client) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000);
    client.end(true, {}, () => { clearTimeout(timer); resolve(); });
  });
}
