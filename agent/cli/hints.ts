/**
 * What to do next, for the errors an installer meets most at the command line:
 * no agent answers on the state directory, the agent's files belong to another
 * user, the configuration is missing. Each hint is one line to print after the
 * error itself; the probes only look at the file system.
 */
import { stat } from 'node:fs/promises';
import { controlSocketPath } from '../control/client.js';

/** Where the service keeps its state (systemd's StateDirectory). */
export const SERVICE_STATE_DIR = '/var/lib/tonari';

/** `tonari peers --state-dir /x`, quoted for a shell where needed. */
export function commandLine(command: string, argv: readonly string[]): string {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
  return ['tonari', command, ...argv].map(quote).join(' ');
}

export function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return true;
  return error instanceof Error && /\b(EACCES|EPERM)\b|permission denied/i.test(error.message);
}

/** For files that belong to the agent's user (mode 0600/0640 under /var/lib/tonari or /etc/tonari). */
export function permissionHint(commandLineText: string): string {
  return `the agent's files belong to the user it runs as: run as root or as that user, e.g. sudo ${commandLineText}`;
}

const code = async (path: string): Promise<string | undefined> => {
  try {
    await stat(path);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'error';
  }
};

/**
 * Why no agent answered on `stateDir`'s control socket (`reason`: what the connection
 * attempt said) and what to do next.
 */
export async function agentUnavailableHint(stateDir: string, reason: string, commandLineText: string): Promise<string> {
  const dirCode = await code(stateDir);
  if (dirCode === 'ENOENT') {
    return `there is no state directory ${stateDir}: give the running agent's with --state-dir (the stateDir of its configuration; ${SERVICE_STATE_DIR} for the service, .tonari-demo/community/NAME/state for \`tonari demo\`)`;
  }
  const socketCode = await code(controlSocketPath(stateDir));
  if (dirCode === 'EACCES' || dirCode === 'EPERM' || socketCode === 'EACCES' || socketCode === 'EPERM' || /\b(EACCES|EPERM)\b/.test(reason)) {
    return permissionHint(commandLineText);
  }
  if (socketCode === 'ENOENT') {
    return `no agent runs with state directory ${stateDir}: start it (sudo systemctl start tonari, or tonari run --config FILE), or give --state-dir of the agent that runs`;
  }
  if (/ECONNREFUSED|nothing listens/.test(reason)) {
    return `the agent that made ${controlSocketPath(stateDir)} is not running any more: start it again (sudo systemctl start tonari), and see why it stopped with journalctl -u tonari`;
  }
  if (/timed out|no answer/.test(reason)) {
    return 'the agent does not answer (busy or stuck): see systemctl status tonari and journalctl -u tonari';
  }
  return 'is the agent running? see systemctl status tonari';
}

/** After "FILE: cannot read: …" of the configuration. */
export function configUnreadableHint(message: string, file: string, commandLineText: string): string | undefined {
  if (/cannot read: no such file/.test(message)) return `write a starter configuration with: tonari init ${file}`;
  if (/cannot read: permission denied/.test(message)) return permissionHint(commandLineText);
  return undefined;
}
