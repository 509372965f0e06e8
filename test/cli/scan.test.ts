/**
 * `tonari scan`, run as users run it (the built CLI in a child process),
 * against simulators started in this process: TCP with the vendor quirks,
 * RTU on a socat pty pair, and its argument errors.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import t, { type Test } from 'tap';
import { ManualClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { startSimulator, type RunningSimulator } from '../../agent/sim/simulator.js';
import type { Quirk } from '../../agent/sim/sunspec/layout.js';
import { COMMON_UNITS } from '../../agent/app/scan.js';
import { requireTool, toolAvailable } from '../helpers/tools.js';
import { cliBuilt, parseScanJson, runCli, type CliResult, type ScanEntry } from '../interop/helpers.js';
import { startPtyPair } from '../sim/helpers.js';

const EXIT_USAGE = 64;
const EXIT_UNAVAILABLE = 69;
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const inverter = (unit: number): ScanEntry => ({
  unit, manufacturer: 'tonari', model: 'SIM-HYBRID', serial: 'SIM1-INV', version: VERSION, models: [1, 103, 120, 160, 124, 802], baseAddress: 40000,
});
const meter = (unit: number, models = [1, 203]): ScanEntry => ({
  unit, manufacturer: 'tonari', model: 'SIM-METER', serial: 'SIM1-MTR', version: VERSION, models, baseAddress: 40000,
});

/** A simulator whose household is frozen (the clock never moves); its transport needs no timers. */
async function simulator(t: Test, transport: Parameters<typeof startSimulator>[0]['transport'], quirks: Quirk[] = []): Promise<RunningSimulator> {
  const sim = await startSimulator({ clock: new ManualClock(Date.parse('2026-06-21T03:00:00Z')), log: silentLogger(), transport, quirks, seed: 1 });
  t.teardown(() => sim.close());
  return sim;
}

async function tcpSimulator(t: Test, quirks: Quirk[] = []): Promise<string> {
  const sim = await simulator(t, { kind: 'tcp', host: '127.0.0.1', port: 0 }, quirks);
  return String(sim.server.address().port);
}

function scan(args: string[]): Promise<CliResult> {
  return runCli(['scan', ...args]);
}

/** Progress lines "[i/n] unit U ..." on stderr, as [i, n, U]. */
function progressLines(stderr: string): [number, number, number][] {
  return [...stderr.matchAll(/^\[(\d+)\/(\d+)\] unit (\d+) \.\.\.$/gm)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3])]);
}

/** What stderr says after the progress line of `unit`, up to the next unit. */
function verdictOf(stderr: string, unit: number): string {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => new RegExp(`^\\[\\d+/\\d+\\] unit ${unit} \\.\\.\\.$`).test(l));
  if (at < 0) return '';
  const rest = lines.slice(at + 1);
  const end = rest.findIndex((l) => /^\[\d+\/\d+\] unit /.test(l) || /SunSpec device\(s\) found/.test(l));
  return rest.slice(0, end < 0 ? rest.length : end).join('\n').trim();
}

t.before(() => {
  if (!cliBuilt()) throw new Error('dist/agent/cli/bin.js is missing: run `npm run build` first (npm test does)');
});

t.test('TCP, default units: finds the inverter on unit 1 and the meter on unit 2', async (t) => {
  const port = await tcpSimulator(t);
  const res = await scan(['--host', '127.0.0.1', '--port', port, '--json']);
  t.equal(res.code, 0, `exit 0 (stderr: ${res.stderr})`);
  t.strictSame(parseScanJson(res.stdout), [inverter(1), meter(2)]);

  t.strictSame(progressLines(res.stderr), COMMON_UNITS.map((u, i) => [i + 1, COMMON_UNITS.length, u]), 'stderr names every default unit in order');
  t.match(verdictOf(res.stderr, 1), /found tonari SIM-HYBRID \(serial SIM1-INV\), models 1 103 120 160 124 802 at 40000/);
  t.match(verdictOf(res.stderr, 2), /found tonari SIM-METER/);
  for (const unit of COMMON_UNITS.filter((u) => u > 2)) t.equal(verdictOf(res.stderr, unit), 'no answer', `unit ${unit}: no answer`);
  t.match(res.stderr, /^2 SunSpec device\(s\) found$/m);
  t.notMatch(res.stdout, /unit \d+ \.\.\.|\[\d+\/\d+\]|scanning|found/, 'no progress on stdout');
});

t.test('TCP without --json: a readable list on stdout, progress on stderr', async (t) => {
  const port = await tcpSimulator(t);
  const res = await scan(['--host', '127.0.0.1', '--port', port, '--units', '1,2,3']);
  t.equal(res.code, 0);
  t.strictSame(res.stdout.trim().split('\n'), [
    `unit 1: tonari SIM-HYBRID serial SIM1-INV version ${VERSION} models [1, 103, 120, 160, 124, 802] base 40000`,
    `unit 2: tonari SIM-METER serial SIM1-MTR version ${VERSION} models [1, 203] base 40000`,
  ]);
  t.strictSame(progressLines(res.stderr), [[1, 3, 1], [2, 3, 2], [3, 3, 3]]);
  t.match(res.stderr, /^scanning 127\.0\.0\.1:\d+ for SunSpec devices on unit 1, 2, 3$/m);
});

t.test('solaredge quirk: the meter is a second device of the unit 1 chain', async (t) => {
  const port = await tcpSimulator(t, ['solaredge']);
  const res = await scan(['--host', '127.0.0.1', '--port', port, '--json']);
  t.equal(res.code, 0, `exit 0 (stderr: ${res.stderr})`);
  t.strictSame(parseScanJson(res.stdout), [inverter(1), meter(1)]);
  t.match(verdictOf(res.stderr, 1), /found subdevice 1: tonari SIM-METER/);
  t.equal(verdictOf(res.stderr, 2), 'no answer');
});

t.test('sma quirk: the inverter is found on unit 126 with the default unit list', async (t) => {
  const port = await tcpSimulator(t, ['sma']);
  const res = await scan(['--host', '127.0.0.1', '--port', port, '--json']);
  t.equal(res.code, 0, `exit 0 (stderr: ${res.stderr})`);
  t.strictSame(parseScanJson(res.stdout), [meter(2), inverter(126)]);
  t.equal(verdictOf(res.stderr, 1), 'no answer');
});

t.test('--units 5-6 on a TCP simulator: an empty array, exit 0', async (t) => {
  const port = await tcpSimulator(t);
  const res = await scan(['--host', '127.0.0.1', '--port', port, '--units', '5-6', '--timeout', '300ms', '--json']);
  t.equal(res.code, 0);
  t.equal(res.stdout, '[]\n');
  t.strictSame(progressLines(res.stderr), [[1, 2, 5], [2, 2, 6]]);
  t.equal(verdictOf(res.stderr, 5), 'no answer');
  t.equal(verdictOf(res.stderr, 6), 'no answer');
  t.match(res.stderr, /^0 SunSpec device\(s\) found$/m);
});

t.test('RTU over a socat pty pair: units 1 and 2 found, unit 3 does not answer', async (t) => {
  if (!requireTool(t, toolAvailable('socat', ['-V']), 'socat', 'socat')) return;
  const pty = await startPtyPair();
  t.teardown(() => pty.close());
  await simulator(t, { kind: 'rtu', path: pty.b, baudRate: 9600 });
  const res = await scan(['--serial', pty.a, '--baud', '9600', '--units', '1,2,3', '--timeout', '300ms', '--json']);
  t.equal(res.code, 0, `exit 0 (stderr: ${res.stderr})`);
  t.strictSame(parseScanJson(res.stdout), [inverter(1), meter(2)]);
  t.match(res.stderr, new RegExp(`^scanning ${pty.a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at 9600 baud`, 'm'));
  t.strictSame(progressLines(res.stderr), [[1, 3, 1], [2, 3, 2], [3, 3, 3]]);
  t.equal(verdictOf(res.stderr, 3), 'no answer', 'unit 3 is reported as no answer');
});

t.test('RTU over TCP (--rtu-over-tcp): units 1 and 2 found, unit 3 does not answer', async (t) => {
  const sim = await simulator(t, { kind: 'rtu-over-tcp', host: '127.0.0.1', port: 0 });
  const port = String(sim.server.address().port);
  const res = await scan(['--host', '127.0.0.1', '--port', port, '--rtu-over-tcp', '--units', '1,2,3', '--timeout', '300ms', '--json']);
  t.equal(res.code, 0, `exit 0 (stderr: ${res.stderr})`);
  t.strictSame(parseScanJson(res.stdout), [inverter(1), meter(2)]);
  t.match(res.stderr, /^scanning 127\.0\.0\.1:\d+ \(RTU over TCP\)/m);
  t.equal(verdictOf(res.stderr, 3), 'no answer');
});

t.test('an unreachable host: every unit is tried, exit 69 (unavailable), not an empty success', async (t) => {
  // A port that nothing listens on: bind one, note it, close it.
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  const res = await scan(['--host', '127.0.0.1', '--port', String(port), '--units', '1,2,3', '--json']);
  t.equal(res.code, EXIT_UNAVAILABLE, `exit 69 (stderr: ${res.stderr})`);
  t.equal(res.stdout, '[]\n', 'stdout still holds one JSON array');
  for (const unit of [1, 2, 3]) {
    t.match(verdictOf(res.stderr, unit), /unreachable.*ECONNREFUSED/, `unit ${unit} was really tried (no reconnect backoff during a scan)`);
  }
  t.match(res.stderr, /tonari scan: cannot connect to 127\.0\.0\.1:\d+/);
});

t.test('bad arguments exit 64 with a clear message and print nothing on stdout', async (t) => {
  const cases: [string, string[], RegExp][] = [
    ['--units abc', ['--host', '127.0.0.1', '--units', 'abc'], /tonari scan: "abc" is not a unit id or range/],
    ['--units 300', ['--host', '127.0.0.1', '--units', '300'], /tonari scan: "300": unit ids run from 0 to 247/],
    ['--units 6-5', ['--host', '127.0.0.1', '--units', '6-5'], /tonari scan: "6-5"/],
    ['both --host and --serial', ['--host', '127.0.0.1', '--serial', '/dev/ttyUSB0'], /tonari scan: give either --host or --serial/],
    ['neither --host nor --serial', ['--units', '1'], /tonari scan: give either --host or --serial/],
    ['--timeout nonsense', ['--host', '127.0.0.1', '--timeout', 'soon'], /tonari scan: --timeout: expected a duration/],
    ['--port 70000', ['--host', '127.0.0.1', '--port', '70000'], /tonari scan: --port: expected 1\.\.65535/],
    ['--parity mark', ['--serial', '/dev/ttyUSB0', '--parity', 'mark'], /tonari scan: --parity: expected none, even or odd/],
    ['an unknown option', ['--host', '127.0.0.1', '--bogus'], /tonari scan: .*--bogus/],
  ];
  for (const [what, args, message] of cases) {
    const res = await scan(args);
    t.equal(res.code, EXIT_USAGE, `${what}: exit 64`);
    t.match(res.stderr, message, `${what}: says what is wrong`);
    t.equal(res.stdout, '', `${what}: nothing on stdout`);
    t.notMatch(res.stderr, /internal error|at .*\.js:\d+/, `${what}: no stack trace`);
  }
});
