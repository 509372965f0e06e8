import { parseArgs } from 'node:util';
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { isValidCheckCode } from '../../identity/check-code.js';
import { normalizeFingerprint, TrustStore, TrustStoreError, type TrustedPeer } from '../../identity/trust-store.js';
import { EXIT, writeLine, type CliIO } from '../io.js';
import { DEFAULT_STATE_DIR, resolveStateDir } from './identity.js';

const USAGE = `usage: tonari pair [--state-dir DIR] --add FINGERPRINT --code CODE [--name NAME]
       tonari pair [--state-dir DIR] --list [--json]
       tonari pair [--state-dir DIR] --remove FINGERPRINT

Manages the neighbours paired with this agent, kept in the state directory.
(Neighbours the installer lists under trust.peers in the configuration are
trusted as well, and are changed only there.)

  --add FINGERPRINT   trust a neighbour: its fingerprint and check code are the ones
                      its own \`tonari identity\` prints
  --code CODE         that neighbour's check code, e.g. 1234-5678-901
  --name NAME         a name to show for it
  --list              list trusted neighbours
  --remove FINGERPRINT  stop trusting a paired neighbour
  --json              with --list: print a JSON array
  --state-dir DIR     state directory (default $STATE_DIRECTORY or ${DEFAULT_STATE_DIR})

  --window DURATION   (with a running agent, not yet available) accept new neighbours
                      for DURATION, e.g. 10m, each after its check code is entered`;

const OPTIONS = {
  'state-dir': { type: 'string' },
  add: { type: 'string' },
  code: { type: 'string' },
  name: { type: 'string' },
  list: { type: 'boolean' },
  remove: { type: 'string' },
  json: { type: 'boolean' },
  window: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usageError(io: CliIO, message: string): number {
  writeLine(io.stderr, `tonari pair: ${message}\n\n${USAGE}`);
  return EXIT.USAGE;
}

function describe(peer: TrustedPeer): string {
  return `${peer.peerId}  ${peer.fingerprint}  ${peer.source.padEnd(6)}  ${peer.name ?? ''}`.trimEnd();
}

export async function pairCommand(argv: string[], io: CliIO): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: OPTIONS, strict: true });
  } catch (error) {
    return usageError(io, (error as Error).message);
  }
  const { values } = args;
  if (values.help) {
    writeLine(io.stdout, USAGE);
    return EXIT.OK;
  }
  const actions = [values.add !== undefined, values.list === true, values.remove !== undefined, values.window !== undefined].filter(Boolean).length;
  if (actions !== 1) return usageError(io, 'give exactly one of --add, --list, --remove');
  if (values.window !== undefined) {
    writeLine(io.stderr, 'tonari pair: --window needs a running agent to talk to, which this version cannot do yet; use --add with the neighbour\'s fingerprint and check code');
    return EXIT.UNAVAILABLE;
  }
  if (values.add !== undefined && values.code === undefined) return usageError(io, '--add needs --code, the check code the neighbour\'s `tonari identity` shows');
  if (values.add === undefined && (values.code !== undefined || values.name !== undefined)) return usageError(io, '--code and --name go with --add');
  if (values.json && !values.list) return usageError(io, '--json goes with --list');

  const stateDir = resolveStateDir(values['state-dir']);
  let store: TrustStore;
  try {
    store = await TrustStore.open(stateDir, { clock: systemClock, log: silentLogger() });
  } catch (error) {
    if (!(error instanceof TrustStoreError)) throw error;
    writeLine(io.stderr, `tonari pair: ${error.message}`);
    return EXIT.CONFIG;
  }

  if (values.list) {
    const peers = store.list();
    if (values.json) writeLine(io.stdout, JSON.stringify(peers.map((p) => ({ ...p, ...(p.pairedAt !== undefined ? { pairedAt: new Date(p.pairedAt).toISOString() } : {}) }))));
    else if (peers.length === 0) writeLine(io.stdout, 'no trusted neighbours yet; add one with tonari pair --add FINGERPRINT --code CODE');
    else for (const peer of peers) writeLine(io.stdout, describe(peer));
    return EXIT.OK;
  }

  if (values.remove !== undefined) {
    const fingerprint = normalizeFingerprint(values.remove);
    if (!fingerprint) return usageError(io, `not a fingerprint (64 hex digits): ${values.remove}`);
    const result = await store.remove(fingerprint);
    if (result === 'removed') {
      writeLine(io.stdout, `removed ${fingerprint}`);
      return EXIT.OK;
    }
    writeLine(io.stderr, result === 'configured'
      ? `tonari pair: ${fingerprint} is listed under trust.peers in the configuration; remove it there`
      : `tonari pair: ${fingerprint} is not a paired neighbour`);
    return EXIT.FAILURE;
  }

  const add = values.add as string;
  const code = values.code as string;
  if (!normalizeFingerprint(add)) return usageError(io, `not a fingerprint (64 hex digits): ${add}`);
  if (!isValidCheckCode(code)) {
    writeLine(io.stderr, `tonari pair: ${code} is not a valid check code (11 digits with a check digit); re-read it from the neighbour`);
    return EXIT.FAILURE;
  }
  const result = await store.add(add, code, values.name);
  if (result.status === 'added') {
    writeLine(io.stdout, `paired ${result.peer.peerId}${result.peer.name ? ` (${result.peer.name})` : ''}`);
    return EXIT.OK;
  }
  const messages: Partial<Record<typeof result.reason, string>> = {
    wrong_code: 'the check code does not belong to this fingerprint; one of them was mistyped, or it is not the neighbour you think',
    already_trusted: 'this neighbour is already trusted',
    bad_name: '--name must be 1-64 printable characters',
  };
  writeLine(io.stderr, `tonari pair: ${messages[result.reason] ?? `refused (${result.reason})`}`);
  return EXIT.FAILURE;
}
