/** Shared test plumbing for the simulator: real clients, real socat ptys. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ModbusRTU from 'modbus-serial';

export type ModbusClient = InstanceType<typeof ModbusRTU.default>;

export function newModbusClient(): ModbusClient {
  return new ModbusRTU.default();
}

export async function closeClient(client: ModbusClient): Promise<void> {
  if (!client.isOpen) return;
  await new Promise<void>((resolve) => client.close(() => resolve()));
}

/** Resolves to the client's error (a rejection), failing if the call succeeds. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { modbusCode?: number; errno?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { modbusCode?: number };
  }
  throw new Error('expected the Modbus call to fail, but it succeeded');
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms for at most `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}

export function commandExists(command: string): boolean {
  return ['/usr/bin', '/bin', '/usr/local/bin'].some((dir) => existsSync(join(dir, command)));
}

/**
 * `false` when `command` is installed, else a skip reason. In CI a missing
 * tool is an error, so interop tests cannot silently stop running there.
 */
export function missingTool(command: string): false | string {
  if (commandExists(command)) return false;
  if (process.env.CI === 'true') throw new Error(`${command} is required in CI (apt-get install ${command})`);
  return `${command} is not installed (apt-get install ${command}); test skipped`;
}

export interface PtyPair {
  a: string;
  b: string;
  close(): Promise<void>;
}

/** Starts `socat` with two linked ptys and waits until both links exist. */
export async function startPtyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'tonari-pty-'));
  const a = join(dir, 'ttyA');
  const b = join(dir, 'ttyB');
  const child: ChildProcess = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, delay(2000)]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => existsSync(a) && existsSync(b) && /starting data transfer loop/.test(stderr), 5000, `socat ptys (${stderr.trim()})`);
  } catch (err) {
    await close();
    throw err;
  }
  return { a, b, close };
}
