/**
 * `tonari demo` as a newcomer runs it (the compiled CLI): three households at 600×
 * from 10:00 simulated. The launcher reports each dashboard and the mesh formed;
 * the agents themselves confirm it (`tonari peers --json` on each control socket and
 * GET /api/status on each dashboard); a contract appears in both parties' ledgers
 * (`tonari trades --json`). A second demo on the same directory is refused while the
 * first runs. One agent is killed: the launcher says so with the tail of its log and
 * the others keep running. Ctrl-C (SIGINT) stops every agent: the launcher exits 0
 * with a summary, no agent process is left, every port is free again, every ledger
 * verifies. A second run keeps the keys and starts fresh ledgers.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ensureDistFresh, ROOT } from '../helpers/build.js';

const BIN = path.join(ROOT, 'dist/agent/cli/bin.js');
const HOUSEHOLDS = 3;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Launcher {
  child: ChildProcess;
  events: Json[];
  stderr: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first event (from the start) matching `pred`; rejects after `ms`. */
  waitFor(pred: (e: Json) => boolean, ms: number, what: string): Promise<Json>;
}

function launch(dir: string, extra: string[] = [], households = HOUSEHOLDS): Launcher {
  const child = spawn(process.execPath, [BIN, 'demo', '--households', String(households), '--speed', '600', '--start', '10:00', '--dir', dir, '--json', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STATE_DIRECTORY: '' },
  });
  const events: Json[] = [];
  const waiters = new Set<() => void>();
  const wake = () => { for (const w of waiters) w(); };
  const launcher: Launcher = {
    child, events, stderr: '',
    exit: new Promise((resolve) => child.once('exit', (code, signal) => { wake(); resolve({ code, signal }); })),
    waitFor(pred, ms, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(pred);
          if (found !== undefined) { done(); resolve(found); } else if (child.exitCode !== null || child.signalCode !== null) {
            done(); reject(new Error(`the launcher exited before ${what}; stderr: ${launcher.stderr}; events: ${JSON.stringify(events).slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => { done(); reject(new Error(`no ${what} within ${ms} ms; events: ${JSON.stringify(events).slice(-3000)}`)); }, ms);
        const done = () => { clearTimeout(timer); waiters.delete(check); };
        waiters.add(check);
        check();
      });
    },
  };
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      events.push(JSON.parse(line));
    }
    wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { launcher.stderr += chunk; });
  return launcher;
}

function tonari(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 20_000, env: { ...process.env, STATE_DIRECTORY: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portFree = (port: number) => new Promise<boolean>((resolve) => {
  const server = net.createServer();
  server.once('error', () => resolve(false));
  server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
});

async function eventually<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

t.setTimeout(180_000);

t.test('tonari demo: dashboards, a full mesh, contracts in the ledgers, a dead agent reported, a clean stop', async (t) => {
  ensureDistFresh(['agent', 'broker']);
  const dir = mkdtempSync(path.join(tmpdir(), 'tn-demo-'));
  const launchers: Launcher[] = [];
  let pids: number[] = [];
  t.teardown(() => {
    for (const l of launchers) if (l.child.exitCode === null) l.child.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const demo = launch(dir);
  launchers.push(demo);
  const start = await demo.waitFor((e) => e.type === 'start', 30_000, 'start event');
  t.equal(start.households.length, HOUSEHOLDS);
  t.same(start.households.map((h: Json) => h.name), ['Sato', 'Suzuki', 'Takahashi']);
  t.ok(start.reconcileMs / 600 >= 2000, 'the reconcile window lasts at least 2 real seconds');
  const launched = await demo.waitFor((e) => e.type === 'launched', 10_000, 'launched event');
  pids = Object.values(launched.pids as Record<string, number>);
  t.equal(pids.length, HOUSEHOLDS, 'one process per household');
  t.ok(existsSync(path.join(dir, 'demo.pids')), 'the pids are on record while it runs');

  // Every dashboard announced, at the port the launcher chose for it.
  for (const h of start.households) {
    const event = await demo.waitFor((e) => e.type === 'dashboard' && e.household === h.name, 60_000, `${h.name}'s dashboard`);
    t.equal(event.url, `http://127.0.0.1:${h.apiPort}/`, `${h.name}'s dashboard URL`);
  }
  await demo.waitFor((e) => e.type === 'mesh' && e.formed === true, 60_000, 'mesh formed');

  // The agents agree: each sees the two others connected, over its control socket and its HTTP API.
  for (const h of start.households) {
    const others = start.households.filter((o: Json) => o !== h);
    const rows = await eventually(async () => {
      const res = await tonari(['peers', '--json', '--state-dir', h.stateDir]);
      if (res.code !== 0) return undefined;
      const peers = JSON.parse(res.stdout) as Json[];
      return peers.filter((p) => p.state === 'connected').length === others.length ? peers : undefined;
    }, 20_000, `${h.name}'s peers connected`);
    t.same(rows.map((p: Json) => p.peerId).sort(), others.map((o: Json) => o.peerId).sort(), `${h.name} is linked to every other household`);
    t.same(rows.map((p: Json) => p.name).sort(), others.map((o: Json) => o.name).sort(), 'and knows their names');
    const status = await (await fetch(`http://127.0.0.1:${h.apiPort}/api/status`)).json() as Json;
    t.equal(status.name, h.name, `${h.name}'s API answers`);
    t.equal(status.peerId, h.peerId);
    t.equal(status.simulated, true);
  }

  // A second demo on the same directory is refused while this one runs, and says what to do.
  const busy = await tonari(['demo', '--households', String(HOUSEHOLDS), '--dir', dir]);
  t.equal(busy.code, 69, 'EX_UNAVAILABLE');
  t.match(busy.stderr, /agents of an earlier demo still run in .*Ctrl-C/);

  // A contract, in both parties' ledgers.
  const contract = await demo.waitFor((e) => e.type === 'contract', 60_000, 'a contract');
  t.ok(contract.energyWh > 0 && contract.priceSenPerKWh > 0);
  const byName = new Map(start.households.map((h: Json) => [h.name, h]));
  for (const [party, side] of [[contract.seller, 'sell'], [contract.buyer, 'buy']] as const) {
    const h = byName.get(party) as Json;
    const res = await tonari(['trades', '--json', '--state-dir', h.stateDir]);
    t.equal(res.code, 0, res.stderr);
    const row = (JSON.parse(res.stdout) as Json[]).find((r) => r.contract === contract.id);
    t.ok(row, `${party}'s ledger holds the contract`);
    t.equal(row?.side, side);
    t.equal(row?.energyWh, contract.energyWh);
  }

  // One agent dies: reported with its log's tail; the others keep running.
  const victim = start.households[2];
  process.kill(launched.pids[victim.name], 'SIGKILL');
  const exited = await demo.waitFor((e) => e.type === 'exited' && e.household === victim.name, 10_000, 'the dead agent reported');
  t.match(exited, { expected: false, signal: 'SIGKILL' });
  const tail = await demo.waitFor((e) => e.type === 'log-tail' && e.household === victim.name, 5000, 'its log tail');
  t.equal(tail.file, victim.log);
  t.ok(tail.lines.length > 0, 'with the last lines of its log');
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(demo.child.exitCode, null, 'the launcher keeps running');
  t.ok(pids.filter((p) => p !== launched.pids[victim.name]).every(alive), 'and so do the other agents');

  // Ctrl-C: every agent stops, the launcher exits 0 with a summary.
  demo.child.kill('SIGINT');
  const { code } = await demo.exit;
  t.equal(code, 0, `the launcher exits 0 (stderr: ${demo.stderr})`);
  t.ok(demo.events.some((e) => e.type === 'stopping' && e.signal === 'SIGINT'));
  const summary = demo.events.find((e) => e.type === 'summary');
  t.ok(summary, 'a summary');
  t.ok(summary.contracts >= 1 && summary.energyWh > 0, 'counting the contracts');
  t.same(summary.killed, [], 'nobody needed SIGKILL');
  t.same(summary.households.map((h: Json) => h.exit.expected), [true, true, false]);
  t.same(summary.households.map((h: Json) => h.exit.code), [0, 0, null], 'the two left stopped cleanly');
  t.ok(pids.every((p) => !alive(p)), 'no agent process is left');
  for (const h of start.households) {
    t.ok(await portFree(h.meshPort), `${h.name}'s broker port is free again`);
    t.ok(await portFree(h.apiPort), `${h.name}'s dashboard port is free again`);
  }
  t.notOk(existsSync(path.join(dir, 'demo.pids')), 'the pid record is gone');
  for (const h of start.households) {
    const verify = await tonari(['ledger', 'verify', '--state-dir', h.stateDir]);
    t.ok(verify.code === 0 || (h === victim && verify.code === 2), `${h.name}'s ledger verifies: ${verify.stdout}${verify.stderr}`);
    t.match(readFileSync(h.log, 'utf8'), /"msg":"tonari running"/, `${h.name}'s log is in ${h.log}`);
    for (const o of start.households) if (o !== h) t.match(readFileSync(h.config, 'utf8'), `port: ${o.meshPort},`, `${h.name} dials ${o.name}'s broker directly`);
  }

  // Again: the same keys, fresh ledgers.
  const again = launch(dir);
  launchers.push(again);
  const restart = await again.waitFor((e) => e.type === 'start', 30_000, 'second start event');
  t.same(restart.households.map((h: Json) => h.fingerprint), start.households.map((h: Json) => h.fingerprint), 'the households keep their keys');
  const second = await again.waitFor((e) => e.type === 'launched', 10_000, 'second launch');
  pids = Object.values(second.pids as Record<string, number>);
  for (const h of restart.households) {
    const ledger = path.join(h.stateDir, 'ledger.jsonl');
    t.ok(!existsSync(ledger) || !readFileSync(ledger, 'utf8').includes(contract.id), `${h.name} starts with a fresh ledger`);
  }
  again.child.kill('SIGTERM');
  t.equal((await again.exit).code, 0, 'SIGTERM stops it cleanly too');
  t.ok(pids.every((p) => !alive(p)), 'no agent process is left');
});

t.test('six households: beyond the broker\'s 4 connections per address, the relays give each its own; the mesh forms', async (t) => {
  ensureDistFresh(['agent', 'broker']);
  const dir = mkdtempSync(path.join(tmpdir(), 'tn-demo6-'));
  let demo: Launcher | undefined;
  let pids: number[] = [];
  t.teardown(() => {
    if (demo?.child.exitCode === null) demo.child.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  demo = launch(dir, [], 6);
  const start = await demo.waitFor((e) => e.type === 'start', 30_000, 'start event');
  pids = Object.values((await demo.waitFor((e) => e.type === 'launched', 10_000, 'launched')).pids as Record<string, number>);
  await demo.waitFor((e) => e.type === 'mesh' && e.formed === true, 90_000, 'mesh of six formed');
  const config = readFileSync(start.households[0].config, 'utf8');
  t.match(config, /through the launcher's relay to port \d+/, 'Sato dials its neighbours through relays');
  for (const other of start.households.slice(1)) t.notMatch(config, new RegExp(`port: ${other.meshPort},`), `not ${other.name}'s broker directly`);
  demo.child.kill('SIGINT');
  t.equal((await demo.exit).code, 0);
  t.ok(pids.every((p) => !alive(p)), 'no agent process is left');
});

t.test('tonari demo argument errors exit 64 and say what is expected', async (t) => {
  ensureDistFresh(['agent', 'broker']);
  for (const [args, message] of [
    [['--households', '1'], /--households: expected a whole number from 2 to 20, got "1"/],
    [['--households', '21'], /from 2 to 20/],
    [['--speed', '5000'], /--speed: expected a number from 1 to 1000, got "5000"/],
    [['--start', 'noon'], /--start: expected HH:MM or an ISO 8601 time/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
  ] as const) {
    const res = await tonari(['demo', ...args]);
    t.equal(res.code, 64, `${args.join(' ')}: exit 64`);
    t.match(res.stderr, message);
  }
  const deep = await tonari(['demo', '--dir', path.join(tmpdir(), 'x'.repeat(120))]);
  t.equal(deep.code, 64, 'a directory too deep for the control sockets');
  t.match(deep.stderr, /too deep.*choose a shorter --dir/);
  t.notOk(existsSync(path.join(tmpdir(), 'x'.repeat(120))), 'and nothing was created');
});
