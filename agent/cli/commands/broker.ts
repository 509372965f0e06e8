import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DestinationStream } from 'pino';
import { startBroker, type BrokerMode } from '../../../broker/index.js';
import { systemClock } from '../../core/clock.js';
import { createLogger, type LogLevel } from '../../core/log.js';
import { IdentityError, KEY_FILE, loadOrCreateIdentity } from '../../identity/key-store.js';
import { TrustStore, TrustStoreError } from '../../identity/trust-store.js';
import { statusTopic } from '../../mesh/topics.js';
import { commandLine, isPermissionError, permissionHint } from '../hints.js';
import { EXIT, writeLine, type CliIO } from '../io.js';

const DEFAULT_STATE_DIR = '/var/lib/tonari';

const USAGE = `usage: tonari broker [--host ADDR] [--port PORT] [--local-port PORT|none] [--state-dir DIR] [options]

Runs a standalone MQTT broker (a community hub) over mutual TLS 1.3. Only
neighbours whose key is trusted connect: peers paired in the state directory
(tonari pair) and those given with --trust. In hub mode each member publishes
under its own root (tonari/v1/<peer id>/...) and reads what the others say
publicly or to it; in agent mode only this broker's own identity publishes.

  --host ADDR         TLS bind address (default 0.0.0.0)
  --port PORT         TLS port (default 8883)
  --local-port PORT   read-only plaintext listener on 127.0.0.1 for local tools
                      (default 1883; 0 picks a free port; none disables it)
  --state-dir DIR     identity key and trusted peers (default $STATE_DIRECTORY or ${DEFAULT_STATE_DIR})
  --trust FP          also trust this key fingerprint (64 hex digits); repeatable
  --mode hub|agent    access rules (default hub)
  --log-level LEVEL   fatal, error, warn, info (default), debug, trace, silent`;

function portOf(name: string, text: string | undefined, fallback: number): number | string {
  if (text === undefined) return fallback;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : `--${name}: expected a port number from 0 to 65535, got "${text}"`;
}

/** Runs the broker until `stop` resolves. Exported for tests; `brokerCommand` stops on SIGINT/SIGTERM. */
export async function runBroker(argv: string[], io: CliIO, stop: Promise<void>): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' }, port: { type: 'string' }, 'local-port': { type: 'string' }, 'state-dir': { type: 'string' },
        trust: { type: 'string', multiple: true }, mode: { type: 'string' }, 'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    writeLine(io.stderr, `tonari broker: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (values.help) {
    writeLine(io.stdout, USAGE);
    return EXIT.OK;
  }
  const fail = (message: string) => { writeLine(io.stderr, `tonari broker: ${message}`); return EXIT.USAGE; };
  const port = portOf('port', values.port, 8883);
  if (typeof port === 'string') return fail(port);
  const localPort = values['local-port'] === 'none' ? null : portOf('local-port', values['local-port'], 1883);
  if (typeof localPort === 'string') return fail(localPort);
  const mode = values.mode ?? 'hub';
  if (mode !== 'hub' && mode !== 'agent') return fail(`--mode: expected hub or agent, got "${mode}"`);
  const levels: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!levels.includes(level)) return fail(`--log-level: expected one of ${levels.join(', ')}, got "${level}"`);

  const stateDir = values['state-dir'] ?? process.env.STATE_DIRECTORY?.split(':')[0] ?? DEFAULT_STATE_DIR;
  const log = createLogger(io.isTTY ? { level } : { level, destination: io.stdout as unknown as DestinationStream });
  let identity;
  let trust;
  try {
    identity = await loadOrCreateIdentity(stateDir, { clock: systemClock, log });
    trust = await TrustStore.open(stateDir, { clock: systemClock, log, allowList: (values.trust ?? []).map((fingerprint) => ({ fingerprint })) });
  } catch (error) {
    if (error instanceof IdentityError) {
      writeLine(io.stderr, `tonari broker: ${error.message} (${join(stateDir, KEY_FILE)})`);
      if (isPermissionError(error)) writeLine(io.stderr, `tonari broker: ${permissionHint(commandLine('broker', argv))}`);
      return error.code === 'key_unreadable' || error.code === 'state_dir' ? EXIT.IOERR : EXIT.CONFIG;
    }
    if (error instanceof TrustStoreError) {
      writeLine(io.stderr, `tonari broker: ${error.message}`);
      return EXIT.CONFIG;
    }
    throw error;
  }

  let broker;
  try {
    broker = await startBroker({
      identity: { peerId: identity.peerId, keyPem: identity.keyPem, certPem: identity.certPem },
      trust,
      onUnknownPeer: (fingerprint) => log.info({ event: 'unknown_peer', fingerprint }, 'an untrusted key tried to connect (pair it with tonari pair to let it in)'),
      host: values.host ?? '0.0.0.0',
      port,
      localPort,
      mode: mode as BrokerMode,
      log,
      clock: systemClock,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    writeLine(io.stderr, `tonari broker: cannot listen: ${(error as Error).message}`);
    return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' ? EXIT.UNAVAILABLE : EXIT.SOFTWARE;
  }
  const stopTrustWatch = trust.onChange((change) => { if (change.type === 'removed') broker.disconnect(change.peer.peerId); });
  await broker.publish(statusTopic(identity.peerId), 'online', { qos: 1, retain: true });

  const tlsAt = broker.tlsAddress();
  const localAt = broker.localAddress();
  writeLine(io.stdout, `tonari broker (${mode}) ${identity.peerId} fingerprint ${identity.fingerprint}`);
  writeLine(io.stdout, `listening on mqtts://${tlsAt.host}:${tlsAt.port}${localAt ? `, local read-only mqtt://${localAt.host}:${localAt.port}` : ''}; ${trust.list().length} trusted peer(s)`);

  await stop;
  stopTrustWatch();
  await broker.publish(statusTopic(identity.peerId), 'offline', { qos: 1, retain: true }).catch(() => {});
  await broker.close();
  return EXIT.OK;
}

export async function brokerCommand(argv: string[], io: CliIO): Promise<number> {
  let done: () => void = () => {};
  const stop = new Promise<void>((resolve) => { done = resolve; });
  const onSignal = () => done();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runBroker(argv, io, stop);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
