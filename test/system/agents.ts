/**
 * Real `tonari run` agents for system tests: the compiled CLI started inside a
 * network namespace of a test LAN (./netns.ts), each with its own state
 * directory and configuration file, observed through what an operator sees: the
 * CLI (`tonari identity`, `tonari peers`) and the agent's pino JSON log.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NeighbourRow } from '../../agent/control/protocol.js';
import { LineProc, type Json } from '../discovery/helpers.js';
import { ensureDistFresh } from '../helpers/build.js';
import type { LanHost } from './netns.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'dist/agent/cli/bin.js');

/** Compiles dist/ when it is older than agent/ or broker/, so the test never runs a stale CLI. */
export function ensureCliBuilt(): void {
  ensureDistFresh(['agent', 'broker']);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI inside the host's namespace without blocking the event loop; killed after timeoutMs. */
export function tonariIn(host: LanHost, args: string[], timeoutMs = 15_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = host.node(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STATE_DIRECTORY: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr?.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => { stderr += String(err); });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface AgentIdentityJson {
  peerId: string;
  fingerprint: string;
  checkCode: string;
}

export interface AgentSpec {
  name: string;
  zone: string;
  port: number;
  /** Neighbours to list under trust.peers. */
  trusts: { name: string; fingerprint: string }[];
  logLevel?: 'info' | 'debug';
}

/** One `tonari run --config FILE` in a namespace; its state directory outlives restarts. */
export class RunAgent {
  readonly stateDir: string;
  readonly configPath: string;
  identity: AgentIdentityJson | undefined;
  proc: LineProc | undefined;
  /** Every run's log lines, oldest run first (a restart starts a new LineProc). */
  readonly runs: LineProc[] = [];

  constructor(readonly host: LanHost, readonly label: string, baseDir: string) {
    this.stateDir = path.join(baseDir, label, 'state');
    this.configPath = path.join(baseDir, label, 'tonari.yaml');
    mkdirSync(path.dirname(this.configPath), { recursive: true, mode: 0o700 });
  }

  /** `tonari identity --json`, which creates the key in the state directory. */
  async loadIdentity(): Promise<AgentIdentityJson> {
    const res = await tonariIn(this.host, ['identity', '--state-dir', this.stateDir, '--json']);
    if (res.code !== 0) throw new Error(`${this.label}: tonari identity exited ${res.code}: ${res.stderr}`);
    this.identity = JSON.parse(res.stdout) as AgentIdentityJson;
    return this.identity;
  }

  writeConfig(spec: AgentSpec): void {
    const lines = [
      'household:',
      `  name: ${spec.name}`,
      `  zone: ${spec.zone}`,
      `stateDir: ${this.stateDir}`,
      'log:',
      `  level: ${spec.logLevel ?? 'info'}`,
      'mesh:',
      '  enabled: true',
      '  listen:',
      `    host: ${this.host.address}`,
      `    port: ${spec.port}`,
      '  localPort: none',
      '  discovery: true',
      'api:',
      '  listen:',
      '    port: 0',
      'trust:',
      ...(spec.trusts.length === 0
        ? ['  peers: []']
        : ['  peers:', ...spec.trusts.flatMap((p) => [`    - fingerprint: ${p.fingerprint}`, `      name: ${p.name}`])]),
      '',
    ];
    writeFileSync(this.configPath, lines.join('\n'), { mode: 0o640 });
  }

  start(): LineProc {
    if (this.proc?.running) throw new Error(`${this.label} is already running`);
    const child = this.host.node(BIN, ['run', '--config', this.configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STATE_DIRECTORY: '' } });
    this.proc = new LineProc(child, `${this.label}#${this.runs.length + 1}`);
    this.runs.push(this.proc);
    return this.proc;
  }

  kill(signal: NodeJS.Signals): void {
    this.proc?.kill(signal);
  }

  /** Rows of `tonari peers --json`, or undefined while the agent does not answer. */
  async peers(): Promise<NeighbourRow[] | undefined> {
    const res = await tonariIn(this.host, ['peers', '--state-dir', this.stateDir, '--json']);
    if (res.code !== 0) return undefined;
    return JSON.parse(res.stdout) as NeighbourRow[];
  }

  /** The text of `tonari peers` (table and refusal counts). */
  async peersTable(): Promise<CliResult> {
    return tonariIn(this.host, ['peers', '--state-dir', this.stateDir]);
  }

  /** Log lines of every run so far. */
  logLines(): Json[] {
    return this.runs.flatMap((r) => r.lines);
  }

  stderr(): string {
    return this.runs.map((r) => r.stderr).join('');
  }
}

/** A directory for the agents' state and configuration; removed by the returned function. */
export function makeBaseDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tonari-agents-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` until it returns something other than undefined, or the deadline
 * passes; then rejects saying what was last seen (from `describe`).
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>, deadlineMs: number, what: string,
  options: { intervalMs?: number; describe?: () => string } = {},
): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= until) {
      throw new Error(`no ${what} within ${deadlineMs} ms${options.describe ? `; last seen: ${options.describe()}` : ''}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}

/** The counts after "label:" on the refusals line of `tonari peers`, e.g. `tls_rejected=1 foo=2`. */
export function refusalCounts(table: string, label: 'refused connections' | 'broker' | 'pairing' | 'messages'): Record<string, number> {
  const line = table.split('\n').find((l) => l.startsWith('refused connections: '));
  if (line === undefined) return {};
  const parts = line.split('; ');
  const part = parts.find((p) => p.startsWith(`${label}: `));
  if (part === undefined) return {};
  const counts: Record<string, number> = {};
  for (const pair of part.slice(label.length + 2).split(' ')) {
    const m = /^([a-z_]+)=(\d+)$/.exec(pair);
    if (m) counts[m[1]!] = Number(m[2]);
  }
  return counts;
}
