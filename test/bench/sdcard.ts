/**
 * `npm run bench:sdcard`: what a trading agent writes to its SD card per day (LOG-6).
 *
 * Three real `tonari run` processes (two homes with 6 kW of PV, one without) trade on one
 * accelerated timeline (--speed) over loopback, with their state directories on this
 * machine's disk, for one simulated day. Measured per agent over that day:
 *   - device bytes: each agent's state directory is its own small ext4 (noatime, as a
 *     Pi's root) on a loop device (sdcard-loop.ts); the device's sectors-written counter,
 *     after a syncfs at both ends, holds data, metadata and journal commits: what an SD
 *     card receives. Needs root; otherwise only the next figure;
 *   - page bytes: /proc/PID/io write_bytes − cancelled_write_bytes, counted per file page
 *     the process dirties (a 300-byte ledger append plus fdatasync costs a 4 KiB page),
 *     without the file system's metadata and journal. Logs are in neither: stdout is a
 *     pipe, as to journald;
 *   - the ledger's growth in bytes and records (one fdatasync each);
 *   - atomic rewrites of each state file (renames onto its name, seen with fs.watch);
 *   - log bytes and lines at level info on stdout (what journald receives).
 * Everything the agent writes is scheduled on its (accelerated) clock, so one simulated
 * day holds a real day's writes; Modbus and socket I/O run in real time but write nothing.
 *
 * Prints a table; the last line of stdout is one JSON object with the worst agent's figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { loadOrCreateIdentity, type AgentIdentity } from '../../agent/identity/key-store.js';
import { LEDGER_FILE } from '../../agent/ledger/index.js';
import { mountLoop, type LoopFs } from './sdcard-loop.js';
import { agentFigures, DAY_MS, headline, mb, table, type AgentMeasurement } from './sdcard-figures.js';
import { freePort } from '../app/helpers.js';

const BIN = path.resolve(fileURLToPath(new URL('../../agent/cli/bin.js', import.meta.url)));
const SPEED = Number(process.env.SDCARD_SPEED ?? 720); // a simulated day in 2 real minutes
const SIM_HOURS = Number(process.env.SDCARD_HOURS ?? 24);
const SIM_START = Date.parse('2026-06-21T00:00:00+09:00');
const WARMUP_SIM_MS = 30 * 60_000; // start-up (identity, first orders) is not a day's steady state
const AGENTS = [
  { name: 'seller-a', pvWp: 6000 },
  { name: 'seller-b', pvWp: 6000 },
  { name: 'buyer', pvWp: 0 },
];

interface Io { blockBytes: number; wchar: number }

function readIo(pid: number): Io {
  const fields = Object.fromEntries(readFileSync(`/proc/${pid}/io`, 'utf8').trim().split('\n').map((l) => {
    const [k, v] = l.split(':');
    return [k!.trim(), Number(v)];
  }));
  return { blockBytes: (fields.write_bytes ?? 0) - (fields.cancelled_write_bytes ?? 0), wchar: fields.wchar ?? 0 };
}

interface Running {
  name: string;
  dir: string;
  child: ChildProcess;
  logBytes: number;
  logLines: number;
  err: string;
  rewrites: Map<string, number>;
  watcher: FSWatcher;
}

function start(name: string, dir: string, args: string[]): Running {
  const child = spawn(process.execPath, [BIN, 'run', '--config', path.join(dir, 'tonari.yaml'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STATE_DIRECTORY: '' } });
  const run: Running = { name, dir, child, logBytes: 0, logLines: 0, err: '', rewrites: new Map(), watcher: undefined as unknown as FSWatcher };
  child.stdout!.on('data', (c: Buffer) => {
    run.logBytes += c.length;
    for (const byte of c) if (byte === 0x0a) run.logLines++;
  });
  child.stderr!.on('data', (c: Buffer) => { run.err = (run.err + c.toString()).slice(-5_000); });
  // An atomic rewrite renames a temporary file onto the name: inotify reports a 'rename' for the name.
  run.watcher = watch(path.join(dir, 'state'), (event, file) => {
    if (event !== 'rename' || !file || file.includes('.tmp') || file === LEDGER_FILE || file === 'lost+found') return;
    if (!existsSync(path.join(dir, 'state', file))) return;
    run.rewrites.set(file, (run.rewrites.get(file) ?? 0) + 1);
  });
  return run;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ledgerStats(dir: string): { bytes: number; records: number } {
  const file = path.join(dir, 'state', LEDGER_FILE);
  if (!existsSync(file)) return { bytes: 0, records: 0 };
  const text = readFileSync(file, 'utf8');
  return { bytes: statSync(file).size, records: text.split('\n').filter((l) => l !== '').length };
}

async function main(): Promise<void> {
  // On the disk (not tmpfs), so write_bytes sees the writes.
  const base = mkdtempSync(path.join(process.env.SDCARD_DIR ?? tmpdir(), 'tn-sdcard-'));
  const nodes: { name: string; pvWp: number; dir: string; port: number; identity: AgentIdentity; fs: LoopFs | undefined }[] = [];
  const loops: LoopFs[] = [];
  const unmountAll = () => { for (const l of loops.splice(0)) l.unmount(); };
  process.on('exit', unmountAll);
  for (const a of AGENTS) {
    const dir = path.join(base, a.name);
    mkdirSync(dir, { recursive: true });
    const fs = process.env.SDCARD_NO_LOOP ? undefined : mountLoop(path.join(dir, 'state.img'), path.join(dir, 'state'));
    if (fs) { loops.push(fs); chmodSync(fs.mountpoint, 0o700); }
    nodes.push({ ...a, dir, fs, port: await freePort(), identity: await loadOrCreateIdentity(path.join(dir, 'state'), { clock: systemClock, log: silentLogger() }) });
  }
  if (loops.length < nodes.length) process.stderr.write('bench:sdcard: no loop devices (needs root, losetup, mkfs.ext4): device bytes not measured\n');
  for (const [i, me] of nodes.entries()) {
    const others = nodes.filter((n) => n !== me);
    writeFileSync(path.join(me.dir, 'tonari.yaml'), [
      `stateDir: ${path.join(me.dir, 'state')}`,
      'household:', '  timezone: Asia/Tokyo', '  zone: default', `  name: ${me.name}`,
      'log:', '  level: info',
      'poll:', '  interval: 30s', '  staleAfter: 2m',
      'simulator:', `  seed: ${i + 1}`, `  pvWp: ${me.pvWp}`, '  batteryWh: 0',
      'mesh:', '  listen:', '    host: 127.0.0.1', `    port: ${me.port}`, '  localPort: none', '  discovery: false',
      '  peers:', ...others.map((o) => `    - { host: 127.0.0.1, port: ${o.port}, fingerprint: ${o.identity.fingerprint} }`),
      'trust:', '  peers:', ...others.map((o) => `    - fingerprint: ${o.identity.fingerprint}`),
      // 20 s of digest exchange would be 28 ms of real time at this speed.
      'market:', '  reconcile: 3m',
      'api:', '  enabled: false',
      '',
    ].join('\n'), { mode: 0o600 });
  }
  const realStart = Date.now() + 3000;
  const runs = nodes.map((n) => start(n.name, n.dir, ['--speed', String(SPEED), '--sim-start', String(SIM_START), '--real-start', String(realStart)]));
  const cleanup = () => { for (const r of runs) { r.watcher.close(); if (r.child.exitCode === null) r.child.kill('SIGKILL'); } };
  process.on('exit', cleanup);
  const realAt = (simMs: number) => realStart + simMs / SPEED;
  const alive = () => runs.every((r) => r.child.exitCode === null);

  while (Date.now() < realAt(WARMUP_SIM_MS) && alive()) await sleep(50);
  if (!alive()) throw new Error(`an agent exited during warm-up: ${runs.map((r) => r.err).join('\n')}`);
  const t0 = Date.now();
  const dev0 = nodes.map((n) => n.fs?.writtenBytes());
  const io0 = runs.map((r) => readIo(r.child.pid!));
  const ledger0 = nodes.map((n) => ledgerStats(n.dir));
  const log0 = runs.map((r) => ({ bytes: r.logBytes, lines: r.logLines }));
  for (const r of runs) r.rewrites.clear();
  process.stderr.write(`bench:sdcard: ${AGENTS.length} agents at ${SPEED}x; measuring ${SIM_HOURS} simulated hours (${Math.round(SIM_HOURS * 3_600_000 / SPEED / 1000)} s)\n`);

  const end = realAt(WARMUP_SIM_MS + SIM_HOURS * 3_600_000);
  while (Date.now() < end && alive()) await sleep(200);
  if (!alive()) throw new Error(`an agent exited: ${runs.map((r) => r.err).join('\n')}`);
  const t1 = Date.now();
  const io1 = runs.map((r) => readIo(r.child.pid!));
  const dev1 = nodes.map((n) => n.fs?.writtenBytes());
  const ledger1 = nodes.map((n) => ledgerStats(n.dir));
  const simMs = (t1 - t0) * SPEED;

  const measurements: AgentMeasurement[] = runs.map((r, i) => ({
    name: r.name,
    simMs,
    blockBytes: io1[i]!.blockBytes - io0[i]!.blockBytes,
    deviceBytes: dev0[i] === undefined || dev1[i] === undefined ? undefined : dev1[i]! - dev0[i]!,
    wcharBytes: io1[i]!.wchar - io0[i]!.wchar,
    ledgerBytes: ledger1[i]!.bytes - ledger0[i]!.bytes,
    ledgerRecords: ledger1[i]!.records - ledger0[i]!.records,
    rewrites: Object.fromEntries(r.rewrites),
    sizes: Object.fromEntries([...r.rewrites.keys()].map((f) => [f, statSync(path.join(r.dir, 'state', f)).size])),
    logBytes: r.logBytes - log0[i]!.bytes,
    logLines: r.logLines - log0[i]!.lines,
  }));

  // Stop as systemd would; every agent must stop cleanly.
  await Promise.all(runs.map((r) => new Promise<void>((resolve) => {
    const timer = setTimeout(() => r.child.kill('SIGKILL'), 30_000);
    r.child.once('exit', () => { clearTimeout(timer); resolve(); });
    r.child.kill('SIGTERM');
  })));
  const exits = runs.map((r) => r.child.exitCode);
  cleanup();
  unmountAll();
  rmSync(base, { recursive: true, force: true });

  const figures = measurements.map(agentFigures);
  console.log(`SD-card writes per simulated day (${AGENTS.length} trading agents, --speed ${SPEED}, ${(simMs / DAY_MS * 24).toFixed(1)} h measured after ${WARMUP_SIM_MS / 60_000} min of warm-up)`);
  console.log('');
  console.log(table(figures));
  console.log('');
  for (const m of measurements) {
    const sizes = Object.entries(m.sizes).map(([f, s]) => `${f} ${mb(s)}`).join(', ');
    console.log(`${m.name}: ledger +${m.ledgerRecords} records; rewritten files now ${sizes || 'none'}; exit on SIGTERM ${exits[runs.findIndex((r) => r.name === m.name)]}`);
  }
  console.log('');
  console.log(JSON.stringify(headline(figures, { agents: AGENTS.length, speed: SPEED, simHours: Math.round(simMs / 3_600_000 * 10) / 10 })));
  if (exits.some((c) => c !== 0)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
