/**
 * Progress of long CLI work on stderr: one rewritten status line on a terminal,
 * occasional plain lines in a pipe (what journald and log files get), never on
 * stdout. `tonari scan` and `tonari simulate --households`, in-process with a
 * terminal-like stderr and as a child process with a pipe.
 */
import t from 'tap';
import { scanCommand } from '../../agent/cli/commands/scan.js';
import { communityProgress, simulateCommand } from '../../agent/cli/commands/simulate.js';
import { LiveLine } from '../../agent/cli/progress.js';
import { ManualClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { startSimulator } from '../../agent/sim/simulator.js';
import { ensureDistFresh } from '../helpers/build.js';
import { capture, sink, tonari } from './helpers.js';

const CLEAR = '\r\x1b[2K';

t.test('LiveLine: a rewritten status line on a terminal, only the permanent lines elsewhere', async (t) => {
  const tty = sink(true, 20);
  const live = new LiveLine(tty);
  t.ok(live.live);
  live.set('working 1');
  live.print('found one');
  live.set('a status line far longer than the terminal');
  live.clear();
  t.equal(tty.text(), `${CLEAR}working 1${CLEAR}found one\nworking 1${CLEAR}a status line far …${CLEAR}`);

  const pipe = sink(false);
  const plain = new LiveLine(pipe);
  t.notOk(plain.live);
  plain.set('working 1');
  plain.print('found one');
  plain.clear();
  t.equal(pipe.text(), 'found one\n', 'no status lines, no escape codes');
});

t.test('communityProgress: day and slot, and a line when a day is complete', async (t) => {
  t.same(communityProgress(1, 96, 2, 1500), { status: 'simulating day 1 of 2 · slot 1 of 48 · 1.5 s', dayDone: undefined });
  t.same(communityProgress(48, 96, 2, 4000), { status: 'simulating day 1 of 2 · slot 48 of 48 · 4.0 s', dayDone: 'day 1 of 2 simulated (4.0 s)' });
  t.same(communityProgress(49, 96, 2, 4100).status, 'simulating day 2 of 2 · slot 1 of 48 · 4.1 s');
  t.same(communityProgress(96, 96, 2, 8000).dayDone, 'day 2 of 2 simulated (8.0 s)');
  t.same(communityProgress(47, 47, 1, 1000).dayDone, 'day 1 of 1 simulated (1.0 s)', 'a short (DST) day still ends');
});

t.test('simulate --households on a terminal: the status line moves through the days, then is erased', async (t) => {
  const io = capture({ stderrTTY: true });
  t.equal(await simulateCommand(['--households', '3', '--days', '2', '--ledger', 'memory', '--json'], io), 0, io.err());
  const err = io.err();
  t.match(err, `${CLEAR}simulating day 1 of 2 · slot 1 of 48 · `);
  t.match(err, `${CLEAR}simulating day 2 of 2 · slot 48 of 48 · `);
  t.ok(err.endsWith(CLEAR), 'erased before the report');
  t.notMatch(err, /\n/, 'no permanent lines: the status line only');
  t.doesNotThrow(() => JSON.parse(io.out()), 'stdout is the report alone');
});

t.test('simulate --households in a pipe: one line per simulated day', async (t) => {
  ensureDistFresh(['agent', 'broker']);
  const res = await tonari(['simulate', '--households', '3', '--days', '2', '--ledger', 'memory', '--json']);
  t.equal(res.code, 0, res.stderr);
  t.match(res.stderr, /^day 1 of 2 simulated \(\d+\.\d s\)\nday 2 of 2 simulated \(\d+\.\d s\)\n$/);
  t.notMatch(res.stderr, /\x1b/, 'no escape codes');
  t.doesNotThrow(() => JSON.parse(res.stdout));
});

t.test('scan on a terminal: the unit being asked and the devices found so far on one line; findings stay', async (t) => {
  const sim = await startSimulator({ clock: new ManualClock(Date.parse('2026-06-21T03:00:00Z')), log: silentLogger(), transport: { kind: 'tcp', host: '127.0.0.1', port: 0 }, seed: 1 });
  t.teardown(() => sim.close());
  const port = String(sim.server.address().port);
  const io = capture({ stderrTTY: true });
  t.equal(await scanCommand(['--host', '127.0.0.1', '--port', port, '--units', '1,2,3', '--timeout', '300ms', '--json'], io), 0, io.err());
  const err = io.err();
  t.match(err, /^scanning 127\.0\.0\.1:\d+ for SunSpec devices on unit 1, 2, 3\n/);
  t.match(err, `${CLEAR}[1/3] asking unit 1 at 127.0.0.1:${port} … 0 found so far`);
  t.match(err, `${CLEAR}[3/3] asking unit 3 at 127.0.0.1:${port} … 2 found so far`);
  t.match(err, /unit 1: found tonari SIM-HYBRID \(serial SIM1-INV\), models 1 103 120 160 124 802 at 40000\n/);
  t.match(err, /unit 2: found tonari SIM-METER/);
  t.notMatch(err, /no answer/, 'silent units are not news on a terminal');
  t.notMatch(err, /^\[\d\/3\] unit \d \.\.\.$/m, 'no plain per-unit lines');
  t.match(err, `${CLEAR}2 SunSpec device(s) found\n`, 'the status line is erased before the result');
  t.equal((JSON.parse(io.out()) as unknown[]).length, 2);
});
