/**
 * Plumbing for the interop tests: the pymodbus register-image server, the
 * hand-written register fixtures, and the built `tonari` CLI as a child
 * process. Every child is bounded in time and killed in t.teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DeviceMeasurement, Role } from '../../agent/household/quantities.js';
import type { FoundDevice } from '../../agent/app/scan.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dist/agent/cli/bin.js', import.meta.url));
export const PYTHON = '/usr/bin/python3';
export const PYMODBUS_SERVER = fileURLToPath(new URL('./pymodbus_server.py', import.meta.url));

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/registers/${name}`, import.meta.url));
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** One entry of `tonari scan --json` (the fixtures spell out each one's exact contents). */
export type ScanEntry = FoundDevice;

export interface FixtureDevice {
  name: string;
  unit: number;
  subdevice: number;
  roles: Role[];
  invertGrid: boolean;
  models: number[];
  /** Household values computed by hand; null = must be missing (undefined). */
  expected: Record<string, number | null>;
}

export interface RegisterFixture {
  description: string;
  units: Record<string, unknown>;
  devices: FixtureDevice[];
  scan: ScanEntry[];
}

export function loadFixture(name: string): RegisterFixture {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8')) as RegisterFixture;
}

/** The fixture's expected values as a measurement: null becomes undefined (missing). */
export function expectedMeasurement(device: FixtureDevice): DeviceMeasurement {
  return Object.fromEntries(Object.entries(device.expected).map(([k, v]) => [k, v ?? undefined])) as DeviceMeasurement;
}

/** Waits for a child to exit, at most `ms`; true if it did. */
function exitWithin(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.off('exit', onExit); resolve(false); }, ms);
    const onExit = () => { clearTimeout(timer); resolve(true); };
    child.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL if it is still there after 3 s. Only ever the given child. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await exitWithin(child, 3000))) {
    child.kill('SIGKILL');
    await exitWithin(child, 3000);
  }
}

export interface PymodbusServer {
  port: number;
  /** What the server wrote to stderr so far (pymodbus logs), for diagnostics. */
  stderr(): string;
}

/**
 * Starts test/interop/pymodbus_server.py serving the given fixture files
 * (their units merged) on 127.0.0.1, port chosen by the OS and printed by
 * the server, so there is no port race.
 */
export async function startPymodbus(t: Teardown, fixtures: readonly string[]): Promise<PymodbusServer> {
  const child = spawn(PYTHON, [PYMODBUS_SERVER, ...fixtures.map(fixturePath)], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(async () => {
    child.stdin?.end();
    await stopChild(child);
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('pymodbus server did not print its port within 20 s')), 20_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(new Error(`${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => fail(new Error(`pymodbus server exited early (code ${code}, signal ${signal})`));
    child.once('error', fail);
    child.once('exit', onExit);
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = /^PORT (\d+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(Number(match[1]));
      }
    });
  });
  return { port, stderr: () => stderr };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Whether the built CLI exists (the tests run it from dist/, as users do). */
export function cliBuilt(): boolean {
  return existsSync(CLI);
}

/**
 * Runs the built `tonari` CLI asynchronously (an in-process simulator must
 * keep answering meanwhile) and kills it if it runs longer than `timeoutMs`.
 */
export function runCli(args: readonly string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => {
      void stopChild(child);
      reject(new Error(`tonari ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Parses stdout of `tonari scan --json`: exactly one line holding one JSON array. */
export function parseScanJson(stdout: string): ScanEntry[] {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) throw new Error(`expected one line of JSON on stdout, got ${lines.length}: ${stdout}`);
  const parsed: unknown = JSON.parse(lines[0]!);
  if (!Array.isArray(parsed)) throw new Error(`expected a JSON array, got ${lines[0]}`);
  return parsed as ScanEntry[];
}
