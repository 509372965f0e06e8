/**
 * The compiled agent as systemd runs it, against a real notify socket (NOTIFY_SOCKET bound
 * by notify-receiver.py; systemd itself cannot run as PID 1 here): READY=1 once started,
 * WATCHDOG=1 within every WATCHDOG_USEC, STATUS= lines, no pings while the process is
 * frozen (SIGSTOP: to systemd exactly what a blocked event loop looks like), pings again
 * after SIGCONT, STOPPING=1 and exit 0 on SIGTERM. Start failures exit with the statuses
 * the unit's RestartPreventExitStatus lists.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureDistFresh, ROOT } from '../helpers/build.js';
import { requireTool, toolAvailable } from '../helpers/tools.js';
import { LEDGER_FILE } from '../../agent/ledger/index.js';
import { NotifySocket, PYTHON, type NotifyMessage } from './notify-socket.js';

const BIN = path.join(ROOT, 'dist/agent/cli/bin.js');
const WATCHDOG_MS = 3_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Agent { child: ChildProcess; out: string; exited: Promise<number | null> }

function writeConfig(dir: string, extra: string[] = []): string {
  const file = path.join(dir, 'tonari.yaml');
  writeFileSync(file, [
    `stateDir: ${path.join(dir, 'state')}`,
    'log:', '  level: info',
    'mesh:', '  listen:', '    host: 127.0.0.1', '    port: 0', '  localPort: none', '  discovery: false',
    'api:', '  listen:', '    port: 0',
    ...extra, '',
  ].join('\n'), { mode: 0o640 });
  return file;
}

/** `tonari run` with systemd's variables; WATCHDOG_PID is the agent's own pid unless given (sh execs node in place). */
function startAgent(config: string, env: Record<string, string>, watchdogPid?: number): Agent {
  const script = watchdogPid === undefined ? 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"' : `WATCHDOG_PID=${watchdogPid}; export WATCHDOG_PID; exec "$@"`;
  const child = spawn('/bin/sh', ['-c', script, 'sh', process.execPath, BIN, 'run', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STATE_DIRECTORY: '', ...env },
  });
  const agent: Agent = { child, out: '', exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  const keep = (c: Buffer) => { agent.out = (agent.out + c.toString()).slice(-50_000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return agent;
}

/** Waits for `agent` to exit, or kills it after `ms` and says so. */
async function exitWithin(agent: Agent, ms: number): Promise<number | null | 'still running'> {
  const timer = setTimeout(() => agent.child.kill('SIGKILL'), ms);
  const code = await agent.exited;
  clearTimeout(timer);
  return agent.child.signalCode === 'SIGKILL' ? 'still running' : code;
}

function gaps(messages: NotifyMessage[]): number[] {
  return messages.slice(1).map((m, i) => m.at - messages[i]!.at);
}

function tools(t: Parameters<typeof requireTool>[0]): boolean {
  return requireTool(t, toolAvailable('systemd-notify', ['--version']), 'systemd-notify', 'systemd')
    && requireTool(t, toolAvailable(PYTHON, ['--version']), 'python3', 'python3');
}

t.before(() => ensureDistFresh(['agent', 'broker']));

t.test('READY, pings within WATCHDOG_USEC, none while frozen, pings again, STOPPING and exit 0', async (t) => {
  if (!tools(t)) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'tn-service-'));
  const socket = await NotifySocket.open();
  const agent = startAgent(writeConfig(dir), { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: String(WATCHDOG_MS * 1000) });
  t.teardown(() => { agent.child.kill('SIGKILL'); socket.close(); rmSync(dir, { recursive: true, force: true }); });

  const ready = await socket.waitFor('READY', 60_000);
  t.pass('READY=1 once the agent runs');
  t.match(agent.out, /"msg":"broker listening"/, 'after the broker listens');
  await sleep(3 * WATCHDOG_MS);
  const pings = socket.with('WATCHDOG', ready.at);
  t.ok(pings.length >= 5, `${pings.length} pings in ${3 * WATCHDOG_MS} ms`);
  const longest = Math.max(...gaps(pings));
  t.ok(longest < WATCHDOG_MS, `the longest gap between pings (${longest} ms) is under WATCHDOG_USEC`);
  const status = socket.with('STATUS', ready.at).at(-1)!.fields.STATUS!;
  t.match(status, /^PV \d+\.\d kW, load \d+\.\d kW, grid .*, 0 peers$/, `STATUS=${status}`);

  // Frozen: the ping timer cannot run, exactly as with a blocked event loop.
  const frozenAt = Date.now();
  agent.child.kill('SIGSTOP');
  await sleep(2 * WATCHDOG_MS);
  const thawedAt = Date.now();
  agent.child.kill('SIGCONT');
  // A systemd-notify started just before the freeze may still deliver for a moment.
  t.same(socket.with('WATCHDOG', frozenAt + 500).filter((m) => m.at < thawedAt), [], 'no ping while frozen');
  const resumed = await socket.waitFor('WATCHDOG', 2 * WATCHDOG_MS, thawedAt);
  const before = socket.with('WATCHDOG').filter((m) => m.at < frozenAt + 500).at(-1)!;
  t.ok(resumed.at - before.at > WATCHDOG_MS, `a ${resumed.at - before.at} ms silence: longer than WatchdogSec, so systemd would have killed and restarted it`);
  t.pass('pings resume after SIGCONT');
  await sleep(2 * WATCHDOG_MS);
  const after = socket.with('WATCHDOG', resumed.at);
  t.ok(after.length >= 2 && Math.max(...gaps(after)) < WATCHDOG_MS, 'and keep their rhythm');

  const termAt = Date.now();
  agent.child.kill('SIGTERM');
  const stopping = await socket.waitFor('STOPPING', 10_000, termAt);
  t.equal(stopping.fields.STATUS, 'stopping');
  const code = await exitWithin(agent, 30_000);
  const took = Date.now() - termAt;
  t.equal(code, 0, 'exit 0 on SIGTERM');
  t.ok(took < 10_000, `stopped in ${took} ms, well within TimeoutStopSec`);
  t.same(socket.with('WATCHDOG', stopping.at + 200), [], 'no ping after STOPPING=1');
  t.match(agent.out, /"msg":"stopped"/);
});

t.test('a watchdog meant for another process (WATCHDOG_PID) is not pinged; READY still is', async (t) => {
  if (!tools(t)) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'tn-service-'));
  const socket = await NotifySocket.open();
  const agent = startAgent(writeConfig(dir), { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '1000000' }, 1);
  t.teardown(() => { agent.child.kill('SIGKILL'); socket.close(); rmSync(dir, { recursive: true, force: true }); });
  const ready = await socket.waitFor('READY', 60_000);
  await sleep(2_500);
  t.same(socket.with('WATCHDOG', 0), [], 'no WATCHDOG=1 at all');
  t.equal(ready.fields.WATCHDOG, undefined);
  agent.child.kill('SIGTERM');
  t.equal(await exitWithin(agent, 15_000), 0);
});

t.test('outside systemd (no NOTIFY_SOCKET) nothing is sent and nothing is spawned', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tn-service-'));
  // A systemd-notify on PATH that would leave a mark if it ran.
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'systemd-notify'), `#!/bin/sh\ntouch ${path.join(dir, 'ran')}\n`);
  chmodSync(path.join(bin, 'systemd-notify'), 0o755);
  const agent = startAgent(writeConfig(dir), { NOTIFY_SOCKET: '', WATCHDOG_USEC: '1000000', PATH: `${bin}:${process.env.PATH ?? ''}` });
  t.teardown(() => { agent.child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); });
  const until = Date.now() + 60_000;
  while (!/"msg":"tonari running"/.test(agent.out) && Date.now() < until) await sleep(100);
  await sleep(2_500);
  agent.child.kill('SIGTERM');
  t.equal(await exitWithin(agent, 15_000), 0);
  const { existsSync } = await import('node:fs');
  t.equal(existsSync(path.join(dir, 'ran')), false, 'systemd-notify never ran');
  t.notMatch(agent.out, /told systemd/);
});

t.test('start failures exit with what RestartPreventExitStatus lists, before READY', async (t) => {
  if (!tools(t)) return;
  const socket = await NotifySocket.open();
  t.teardown(() => socket.close());
  const cases: { name: string; extra: string[]; mode?: number; setup?: (dir: string) => void; code: number; says: RegExp }[] = [
    { name: 'an unknown key', extra: ['colour: blue'], code: 78, says: /colour/ },
    { name: 'a token in a world-readable file', extra: ['  token: 0123456789abcdef0123456789abcdef'], mode: 0o644, code: 78, says: /every user of this machine can read it/ },
    { name: 'an API beyond loopback without a token', extra: ['    host: 0.0.0.0'], code: 78, says: /api\.token/ },
  ];
  for (const c of cases) {
    const dir = mkdtempSync(path.join(tmpdir(), 'tn-service-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const config = writeConfig(dir, c.extra);
    if (c.mode !== undefined) chmodSync(config, c.mode);
    c.setup?.(dir);
    const since = Date.now();
    const agent = startAgent(config, { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '2000000' });
    const code = await exitWithin(agent, 30_000);
    t.equal(code, c.code, `${c.name}: exit ${c.code}`);
    t.match(agent.out, c.says, `${c.name}: says why`);
    t.same(socket.with('READY', since), [], `${c.name}: never ready`);
  }
});

t.test('a damaged ledger does not keep the agent from running: trading stops, no restart loop', async (t) => {
  if (!tools(t)) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'tn-service-'));
  mkdirSync(path.join(dir, 'state'), { recursive: true, mode: 0o700 });
  writeFileSync(path.join(dir, 'state', LEDGER_FILE), 'garbage\n{"also":"garbage"}\n', { mode: 0o600 });
  const socket = await NotifySocket.open();
  const agent = startAgent(writeConfig(dir), { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '2000000' });
  t.teardown(() => { agent.child.kill('SIGKILL'); socket.close(); rmSync(dir, { recursive: true, force: true }); });
  await socket.waitFor('READY', 60_000);
  await socket.waitFor('WATCHDOG', 5_000);
  t.match(agent.out, /the ledger is damaged: trading is stopped/, 'the journal says trading stopped');
  agent.child.kill('SIGTERM');
  t.equal(await exitWithin(agent, 15_000), 0);
});
