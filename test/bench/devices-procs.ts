/**
 * Child processes for the device benchmark (socat, the tonari CLI) and
 * /proc sampling. Every child is tracked and killed when the benchmark exits,
 * whether it finishes, throws, or is interrupted.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooked = false;

function killAllSync(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try { child.kill('SIGKILL'); } catch { /* already gone */ }
    }
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Kills every tracked child when this process ends, by any route. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => { killAllSync(); process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1)); });
  }
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function tempDir(prefix: string): string {
  hookExit();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export interface Tracked {
  child: ChildProcess;
  pid: number;
  /** Captured stdout and stderr (bounded). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const MAX_CAPTURE = 256 * 1024;

export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): Tracked {
  hookExit();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  children.add(child);
  let captured = '';
  const capture = (d: Buffer) => { if (captured.length < MAX_CAPTURE) captured += d.toString(); };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  const exited = new Promise<void>((resolve) => child.once('exit', () => { children.delete(child); resolve(); }));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: child.pid,
    output: () => captured,
    async stop(graceMs = 2000) {
      if (alive()) {
        child.kill('SIGTERM');
        await Promise.race([exited, delay(graceMs)]);
      }
      if (alive()) {
        child.kill('SIGKILL');
        await Promise.race([exited, delay(graceMs)]);
      }
      children.delete(child);
    },
  };
}

/** Polls `condition` every 20 ms for at most `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

export interface PtyPair {
  a: string;
  b: string;
  close(): Promise<void>;
}

/** `socat` with two linked raw ptys, as a virtual serial cable. */
export async function startPtyPair(): Promise<PtyPair> {
  const dir = tempDir('tonari-bench-pty-');
  const a = join(dir, 'ttyA');
  const b = join(dir, 'ttyB');
  const socat = spawnTracked('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`]);
  const close = async () => {
    await socat.stop();
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  };
  try {
    await waitFor(() => existsSync(a) && existsSync(b) && /starting data transfer loop/.test(socat.output()), 5000, `socat ptys (${socat.output().trim()})`);
  } catch (err) {
    await close();
    throw err;
  }
  return { a, b, close };
}

let clockTicks: number | undefined;

/** Kernel clock ticks per second (USER_HZ), for /proc/PID/stat times. */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface ProcSample {
  /** Resident set size, MiB. */
  rssMB: number;
  /** utime + stime, seconds. */
  cpuSeconds: number;
  at: number;
}

export function sampleProc(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMB: rssKb / 1024, cpuSeconds: ticks / clockTicksPerSecond(), at: performance.now() };
}

export interface ProcFigures {
  peakRssMB: number;
  meanRssMB: number;
  /** Of one core, over the sampling window. */
  cpuPercent: number;
  samples: number;
  windowS: number;
}

/** Samples every `everyMs` for `durationMs`; CPU is the utime+stime delta over the window. */
export async function measureProcs(pids: readonly number[], durationMs: number, everyMs = 500): Promise<ProcFigures[]> {
  const first = pids.map(sampleProc);
  const rss: number[][] = first.map((s) => [s.rssMB]);
  const deadline = performance.now() + durationMs;
  let last = first;
  while (performance.now() < deadline) {
    await delay(Math.min(everyMs, Math.max(0, deadline - performance.now())));
    last = pids.map(sampleProc);
    last.forEach((s, i) => rss[i]!.push(s.rssMB));
  }
  return pids.map((_, i) => {
    const windowS = (last[i]!.at - first[i]!.at) / 1000;
    const series = rss[i]!;
    return {
      peakRssMB: Math.max(...series),
      meanRssMB: series.reduce((s, v) => s + v, 0) / series.length,
      cpuPercent: windowS > 0 ? ((last[i]!.cpuSeconds - first[i]!.cpuSeconds) / windowS) * 100 : NaN,
      samples: series.length,
      windowS,
    };
  });
}
