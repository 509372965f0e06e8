/**
 * bench:mesh (2): QoS 1 throughput of one ~300-byte signed envelope,
 * publisher → broker → one subscriber, over mutual TLS 1.3, with the broker in
 * its own process:
 *
 *   agent   tonari's own use: the owner publishes in-process (`broker.publish`,
 *           in the broker's process) to a pinned neighbour subscriber;
 *   hub     like for like with Mosquitto: an mqtt.js publisher → the embedded
 *           broker in hub mode → an mqtt.js subscriber, all guards on;
 *   mosquitto  the same two clients → Mosquitto (TLS 1.3, client certificate
 *           required, ACL, no in-flight cap), with Nagle as the embedded
 *           broker has it, and with TCP_NODELAY (Mosquitto's fastest).
 *
 * The mqtt.js publisher keeps at most WINDOW messages unreceived end to end
 * (published − received), so neither broker queues without bound; each run
 * has a fixed count, a warm-up first and a time cap.
 */
import type { MqttClient } from 'mqtt';
import { systemClock } from '../../agent/core/clock.js';
import { sealEnvelope } from '../../agent/mesh/envelope.js';
import { publicTopic } from '../../agent/mesh/topics.js';
import { sampleProc } from './devices-procs.js';
import { msgsPerSecond, type Setup } from './mesh-figures.js';
import { endClient, newIdentity, pinnedClient, startBrokerChild, startMosquitto, subscribe, type BenchIdentity, type BrokerChild, type Mosquitto } from './mesh-procs.js';

export interface ThroughputSettings {
  count: number;
  warmup: number;
  window: number;
  capMs: number;
}

export const DEFAULT_THROUGHPUT: ThroughputSettings = { count: 30_000, warmup: 3_000, window: 500, capMs: 20_000 };

/**
 * The measuring clients' sockets get TCP_NODELAY: mqtt.js writes a packet in
 * several small pieces, and with Nagle on the clients' side the runs stall on
 * delayed ACKs at random, which would measure the clients, not the brokers.
 * The brokers keep their own socket settings.
 */
export const CLIENT_NODELAY = true;

export interface ThroughputRow {
  label: string;
  setup: Setup;
  sent: number;
  received: number;
  ms: number;
  msgsPerSecond: number;
  /** Broker process CPU per delivered message, µs (utime+stime from /proc). */
  brokerCpuUsPerMsg: number;
  /** This process's CPU per delivered message, µs: the mqtt.js clients (publisher and subscriber, or just the subscriber). */
  clientCpuUsPerMsg: number;
  note?: string;
}

export interface ThroughputFigures {
  payloadBytes: number;
  settings: ThroughputSettings;
  rows: ThroughputRow[];
  errors: string[];
}

/** A signed envelope of ~300 bytes, as Mesh.publish would put on the wire. */
export function benchPayload(signer: BenchIdentity): { bytes: Buffer; kind: string } {
  let seq = 1;
  const sealed = sealEnvelope({
    type: 'offer',
    body: { w: 1500, price: 0.21, until: 1_767_225_600_000, note: 'surplus pv, battery full', zone: 'lan-1', slots: [1, 2, 3] },
  }, { peerId: signer.identity.peerId, privateKey: signer.identity.privateKey, nextSeq: () => seq++ }, systemClock);
  return { bytes: sealed.bytes, kind: 'offer' };
}

const cpuSeconds = (pid: number): number => sampleProc(pid).cpuSeconds;

/** Counts messages on `sub`, and drives `publishOne` keeping at most `window` unreceived; resolves at `count` received or at the cap. */
function flow(sub: MqttClient, count: number, window: number, capMs: number, publishOne: () => void): Promise<{ sent: number; received: number; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    let sent = 0;
    let received = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(cap);
      sub.removeListener('message', onMessage);
      resolve({ sent, received, ms: performance.now() - started });
    };
    const pump = () => {
      while (!finished && sent < count && sent - received < window) {
        sent++;
        publishOne();
      }
    };
    const onMessage = () => {
      received++;
      if (received >= count) finish();
      else pump();
    };
    const cap = setTimeout(finish, capMs);
    sub.on('message', onMessage);
    pump();
  });
}

/** Counts messages on `sub` while `start` (the child's in-process burst) runs; resolves at `count` received or at the cap. */
function countWhile(sub: MqttClient, count: number, capMs: number, start: () => Promise<unknown>): Promise<{ received: number; ms: number; error?: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    let received = 0;
    let finished = false;
    let error: string | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(cap);
      sub.removeListener('message', onMessage);
      resolve({ received, ms: performance.now() - started, ...(error ? { error } : {}) });
    };
    const onMessage = () => { if (++received >= count) finish(); };
    const cap = setTimeout(finish, capMs);
    sub.on('message', onMessage);
    start().catch((e: Error) => { error = e.message; finish(); });
  });
}

async function measured<T extends { ms: number; received: number }>(pid: number, run: () => Promise<T>): Promise<T & { cpuUsPerMsg: number; clientCpuUsPerMsg: number }> {
  const before = cpuSeconds(pid);
  const ours = process.cpuUsage();
  const r = await run();
  const cpu = cpuSeconds(pid) - before;
  const client = process.cpuUsage(ours);
  const perMsg = (us: number) => (r.received > 0 ? us / r.received : NaN);
  return { ...r, cpuUsPerMsg: perMsg(cpu * 1e6), clientCpuUsPerMsg: perMsg(client.user + client.system) };
}

/** The owner's in-process publishes on its own broker (agent mode) to one pinned TLS neighbour. */
async function agentRun(s: ThroughputSettings, payload: Buffer, kind: string): Promise<ThroughputRow> {
  const owner = await newIdentity('owner');
  const neighbour = await newIdentity('neighbour');
  let child: BrokerChild | undefined;
  let sub: MqttClient | undefined;
  try {
    child = await startBrokerChild('agent', owner, [neighbour.identity]);
    sub = await pinnedClient({ self: neighbour.identity, port: child.port, serverFingerprint: owner.identity.fingerprint, noDelay: CLIENT_NODELAY });
    await subscribe(sub, `tonari/v1/${owner.identity.peerId}/pub/#`);
    const topic = publicTopic(owner.identity.peerId, kind);
    const burst = (count: number) => () => child!.command({ op: 'publish', topic, payload: payload.toString('base64'), count, window: s.window, qos: 1 }, s.capMs + 10_000);
    await countWhile(sub, s.warmup, s.capMs, burst(s.warmup));
    const r = await measured(child.pid, () => countWhile(sub!, s.count, s.capMs, burst(s.count)));
    return {
      label: 'aedes, agent mode: owner in-process → TLS neighbour', setup: 'agent', sent: s.count, received: r.received, ms: r.ms,
      msgsPerSecond: msgsPerSecond(r.received, r.ms), brokerCpuUsPerMsg: r.cpuUsPerMsg, clientCpuUsPerMsg: r.clientCpuUsPerMsg, ...(r.error ? { note: r.error } : {}),
    };
  } finally {
    await endClient(sub);
    await child?.stop();
  }
}

/** mqtt.js publisher → broker → mqtt.js subscriber, both over pinned mutual TLS. */
async function clientsRun(
  label: string, setup: Setup, pid: number, port: number, serverFingerprint: string,
  pub: BenchIdentity, subId: BenchIdentity, s: ThroughputSettings, payload: Buffer, kind: string,
): Promise<ThroughputRow> {
  let publisher: MqttClient | undefined;
  let sub: MqttClient | undefined;
  try {
    publisher = await pinnedClient({ self: pub.identity, port, serverFingerprint, noDelay: CLIENT_NODELAY });
    sub = await pinnedClient({ self: subId.identity, port, serverFingerprint, noDelay: CLIENT_NODELAY });
    await subscribe(sub, `tonari/v1/${pub.identity.peerId}/pub/#`);
    const topic = publicTopic(pub.identity.peerId, kind);
    let pubErrors = 0;
    const p = publisher;
    const publishOne = () => { p.publish(topic, payload, { qos: 1 }, (err) => { if (err) pubErrors++; }); };
    await flow(sub, s.warmup, s.window, s.capMs, publishOne);
    const r = await measured(pid, () => flow(sub!, s.count, s.window, s.capMs, publishOne));
    const lost = r.sent - r.received;
    const notes = [lost > 0 ? `${lost} not received by the cap` : '', pubErrors > 0 ? `${pubErrors} publish errors` : ''].filter(Boolean);
    return {
      label, setup, sent: r.sent, received: r.received, ms: r.ms, msgsPerSecond: msgsPerSecond(r.received, r.ms), brokerCpuUsPerMsg: r.cpuUsPerMsg, clientCpuUsPerMsg: r.clientCpuUsPerMsg,
      ...(notes.length ? { note: notes.join('; ') } : {}),
    };
  } finally {
    await endClient(publisher);
    await endClient(sub);
  }
}

async function hubRun(s: ThroughputSettings, payload: Buffer, kind: string, pub: BenchIdentity, sub: BenchIdentity): Promise<ThroughputRow> {
  const hub = await newIdentity('hub');
  let child: BrokerChild | undefined;
  try {
    child = await startBrokerChild('hub', hub, [pub.identity, sub.identity]);
    return await clientsRun('aedes, hub mode: mqtt.js → TLS → TLS subscriber', 'hub', child.pid, child.port, hub.identity.fingerprint, pub, sub, s, payload, kind);
  } finally {
    await child?.stop();
  }
}

export interface MosquittoBinary { path: string; version: string }

async function mosquittoRun(bin: MosquittoBinary, noDelay: boolean, s: ThroughputSettings, payload: Buffer, kind: string, pub: BenchIdentity, sub: BenchIdentity): Promise<ThroughputRow> {
  let mosquitto: Mosquitto | undefined;
  try {
    mosquitto = await startMosquitto(bin.path, [pub.identity, sub.identity], noDelay);
    return await clientsRun(`mosquitto ${bin.version}${noDelay ? ', TCP_NODELAY' : ''}: mqtt.js → TLS → TLS subscriber`, 'mosquitto', mosquitto.pid, mosquitto.port, mosquitto.server.fingerprint, pub, sub, s, payload, kind);
  } finally {
    await mosquitto?.stop();
  }
}

const failedRow = (label: string, setup: Setup, error: Error): ThroughputRow => ({
  label, setup, sent: 0, received: 0, ms: NaN, msgsPerSecond: NaN, brokerCpuUsPerMsg: NaN, clientCpuUsPerMsg: NaN, note: `FAILED: ${error.message}`,
});

/**
 * Hub and Mosquitto (both socket settings) are measured alternately, `rounds` times each, so drift on a shared machine
 * hits both; the best of each counts, whichever Mosquitto setting it came from. Without a Mosquitto binary only the
 * aedes rows are measured.
 */
export async function measureThroughput(mosquitto: MosquittoBinary | undefined, s: ThroughputSettings = DEFAULT_THROUGHPUT, rounds = 2): Promise<ThroughputFigures> {
  const pub = await newIdentity('publisher');
  const sub = await newIdentity('subscriber');
  const { bytes, kind } = benchPayload(pub);
  const errors: string[] = [];
  const attempt = async (label: string, setup: Setup, run: () => Promise<ThroughputRow>): Promise<ThroughputRow> => {
    try {
      return await run();
    } catch (error) {
      errors.push(`${label}: ${(error as Error).message}`);
      return failedRow(label, setup, error as Error);
    }
  };
  const rows: ThroughputRow[] = [];
  rows.push(await attempt('aedes agent', 'agent', () => agentRun(s, bytes, kind)));
  for (let round = 1; round <= rounds; round++) {
    const h = await attempt('aedes hub', 'hub', () => hubRun(s, bytes, kind, pub, sub));
    rows.push({ ...h, label: `${h.label} (run ${round})` });
    if (!mosquitto) continue;
    for (const noDelay of [false, true]) {
      const m = await attempt('mosquitto', 'mosquitto', () => mosquittoRun(mosquitto, noDelay, s, bytes, kind, pub, sub));
      rows.push({ ...m, label: `${m.label} (run ${round})` });
    }
  }
  return { payloadBytes: bytes.length, settings: s, rows, errors };
}
