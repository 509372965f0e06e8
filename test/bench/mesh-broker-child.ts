/**
 * The embedded broker alone in a process, for bench:mesh: so that its RSS and
 * CPU are its own (/proc/PID), and so that the clients measuring it do not
 * share its event loop (as with Mosquitto).
 *
 *   node mesh-broker-child.js <config.json>
 *
 * config: { mode: 'agent'|'hub', stateDir, trusted: [fingerprint…] }. The
 * identity is loaded from stateDir (the parent created it), trust is the
 * installer allow-list, every guard is at its product default.
 *
 * stdout: one JSON object per line; first {"ready":true,"port":…,"peerId":…}.
 * stdin: one JSON command per line, each answered by one line with the same `op`:
 *   {"op":"publish","topic":…,"payload":base64,"count":N,"window":W,"qos":1}
 *       the owner's in-process publishes, at most W unfinished at a time
 *   {"op":"stats"}   the broker's stats()
 *   {"op":"gc"}      a full garbage collection (when run with --expose-gc)
 *   {"op":"memory"}  process.memoryUsage(), bytes
 * The process exits when stdin closes, or when the parent goes away.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { loadOrCreateIdentity } from '../../agent/identity/key-store.js';
import { TrustStore } from '../../agent/identity/trust-store.js';
import { startBroker, type BrokerHandle } from '../../broker/index.js';

interface ChildConfig {
  mode: 'agent' | 'hub';
  stateDir: string;
  trusted: string[];
}

type Command =
  | { op: 'publish'; topic: string; payload: string; count: number; window: number; qos?: 0 | 1 }
  | { op: 'stats' }
  | { op: 'gc' }
  | { op: 'memory' };

const reply = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function publishBurst(broker: BrokerHandle, c: Extract<Command, { op: 'publish' }>): Promise<Record<string, unknown>> {
  const payload = Buffer.from(c.payload, 'base64');
  const count = Math.max(0, Math.min(c.count, 1_000_000));
  const window = Math.max(1, Math.min(c.window, 10_000));
  const started = performance.now();
  let sent = 0;
  let done = 0;
  let failed = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < count && sent - done < window) {
        sent++;
        broker.publish(c.topic, payload, { qos: c.qos ?? 1 }).then(
          () => { done++; after(); },
          () => { done++; failed++; after(); },
        );
      }
    };
    const after = () => {
      if (done === count) resolve();
      else pump();
    };
    if (count === 0) resolve();
    else pump();
  });
  return { op: 'publish', count, failed, ms: performance.now() - started };
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: mesh-broker-child <config.json>');
  const config = JSON.parse(readFileSync(file, 'utf8')) as ChildConfig;
  const log = silentLogger();
  const identity = await loadOrCreateIdentity(config.stateDir, { clock: systemClock, log });
  const trust = await TrustStore.open(config.stateDir, { allowList: config.trusted.map((fingerprint) => ({ fingerprint })), clock: systemClock, log });
  const broker = await startBroker({
    identity: { peerId: identity.peerId, keyPem: identity.keyPem, certPem: identity.certPem },
    trust, host: '127.0.0.1', port: 0, localPort: null, mode: config.mode, log,
  });
  reply({ ready: true, port: broker.tlsAddress().port, peerId: identity.peerId });

  let queue: Promise<void> = Promise.resolve();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    queue = queue.then(async () => {
      const c = JSON.parse(line) as Command;
      if (c.op === 'publish') reply(await publishBurst(broker, c));
      else if (c.op === 'stats') reply({ op: 'stats', stats: broker.stats() });
      else if (c.op === 'gc') {
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        reply({ op: 'gc', ran: gc !== undefined });
      } else if (c.op === 'memory') reply({ op: 'memory', memory: process.memoryUsage() });
      else reply({ op: 'error', error: `unknown command ${line}` });
    }).catch((error: Error) => { reply({ op: 'error', error: error.message }); });
  });
  lines.on('close', () => {
    void broker.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  });
  // The parent holds our stdin; if it dies without closing it, the IPC-less pipe still closes.
  process.on('SIGTERM', () => { void broker.close().finally(() => process.exit(0)); });
}

main().catch((error: Error) => {
  process.stderr.write(`mesh-broker-child: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
