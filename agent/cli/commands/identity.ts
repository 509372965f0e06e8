import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { IdentityError, KEY_FILE, loadOrCreateIdentity } from '../../identity/key-store.js';
import { commandLine, isPermissionError, permissionHint } from '../hints.js';
import { EXIT, writeLine, type CliIO } from '../io.js';

export const DEFAULT_STATE_DIR = '/var/lib/tonari';

/** --state-dir, else systemd's $STATE_DIRECTORY (first entry), else the config default. */
export function resolveStateDir(option: string | undefined): string {
  return option ?? process.env.STATE_DIRECTORY?.split(':')[0] ?? DEFAULT_STATE_DIR;
}

const USAGE = `usage: tonari identity [--state-dir DIR] [--json | --cert]

Prints this agent's peer id, key fingerprint and check code, creating the
identity key on first use. Neighbours pin the fingerprint; installers compare
the check code when pairing.

  --state-dir DIR   state directory (default $STATE_DIRECTORY or ${DEFAULT_STATE_DIR})
  --json            print one JSON object
  --cert            print the agent's certificate (PEM), e.g. for the CA file of a
                    shared broker in external-broker mode (mesh.broker)`;

/** Exit status for an identity that cannot be used: a bad key is an installation problem. */
export function identityExitCode(error: IdentityError): number {
  return error.code === 'key_unreadable' || error.code === 'state_dir' ? EXIT.IOERR : EXIT.CONFIG;
}

export async function identityCommand(argv: string[], io: CliIO): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' }, cert: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  } catch (error) {
    writeLine(io.stderr, `tonari identity: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (args.values.help) {
    writeLine(io.stdout, USAGE);
    return EXIT.OK;
  }
  const stateDir = resolveStateDir(args.values['state-dir']);
  const existed = existsSync(join(stateDir, KEY_FILE));
  let identity;
  try {
    identity = await loadOrCreateIdentity(stateDir, { clock: systemClock, log: silentLogger() });
  } catch (error) {
    if (!(error instanceof IdentityError)) throw error;
    writeLine(io.stderr, `tonari identity: ${error.message}`);
    if (isPermissionError(error)) writeLine(io.stderr, `tonari identity: ${permissionHint(commandLine('identity', argv))}`);
    return identityExitCode(error);
  }
  if (!existed) writeLine(io.stderr, `created a new identity key in ${join(stateDir, KEY_FILE)}`);
  if (args.values.cert) {
    io.stdout.write(identity.certPem);
  } else if (args.values.json) {
    writeLine(io.stdout, JSON.stringify({ peerId: identity.peerId, fingerprint: identity.fingerprint, checkCode: identity.checkCode }));
  } else {
    writeLine(io.stdout, `peer id      ${identity.peerId}`);
    writeLine(io.stdout, `fingerprint  ${identity.fingerprint}`);
    writeLine(io.stdout, `check code   ${identity.checkCode}`);
  }
  return EXIT.OK;
}
