import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { formatDuration, parseDuration } from '../../config/duration.js';
import { AgentUnavailableError, ControlClient, ControlRequestError, controlSocketPath } from '../../control/client.js';
import { MAX_WINDOW_MS, MIN_WINDOW_MS, type PendingResult } from '../../control/protocol.js';
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { isValidCheckCode } from '../../identity/check-code.js';
import { normalizeFingerprint, TrustStore, TrustStoreError, type ConfirmResult, type RejectionReason as ConfirmRefusal, type TrustedPeer } from '../../identity/trust-store.js';
import { agentUnavailableHint, commandLine, isPermissionError, permissionHint } from '../hints.js';
import { EXIT, writeLine, type CliIO } from '../io.js';
import { DEFAULT_STATE_DIR, resolveStateDir } from './identity.js';

const USAGE = `usage: tonari pair [--state-dir DIR] --window DURATION [--code FINGERPRINT=CODE ...]
       tonari pair [--state-dir DIR] --add FINGERPRINT --code CODE [--name NAME]
       tonari pair [--state-dir DIR] --list [--json]
       tonari pair [--state-dir DIR] --remove FINGERPRINT

Manages the neighbours paired with this agent, kept in the state directory.
(Neighbours the installer lists under trust.peers in the configuration are
trusted as well, and are changed only there.)

  --window DURATION   with the agent running: accept new neighbours for DURATION
                      (1s to 1h, e.g. 10m). Shows this agent's check code (enter it on
                      the neighbour) and each neighbour that knocks; type the check code
                      that neighbour's own \`tonari identity\` shows. Do the same on the
                      neighbour. Ctrl-C closes the window.
  --code FP=CODE      with --window, without a terminal: confirm the neighbour with
                      fingerprint FP with CODE when it knocks; may be repeated. Exits
                      when every one is confirmed or refused, or when the window closes.

  --add FINGERPRINT   trust a neighbour: its fingerprint and check code are the ones
                      its own \`tonari identity\` prints
  --code CODE         that neighbour's check code, e.g. 1234-5678-901
  --name NAME         a name to show for it
  --list              list trusted neighbours
  --remove FINGERPRINT  stop trusting a paired neighbour
  --json              with --list: print a JSON array
  --state-dir DIR     state directory (default $STATE_DIRECTORY or ${DEFAULT_STATE_DIR})

--add and --remove go through the running agent when there is one (a removed
neighbour's sessions are closed within 5 s), and change the files directly
when no agent runs on the state directory.`;

const OPTIONS = {
  'state-dir': { type: 'string' },
  add: { type: 'string' },
  code: { type: 'string', multiple: true },
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
  if (actions !== 1) return usageError(io, 'give exactly one of --window, --add, --list, --remove');
  if (values.window !== undefined) {
    if (values.name !== undefined || values.json) return usageError(io, '--name and --json do not go with --window');
    return pairWindow(values.window, values.code ?? [], resolveStateDir(values['state-dir']), io, argv);
  }
  if (values.add !== undefined && values.code?.length !== 1) return usageError(io, '--add needs --code (once), the check code the neighbour\'s `tonari identity` shows');
  if (values.add === undefined && (values.code !== undefined || values.name !== undefined)) return usageError(io, '--code and --name go with --add');
  if (values.json && !values.list) return usageError(io, '--json goes with --list');

  const stateDir = resolveStateDir(values['state-dir']);
  let store: TrustStore;
  try {
    store = await TrustStore.open(stateDir, { clock: systemClock, log: silentLogger() });
  } catch (error) {
    if (!(error instanceof TrustStoreError)) throw error;
    writeLine(io.stderr, `tonari pair: ${error.message}`);
    if (isPermissionError(error)) {
      writeLine(io.stderr, `tonari pair: ${permissionHint(commandLine('pair', argv))}`);
      return EXIT.IOERR;
    }
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
    const answer = await viaAgent(stateDir, 'pair-remove', { fingerprint });
    const result = answer.via === 'files' ? await store.remove(fingerprint) : answer.ok ? 'removed' : answer.code;
    if (result === 'removed') {
      writeLine(io.stdout, `removed ${fingerprint}`);
      return EXIT.OK;
    }
    writeLine(io.stderr, result === 'configured'
      ? `tonari pair: ${fingerprint} is listed under trust.peers in the configuration; remove it there`
      : result === 'not_found' ? `tonari pair: ${fingerprint} is not a paired neighbour`
        : `tonari pair: the agent refused: ${answer.via === 'agent' && !answer.ok ? answer.message : result}`);
    return EXIT.FAILURE;
  }

  const add = values.add as string;
  const code = values.code![0]!;
  if (!normalizeFingerprint(add)) return usageError(io, `not a fingerprint (64 hex digits): ${add}`);
  if (!isValidCheckCode(code)) {
    writeLine(io.stderr, `tonari pair: ${code} is not a valid check code (11 digits with a check digit); re-read it from the neighbour`);
    return EXIT.FAILURE;
  }
  const answer = await viaAgent(stateDir, 'pair-add', { fingerprint: add, code, ...(values.name !== undefined ? { name: values.name } : {}) });
  const result: ConfirmResult = answer.via === 'files' ? await store.add(add, code, values.name)
    : answer.ok ? { status: 'added', peer: { ...(answer.result as { peerId: string; fingerprint: string }), source: 'paired', ...(values.name !== undefined ? { name: values.name } : {}) } }
      : { status: 'refused', reason: answer.code as ConfirmRefusal };
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

async function unavailable(io: CliIO, error: AgentUnavailableError, stateDir: string, argv: readonly string[]): Promise<number> {
  writeLine(io.stderr, `tonari pair: --window needs a running agent (--add, --list and --remove work without one): ${error.message}`);
  writeLine(io.stderr, `tonari pair: ${await agentUnavailableHint(stateDir, error.reason, commandLine('pair', argv))}`);
  return EXIT.UNAVAILABLE;
}

type AgentAnswer = { via: 'agent'; ok: true; result: unknown } | { via: 'agent'; ok: false; code: string; message: string } | { via: 'files' };

/** Asks the running agent, if one answers on this state directory; otherwise the caller changes the files. */
async function viaAgent(stateDir: string, cmd: 'pair-add' | 'pair-remove', args: Record<string, unknown>): Promise<AgentAnswer> {
  let client: ControlClient;
  try {
    client = await ControlClient.connect(controlSocketPath(stateDir), 2000);
  } catch (error) {
    if (error instanceof AgentUnavailableError) return { via: 'files' };
    throw error;
  }
  try {
    return { via: 'agent', ok: true, result: await client.request(cmd, args) };
  } catch (error) {
    if (error instanceof ControlRequestError) return { via: 'agent', ok: false, code: error.code, message: error.message };
    throw error;
  } finally {
    client.close();
  }
}

/** `--window`: open the running agent's pairing window and confirm neighbours as they knock. */
async function pairWindow(windowText: string, codeArgs: string[], stateDir: string, io: CliIO, argv: readonly string[]): Promise<number> {
  const windowMs = parseDuration(windowText);
  if (windowMs === undefined || windowMs < MIN_WINDOW_MS || windowMs > MAX_WINDOW_MS) {
    return usageError(io, `--window: expected a duration from ${formatDuration(MIN_WINDOW_MS)} to ${formatDuration(MAX_WINDOW_MS)}, such as 10m`);
  }
  const codes = new Map<string, string>();
  for (const arg of codeArgs) {
    const [fp, code] = arg.split('=');
    const fingerprint = fp === undefined ? undefined : normalizeFingerprint(fp);
    if (!fingerprint || !code) return usageError(io, `--code with --window: expected FINGERPRINT=CODE, got ${arg}`);
    codes.set(fingerprint, code);
  }
  const interactive = codes.size === 0 && io.isTTY && process.stdin.isTTY === true;

  let client: ControlClient;
  try {
    client = await ControlClient.connect(controlSocketPath(stateDir));
  } catch (error) {
    if (error instanceof AgentUnavailableError) return unavailable(io, error, stateDir, argv);
    throw error;
  }
  const prompt = interactive ? createInterface({ input: process.stdin, output: io.stdout as NodeJS.WritableStream }) : undefined;
  let interrupted = false;
  const onSignal = () => { interrupted = true; prompt?.close(); };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const announced = new Set<string>();
  const skipped = new Set<string>();
  const outcome = { added: 0, refused: 0 };
  try {
    const opened = await client.request<{ closesAt: number; checkCode: string }>('pair-open', { windowMs });
    const identity = await client.request<{ peerId: string }>('identity');
    writeLine(io.stdout, `pairing window open for ${formatDuration(windowMs)}, until ${new Date(opened.closesAt).toLocaleTimeString()}`);
    writeLine(io.stdout, `this agent: ${identity.peerId}, check code ${opened.checkCode} (enter it on the neighbour)`);
    writeLine(io.stdout, 'waiting for neighbours; each must run `tonari pair --window` as well');

    while (!interrupted) {
      const state = await client.request<PendingResult>('pair-pending');
      if (!state.open) {
        writeLine(io.stdout, 'the pairing window is closed');
        break;
      }
      for (const peer of state.pending) {
        if (!announced.has(peer.fingerprint)) {
          announced.add(peer.fingerprint);
          writeLine(io.stdout, `neighbour waiting: ${peer.peerId}  fingerprint ${peer.fingerprint}`);
        }
        const code = codes.get(peer.fingerprint) ?? (prompt && !skipped.has(peer.fingerprint) ? await ask(prompt, peer.peerId) : undefined);
        if (code === undefined) skipped.add(peer.fingerprint); // asked once; not again
        if (code === undefined || interrupted) continue;
        codes.delete(peer.fingerprint);
        await confirmOne(client, peer, code, outcome, io);
      }
      if (codeArgs.length > 0 && codes.size === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const fingerprint of codes.keys()) writeLine(io.stderr, `tonari pair: ${fingerprint} did not knock while the window was open`);
    // Done (or interrupted): accept nobody else.
    await client.request('pair-close').catch(() => {});
    return outcome.refused > 0 || codes.size > 0 ? EXIT.FAILURE : EXIT.OK;
  } catch (error) {
    if (error instanceof AgentUnavailableError) return unavailable(io, error, stateDir, argv);
    if (error instanceof ControlRequestError) {
      writeLine(io.stderr, `tonari pair: the agent refused: ${error.message}`);
      return EXIT.FAILURE;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    prompt?.close();
    client.close();
  }
}

async function ask(prompt: ReturnType<typeof createInterface>, peerId: string): Promise<string | undefined> {
  try {
    const answer = (await prompt.question(`check code shown by ${peerId} (Enter to skip): `)).trim();
    return answer === '' ? undefined : answer;
  } catch {
    return undefined; // closed by Ctrl-C
  }
}

async function confirmOne(client: ControlClient, peer: { peerId: string; fingerprint: string }, code: string, outcome: { added: number; refused: number }, io: CliIO): Promise<void> {
  if (!isValidCheckCode(code)) {
    outcome.refused++;
    writeLine(io.stderr, `tonari pair: ${code} is not a valid check code (11 digits with a check digit); re-read it from ${peer.peerId}`);
    return;
  }
  try {
    await client.request('pair-confirm', { fingerprint: peer.fingerprint, code });
    outcome.added++;
    writeLine(io.stdout, `paired ${peer.peerId}`);
  } catch (error) {
    if (!(error instanceof ControlRequestError)) throw error;
    outcome.refused++;
    writeLine(io.stderr, `tonari pair: ${peer.peerId} refused: ${error.message}`);
  }
}
