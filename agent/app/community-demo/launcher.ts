/**
 * Runs the demo community's agents: one `tonari run --config FILE --speed S
 * --sim-start T --real-start R` process per household, all on one timeline. Each
 * child's output goes to its household's log file and, line by line, to the
 * monitor; the launcher hands on what the monitor makes of it. A child that dies is
 * reported with the tail of its log and the others keep running (the point of a
 * peer-to-peer market is that it does not need any one of them). `stop` sends
 * SIGTERM to every child, waits for all of them, and SIGKILLs those that outlive
 * the deadline.
 *
 * The children run in their own process group: Ctrl-C in the terminal reaches the
 * launcher alone, which then stops each agent exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { CommunityMonitor, DemoEvent } from './monitor.js';
import type { PreparedMember } from './prepare.js';

/** The last lines of a child's log, shown when it dies unexpectedly. */
export interface LogTailEvent {
  type: 'log-tail';
  household: string;
  file: string;
  lines: string[];
}

export type LauncherEvent = DemoEvent | LogTailEvent;

export interface LaunchOptions {
  members: readonly PreparedMember[];
  monitor: CommunityMonitor;
  /** node and dist/agent/cli/bin.js. */
  nodePath: string;
  bin: string;
  speed: number;
  simStart: number;
  realStart: number;
  onEvent: (event: LauncherEvent) => void;
  /** How long `stop` waits for the agents before it kills them. Default 10 s. */
  stopDeadlineMs?: number;
  /** Lines of a dead child's log to show. Default 12. */
  tailLines?: number;
}

interface Child {
  member: PreparedMember;
  proc: ChildProcess;
  log: WriteStream;
  tail: string[];
  closed: Promise<void>;
  done: boolean;
}

export class CommunityProcesses {
  private readonly children: Child[] = [];
  private stopping = false;
  private allDone: () => void = () => {};
  /** Resolves when every child has exited, whoever stopped them. */
  readonly allExited: Promise<void> = new Promise((resolve) => { this.allDone = resolve; });

  constructor(private readonly options: LaunchOptions) {}

  start(): void {
    const { options } = this;
    for (const [index, member] of options.members.entries()) {
      const proc = spawn(options.nodePath, [
        options.bin, 'run', '--config', member.configPath,
        '--speed', String(options.speed), '--sim-start', String(options.simStart), '--real-start', String(options.realStart),
      ], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const log = createWriteStream(member.logPath, { flags: 'w', mode: 0o600 });
      log.on('error', () => undefined); // a full disk must not take the launcher down; the agents keep their ledgers
      const child: Child = { member, proc, log, tail: [], done: false, closed: Promise.resolve() };
      child.closed = new Promise((resolve) => {
        let settled = false;
        const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
          if (settled) return;
          settled = true;
          if (error) this.remember(child, `tonari demo: cannot start ${member.household.name}: ${error.message}`);
          child.done = true;
          log.end();
          this.exited(index, child, code, signal);
          resolve();
        };
        proc.once('error', (error) => finish(null, null, error));
        proc.once('close', (code, signal) => finish(code, signal));
      });
      this.pipe(index, child, proc.stdout!);
      this.pipe(index, child, proc.stderr!);
      this.children.push(child);
    }
    void Promise.all(this.children.map((c) => c.closed)).then(() => this.allDone());
  }

  /** The agents' pids by household name (undefined for one that could not be started). */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.children.map((c) => [c.member.household.name, c.proc.pid]));
  }

  /** SIGTERM to every agent still running; SIGKILL after the deadline. Resolves with the names that had to be killed. */
  async stop(): Promise<string[]> {
    this.stopping = true;
    const running = this.children.filter((c) => !c.done);
    for (const c of running) signal(c.proc, 'SIGTERM');
    const deadline = this.options.stopDeadlineMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), deadline); });
    await Promise.race([Promise.all(running.map((c) => c.closed)), timedOut]);
    clearTimeout(timer);
    const killed = running.filter((c) => !c.done);
    for (const c of killed) signal(c.proc, 'SIGKILL');
    await Promise.all(this.children.map((c) => c.closed));
    await Promise.all(this.children.map((c) => new Promise<void>((resolve) => (c.log.writableFinished ? resolve() : c.log.once('close', () => resolve())))));
    return killed.map((c) => c.member.household.name);
  }

  private pipe(index: number, child: Child, stream: NodeJS.ReadableStream): void {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      child.log.write(chunk);
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        this.line(index, child, line);
      }
      if (buffered.length > 1_000_000) buffered = ''; // no newline in a megabyte: not a log line
    });
    stream.on('end', () => { if (buffered !== '') this.line(index, child, buffered); buffered = ''; });
  }

  private line(index: number, child: Child, text: string): void {
    if (text.trim() === '') return;
    this.remember(child, text);
    if (!text.startsWith('{')) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    if (parsed === null || typeof parsed !== 'object') return;
    for (const event of this.options.monitor.observe(index, parsed as Record<string, unknown>)) this.options.onEvent(event);
  }

  private remember(child: Child, text: string): void {
    child.tail.push(text);
    if (child.tail.length > (this.options.tailLines ?? 12)) child.tail.shift();
  }

  private exited(index: number, child: Child, code: number | null, sig: NodeJS.Signals | null): void {
    const expected = this.stopping;
    for (const event of this.options.monitor.exited(index, code, sig, expected)) this.options.onEvent(event);
    if (!expected) {
      this.options.onEvent({ type: 'log-tail', household: child.member.household.name, file: child.member.logPath, lines: child.tail.map(readableLogLine) });
    }
  }
}

function signal(proc: ChildProcess, sig: NodeJS.Signals): void {
  try {
    proc.kill(sig);
  } catch {
    // already gone
  }
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** A pino JSON line as "HH:MM:SS level msg (details)"; anything else as it is. */
export function readableLogLine(text: string): string {
  if (!text.startsWith('{')) return text;
  let line: Record<string, unknown>;
  try {
    line = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return text;
  }
  const time = typeof line.time === 'number' ? new Date(line.time).toISOString().slice(11, 19) : '';
  const level = typeof line.level === 'number' ? LEVELS[line.level] ?? String(line.level) : 'info';
  const err = line.err && typeof line.err === 'object' && 'message' in line.err ? (line.err as { message: unknown }).message : line.err;
  // The fields that say what went wrong, where a log line has them.
  const details = [['state', line.state], ['why', line.why], ['error', line.error ?? err]]
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
    .map(([k, v]) => (k === 'error' ? String(v) : `${k} ${String(v)}`));
  return `${time} ${level} ${typeof line.msg === 'string' ? line.msg : ''}${details.length ? ` (${details.join('; ')})` : ''}`.trim();
}
