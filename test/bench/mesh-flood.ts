/**
 * bench:mesh (3): the embedded broker's RSS under a flood of oversized
 * packets, bounded in count and time. The broker (agent mode, product limits)
 * runs in a child process so its RSS is its own (/proc/PID/status); trusted
 * clients in this process complete the pinned TLS handshake and then send
 * MQTT fixed headers announcing huge packets, or stream big bodies (see
 * FLOOD_KINDS). Each worker has its own identity and its own 127.0.0.x source
 * address, as neighbours on a LAN would.
 *
 * Phases, each bounded in count and time, RSS sampled every 50 ms:
 *   1. warm-up: as many well-behaved connections (CONNECT, CONNACK,
 *      DISCONNECT) as the flood will make. A fresh Node process grows its
 *      young generation and its allocator arenas with its first few hundred
 *      TLS connections whatever they carry; this phase's growth is printed,
 *      so that part is seen, not hidden;
 *   2. the flood (the headline): growth = peak RSS during it and the 2 s
 *      after, minus the RSS before it (after phase 1 and a full GC);
 *   3. control: the same count of well-behaved connections again, so the
 *      flood's figure can be read against plain connection churn.
 * Afterwards a normal neighbour must still be served.
 */
import type { TLSSocket } from 'node:tls';
import type { MqttClient } from 'mqtt';
import { connectPinned } from '../../agent/identity/tls.js';
import { publicTopic } from '../../agent/mesh/topics.js';
import type { BrokerStats } from '../../broker/index.js';
import { delay, sampleProc } from './devices-procs.js';
import {
  connectPacket, CONTROL_KIND, fixedHeader, loopbackSource, MAX_REMAINING_LENGTH, PACKET_TYPE, publishPacket, rssGrowthMB, disconnectPacket, FLOOD_KINDS, type AttemptKind,
} from './mesh-figures.js';
import { endClient, fromSource, newIdentity, pinnedClient, startBrokerChild, subscribe, type BenchIdentity, type BrokerChild } from './mesh-procs.js';

export interface FloodSettings {
  /** Attempts in the flood; the warm-up and the control make as many well-behaved connections. */
  attempts: number;
  workers: number;
  /** Per phase. */
  capMs: number;
  /** Per attempt: give up waiting for the broker to close after this long. */
  attemptTimeoutMs: number;
  /** Kinds of flood attempt, in rotation. */
  kinds: readonly AttemptKind[];
}

export const DEFAULT_FLOOD: FloodSettings = { attempts: 300, workers: 8, capMs: 20_000, attemptTimeoutMs: 3_000, kinds: FLOOD_KINDS };

const MiB = 1024 * 1024;
/** Largest remaining length the broker accepts (its product default). */
const PACKET_LIMIT = 64 * 1024;

export interface PhaseFigures {
  name: 'warm-up' | 'flood' | 'control';
  attempts: number;
  byKind: Partial<Record<AttemptKind, { attempts: number; closed: number }>>;
  /** Bytes the phase asked the broker to buffer (announced lengths), and bytes it actually wrote. */
  announcedMB: number;
  writtenMB: number;
  seconds: number;
  /** Before the phase (after a full GC). */
  rssBeforeMB: number;
  /** Highest RSS sampled during the phase and the 2 s after it. */
  rssPeakMB: number;
  samples: number;
  /** rssPeakMB − rssBeforeMB. */
  growthMB: number;
  /** After the phase, the 2 s and a full GC. */
  rssAfterGcMB: number;
  heapAfterGc: MemoryMB;
}

export interface FloodFigures {
  settings: FloodSettings;
  phases: PhaseFigures[];
  /** The flood phase's growth: the headline. */
  growthMB: number;
  heapBefore: MemoryMB;
  rejected: Partial<BrokerStats['rejected']>;
  servesAfterwards: boolean;
  errors: string[];
}

export interface MemoryMB { heapUsed: number; heapTotal: number; external: number; arrayBuffers: number }

const memoryMB = (m: NodeJS.MemoryUsage): MemoryMB => ({
  heapUsed: m.heapUsed / MiB, heapTotal: m.heapTotal / MiB, external: m.external / MiB, arrayBuffers: m.arrayBuffers / MiB,
});

interface AttemptResult { kind: AttemptKind; closed: boolean; announced: number; written: number }

/** One attempt: handshake, misbehave (or not), wait for the connection to close (bounded). */
function attempt(kind: AttemptKind, me: BenchIdentity, port: number, serverFingerprint: string, source: string, timeoutMs: number): Promise<AttemptResult> {
  return new Promise((resolve) => {
    let announced = 0;
    let written = 0;
    let settled = false;
    const socket: TLSSocket = connectPinned(me.identity, { host: '127.0.0.1', port, expectedFingerprint: serverFingerprint, extra: fromSource(source) });
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ kind, closed, announced, written });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const write = (b: Buffer) => { if (!socket.destroyed) { written += b.length; socket.write(b); } };
    socket.on('error', () => {});
    socket.on('data', () => {
      // CONNACK etc.: read and drop; the control says goodbye once it is connected.
      if (kind === 'well-behaved') { write(disconnectPacket()); socket.end(); }
    });
    socket.once('close', () => finish(true));
    socket.once('secureConnect', () => {
      if (kind === 'well-behaved') {
        write(connectPacket(me.identity.peerId));
      } else if (kind === 'connect-header') {
        announced += MAX_REMAINING_LENGTH;
        write(fixedHeader(PACKET_TYPE.CONNECT, MAX_REMAINING_LENGTH));
      } else if (kind === 'publish-stream') {
        write(connectPacket(me.identity.peerId));
        const length = 100_000_000;
        announced += length;
        write(fixedHeader(PACKET_TYPE.PUBLISH, length));
        const chunk = Buffer.alloc(64 * 1024, 0x62);
        for (let sentBytes = 0; sentBytes < MiB; sentBytes += chunk.length) write(chunk);
      } else {
        write(connectPacket(me.identity.peerId));
        // Just under the limit: the guard lets them through; the ACL refuses the first and the broker closes.
        const topic = 'tonari/v1/x/pub/flood';
        const packet = publishPacket(topic, PACKET_LIMIT - (2 + topic.length) - 1);
        for (let i = 0; i < 16; i++) { announced += packet.length; write(packet); }
      }
    });
  });
}

export async function measureFlood(s: FloodSettings = DEFAULT_FLOOD): Promise<FloodFigures> {
  const owner = await newIdentity('flood-owner');
  const normal = await newIdentity('flood-normal');
  const flooders = await Promise.all(Array.from({ length: s.workers }, (_, i) => newIdentity(`flooder${i}`)));
  const errors: string[] = [];
  let child: BrokerChild | undefined;
  let sub: MqttClient | undefined;
  try {
    child = await startBrokerChild('agent', owner, [normal.identity, ...flooders.map((f) => f.identity)]);
    const c = child;
    const rss = () => sampleProc(c.pid).rssMB;
    const topic = publicTopic(owner.identity.peerId, 'offer');
    const settle = async () => {
      await delay(300);
      await c.command({ op: 'gc' });
      await delay(300);
    };

    // A normal neighbour connects and receives, so every code path is loaded.
    sub = await pinnedClient({ self: normal.identity, port: c.port, serverFingerprint: owner.identity.fingerprint, localAddress: loopbackSource(200) });
    await subscribe(sub, `tonari/v1/${owner.identity.peerId}/pub/#`);
    await c.command({ op: 'publish', topic, payload: Buffer.alloc(300, 0x20).toString('base64'), count: 1000, window: 100 });
    await endClient(sub);
    sub = undefined;
    await settle();
    const heapBefore = memoryMB(await c.memory());

    /** `workers` clients at a time, `s.attempts` in all, within `capMs`. */
    const phase = async (name: PhaseFigures['name'], kinds: readonly AttemptKind[]): Promise<PhaseFigures> => {
      const rssBeforeMB = rss();
      const samples: number[] = [];
      const sample = () => { try { samples.push(rss()); } catch { /* gone: no sample */ } };
      const sampler = setInterval(sample, 50);
      const results: AttemptResult[] = [];
      const t0 = performance.now();
      const deadline = t0 + s.capMs;
      let next = 0;
      try {
        await Promise.all(flooders.map(async (me, w) => {
          while (next < s.attempts && performance.now() < deadline) {
            const n = next++;
            const timeout = Math.max(100, Math.min(s.attemptTimeoutMs, deadline - performance.now()));
            results.push(await attempt(kinds[n % kinds.length]!, me, c.port, owner.identity.fingerprint, loopbackSource(100 + w), timeout));
          }
        }));
        const seconds = (performance.now() - t0) / 1000;
        await delay(2000);
        sample();
        clearInterval(sampler);
        await settle();
        const byKind = Object.fromEntries([...new Set(kinds)].map((k) => {
          const of = results.filter((r) => r.kind === k);
          return [k, { attempts: of.length, closed: of.filter((r) => r.closed).length }];
        })) as PhaseFigures['byKind'];
        return {
          name,
          attempts: results.length,
          byKind,
          announcedMB: results.reduce((a, r) => a + r.announced, 0) / MiB,
          writtenMB: results.reduce((a, r) => a + r.written, 0) / MiB,
          seconds,
          rssBeforeMB,
          rssPeakMB: Math.max(rssBeforeMB, ...samples),
          samples: samples.length,
          growthMB: rssGrowthMB(rssBeforeMB, samples),
          rssAfterGcMB: rss(),
          heapAfterGc: memoryMB(await c.memory()),
        };
      } finally {
        clearInterval(sampler);
      }
    };

    const phases = [
      await phase('warm-up', [CONTROL_KIND]),
      await phase('flood', s.kinds),
      await phase('control', [CONTROL_KIND]),
    ];
    const stats = await c.stats();

    // Still serving: a normal neighbour connects, subscribes and receives.
    let servesAfterwards = false;
    try {
      sub = await pinnedClient({ self: normal.identity, port: c.port, serverFingerprint: owner.identity.fingerprint, localAddress: loopbackSource(200), timeoutMs: 5000 });
      await subscribe(sub, `tonari/v1/${owner.identity.peerId}/pub/#`);
      let got = 0;
      sub.on('message', () => { got++; });
      await c.command({ op: 'publish', topic, payload: Buffer.alloc(300, 0x20).toString('base64'), count: 10, window: 10 });
      const until = Date.now() + 5000;
      while (got < 10 && Date.now() < until) await delay(20);
      servesAfterwards = got === 10;
      if (!servesAfterwards) errors.push(`after the flood a normal neighbour received ${got}/10 messages`);
    } catch (error) {
      errors.push(`after the flood a normal neighbour could not connect: ${(error as Error).message}`);
    }
    for (const p of phases) {
      for (const [k, v] of Object.entries(p.byKind)) if (v.closed < v.attempts) errors.push(`${p.name}: ${v.attempts - v.closed} ${k} connections not closed within ${s.attemptTimeoutMs} ms`);
    }

    const { too_big, malformed, acl, conn_limit, tls_rejected } = stats.rejected;
    return {
      settings: s,
      phases,
      growthMB: phases[1]!.growthMB,
      heapBefore,
      rejected: { too_big, malformed, acl, conn_limit, tls_rejected },
      servesAfterwards,
      errors,
    };
  } finally {
    await endClient(sub);
    await child?.stop();
  }
}
