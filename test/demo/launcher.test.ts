/**
 * The demo launcher's process management with stand-in agents (small node scripts
 * given as the CLI): their output reaches the log files and the monitor, a child
 * that dies is reported with its log's tail, stop() SIGTERMs everyone and SIGKILLs
 * a child that ignores it once the deadline passes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { demoHouseholds } from '../../agent/app/community-demo/households.js';
import { CommunityProcesses, type LauncherEvent } from '../../agent/app/community-demo/launcher.js';
import { CommunityMonitor } from '../../agent/app/community-demo/monitor.js';
import type { PreparedMember } from '../../agent/app/community-demo/prepare.js';

/** A stand-in for `tonari run`: logs like an agent, then behaves as its config file says. */
const STAND_IN = `
import { readFileSync } from 'node:fs';
const config = process.argv[process.argv.indexOf('--config') + 1];
const mode = readFileSync(config, 'utf8').trim();
const log = (level, msg, extra = {}) => process.stdout.write(JSON.stringify({ level, time: Date.now(), msg, ...extra }) + '\\n');
log(30, 'dashboard', { url: 'http://127.0.0.1:1/' });
log(30, 'tonari running');
process.stderr.write('a line on stderr\\n');
if (mode === 'crash') { log(50, 'market step failed', { err: 'boom' }); setTimeout(() => process.exit(3), 100); }
else if (mode === 'stubborn') { process.on('SIGTERM', () => log(30, 'not stopping')); setInterval(() => {}, 1000); }
else { process.on('SIGTERM', () => { log(30, 'stopped'); process.exit(0); }); setInterval(() => {}, 1000); }
`;

function setup(t: Test, modes: string[]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'tn-launch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'stand-in.mjs');
  writeFileSync(bin, STAND_IN);
  const members: PreparedMember[] = demoHouseholds(modes.length).map((household, i) => {
    const configPath = path.join(dir, `${household.slug}.yaml`);
    writeFileSync(configPath, modes[i]!);
    return {
      household, dir, stateDir: dir, configPath, logPath: path.join(dir, `${household.slug}.log`),
      meshPort: 1, apiPort: 2, fingerprint: 'f'.repeat(64), peerId: `peer${i}`,
    };
  });
  const monitor = new CommunityMonitor(members.map((m) => ({ name: m.household.name, peerId: m.peerId })));
  const events: LauncherEvent[] = [];
  return { members, monitor, events, bin };
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('output to the log files and the monitor; a crash reported with its tail; a stubborn child killed after the deadline', async (t) => {
  const { members, monitor, events, bin } = setup(t, ['polite', 'crash', 'stubborn']);
  const processes = new CommunityProcesses({
    members, monitor, nodePath: process.execPath, bin, speed: 600, simStart: 0, realStart: Date.now(),
    onEvent: (e) => events.push(e), stopDeadlineMs: 700, tailLines: 3,
  });
  t.teardown(() => { for (const pid of Object.values(processes.pids())) try { process.kill(pid!, 'SIGKILL'); } catch { /* gone */ } });
  processes.start();
  t.equal(Object.values(processes.pids()).filter((p) => typeof p === 'number').length, 3, 'three children');

  await until(() => events.filter((e) => e.type === 'up').length === 3);
  t.equal(events.filter((e) => e.type === 'dashboard').length, 3, 'every dashboard line reached the monitor');

  await until(() => events.some((e) => e.type === 'log-tail'));
  const exited = events.find((e) => e.type === 'exited');
  t.same(exited, { type: 'exited', household: 'Suzuki', code: 3, signal: null, expected: false });
  t.ok(events.some((e) => e.type === 'problem' && e.household === 'Suzuki' && e.message === 'market step failed: boom'), 'its error line surfaced');
  const tail = events.find((e) => e.type === 'log-tail');
  t.match(tail, { household: 'Suzuki', file: members[1]!.logPath });
  t.equal(tail?.type === 'log-tail' && tail.lines.length, 3, 'the last 3 lines');
  t.match(tail?.type === 'log-tail' ? tail.lines.join('\n') : '', /error market step failed \(boom\)/);
  t.same(monitor.counts(), { running: 2, up: 2, total: 3 }, 'the others keep running');

  const started = Date.now();
  const killed = await processes.stop();
  t.same(killed, ['Takahashi'], 'the one that ignored SIGTERM was killed');
  t.ok(Date.now() - started >= 650, 'after the deadline');
  await processes.allExited;
  const exits = events.filter((e) => e.type === 'exited');
  t.same(exits.map((e) => e.type === 'exited' && [e.household, e.code, e.signal, e.expected]), [
    ['Suzuki', 3, null, false], ['Sato', 0, null, true], ['Takahashi', null, 'SIGKILL', true],
  ]);
  t.equal(events.filter((e) => e.type === 'log-tail').length, 1, 'no tails for the agents asked to stop');

  const satoLog = readFileSync(members[0]!.logPath, 'utf8');
  t.match(satoLog, /"msg":"tonari running"/, 'stdout in the log file');
  t.match(satoLog, /a line on stderr/, 'and stderr');
  t.match(satoLog, /"msg":"stopped"/, 'up to its last line');
});

t.test('a CLI that cannot be started is reported, not thrown', async (t) => {
  const { members, monitor, events } = setup(t, ['polite', 'polite']);
  const processes = new CommunityProcesses({
    members, monitor, nodePath: '/nonexistent/node', bin: 'x.js', speed: 1, simStart: 0, realStart: 0, onEvent: (e) => events.push(e),
  });
  processes.start();
  await processes.allExited;
  t.match(events.filter((e) => e.type === 'exited'), [{ household: 'Sato', expected: false }, { household: 'Suzuki', expected: false }]);
  const tail = events.find((e) => e.type === 'log-tail');
  t.match(tail?.type === 'log-tail' ? tail.lines.join('\n') : '', /cannot start Sato: spawn \/nonexistent\/node ENOENT/);
  t.same(await processes.stop(), []);
});
