/**
 * The CLI's errors say what to do next (the built binary, as installers run it):
 * no agent on the state directory (none there, not running, a stale socket), the
 * agent's files belonging to another user (run as root or that user), a missing
 * configuration (tonari init), a scan that cannot connect. And `tonari check --json`.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { checkCommand } from '../../agent/cli/commands/check.js';
import { agentUnavailableHint, commandLine } from '../../agent/cli/hints.js';
import { DEFAULT_CONFIG_PATH } from '../../agent/config/load.js';
import { freePorts } from '../../agent/app/community-demo/prepare.js';
import { ensureDistFresh } from '../helpers/build.js';
import { capture, tonari } from './helpers.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

t.before(() => ensureDistFresh(['agent', 'broker']));

function tempDir(t: Test): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tn-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A control socket whose agent was killed: the file stays, nothing listens. */
async function staleSocket(stateDir: string): Promise<void> {
  const socket = path.join(stateDir, 'control.sock');
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
}

t.test('commandLine quotes for a shell', async (t) => {
  t.equal(commandLine('peers', ['--state-dir', '/var/lib/tonari']), 'tonari peers --state-dir /var/lib/tonari');
  t.equal(commandLine('pair', ['--name', "O'Neil house"]), `tonari pair --name 'O'\\''Neil house'`);
});

t.test('no agent on the state directory: why, and what to do', async (t) => {
  const dir = tempDir(t);
  const missing = path.join(dir, 'nope');
  const none = await tonari(['peers', '--state-dir', missing]);
  t.equal(none.code, 69);
  t.match(none.stderr, `tonari peers: there is no state directory ${missing}: give the running agent's with --state-dir`);

  const empty = path.join(dir, 'empty');
  mkdirSync(empty);
  const notRunning = await tonari(['peers', '--state-dir', empty]);
  t.equal(notRunning.code, 69);
  t.match(notRunning.stderr, `tonari peers: no agent runs with state directory ${empty}: start it (sudo systemctl start tonari, or tonari run --config FILE)`);

  const stale = path.join(dir, 'stale');
  mkdirSync(stale);
  await staleSocket(stale);
  const gone = await tonari(['peers', '--state-dir', stale, '--json']);
  t.equal(gone.code, 69);
  t.match(gone.stderr, /nothing listens on the control socket/);
  t.match(gone.stderr, /tonari peers: the agent that made .*control\.sock is not running any more: start it again \(sudo systemctl start tonari\)/);
  t.equal(gone.stdout, '');

  const pair = await tonari(['pair', '--state-dir', stale, '--window', '1m']);
  t.equal(pair.code, 69);
  t.match(pair.stderr, /tonari pair: the agent that made .* is not running any more/);

  t.match(await agentUnavailableHint(stale, 'timed out', 'tonari peers'), /does not answer \(busy or stuck\)/);
});

t.test('the agent\'s files belong to another user: run as root or as that user', { skip: !asRoot && 'needs root to run the CLI as another user' }, async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const stateDir = path.join(dir, 'state');
  mkdirSync(stateDir, { mode: 0o700 });
  writeFileSync(path.join(stateDir, 'ledger.jsonl'), '');
  await staleSocket(stateDir);
  const as = { uid: NOBODY, gid: NOBODY };

  const peers = await tonari(['peers', '--state-dir', stateDir], as);
  t.equal(peers.code, 69);
  t.match(peers.stderr, `tonari peers: the agent's files belong to the user it runs as: run as root or as that user, e.g. sudo tonari peers --state-dir ${stateDir}`);

  const trades = await tonari(['trades', '--state-dir', stateDir], as);
  t.equal(trades.code, 74);
  t.match(trades.stderr, /tonari trades: cannot read .*ledger\.jsonl: EACCES/);
  t.match(trades.stderr, `e.g. sudo tonari trades --state-dir ${stateDir}`);

  const verify = await tonari(['ledger', 'verify', '--state-dir', stateDir], as);
  t.equal(verify.code, 74);
  t.match(verify.stderr, `e.g. sudo tonari ledger verify --state-dir ${stateDir}`);

  const identity = await tonari(['identity', '--state-dir', stateDir], as);
  t.not(identity.code, 0);
  t.match(identity.stderr, `e.g. sudo tonari identity --state-dir ${stateDir}`);

  const list = await tonari(['pair', '--list', '--state-dir', stateDir], as);
  t.equal(list.code, 74);
  t.match(list.stderr, `e.g. sudo tonari pair --list --state-dir ${stateDir}`);

  const config = path.join(dir, 'tonari.yaml');
  writeFileSync(config, 'household:\n  name: Sato\n', { mode: 0o600 });
  const check = await tonari(['check', config], as);
  t.equal(check.code, 78);
  t.match(check.stderr, `${config}: cannot read: permission denied\n`);
  t.match(check.stderr, `e.g. sudo tonari check ${config}`);
});

t.test('a missing default configuration suggests tonari init; a mistyped path is one line', async (t) => {
  const dir = tempDir(t);
  const typo = capture();
  t.equal(await checkCommand([path.join(dir, 'tonari.yml')], typo), 78);
  t.equal(typo.err(), `${path.join(dir, 'tonari.yml')}: cannot read: no such file\n`);
  if (existsSync(DEFAULT_CONFIG_PATH)) {
    t.comment(`${DEFAULT_CONFIG_PATH} exists on this machine: the hint for a missing default is not checked`);
    return;
  }
  const io = capture();
  t.equal(await checkCommand([], io), 78);
  t.equal(io.err(), `${DEFAULT_CONFIG_PATH}: cannot read: no such file\ntonari check: write a starter configuration with: tonari init ${DEFAULT_CONFIG_PATH}\n`);
});

t.test('scan that cannot connect says what to check', async (t) => {
  const [port] = await freePorts(1);
  const res = await tonari(['scan', '--host', '127.0.0.1', '--port', String(port), '--units', '1', '--timeout', '300ms']);
  t.equal(res.code, 69);
  t.match(res.stderr, `tonari scan: cannot connect to 127.0.0.1:${port}: `);
  t.match(res.stderr, /tonari scan: check the address and port \(Modbus TCP is usually port 502, and must be enabled on the device\); many inverters accept one Modbus client at a time, so stop tonari first/);
  const serial = await tonari(['scan', '--serial', '/dev/tonari-no-such-port', '--units', '1', '--timeout', '300ms']);
  t.equal(serial.code, 69);
  t.match(serial.stderr, /tonari scan: check the serial port's path \(ls -l \/dev\/serial\/by-id\/\)/);
});

t.test('check --json: ok, problems with positions, the effective configuration', async (t) => {
  const dir = tempDir(t);
  const good = path.join(dir, 'good.yaml');
  writeFileSync(good, 'household:\n  name: Sato\npoll:\n  interval: 2s\n  staleAfter: 10s\n');
  const ok = capture();
  t.equal(await checkCommand([good, '--json'], ok), 0);
  t.same(JSON.parse(ok.out()), { file: good, ok: true, problems: [] });
  t.equal(ok.err(), '');

  const printed = capture();
  t.equal(await checkCommand([good, '--json', '--print'], printed), 0);
  const withConfig = JSON.parse(printed.out());
  t.equal(withConfig.config.household.name, 'Sato');
  t.equal(withConfig.config.poll.interval, 2000, 'durations in ms');

  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, 'household:\n  latitude: north\npoll:\n  interval: 5\n');
  const broken = capture();
  t.equal(await checkCommand([bad, '--json'], broken), 78);
  t.same(JSON.parse(broken.out()), {
    file: bad, ok: false, problems: [
      { file: bad, line: 2, col: 13, path: 'household.latitude', message: 'expected a number from -90 to 90, got "north"' },
      { file: bad, line: 4, col: 13, path: 'poll.interval', message: 'expected a duration with a unit, such as 500ms or 2s, got 5' },
    ],
  });
  t.equal(broken.err(), '', 'the problems are the JSON');

  const missing = capture();
  t.equal(await checkCommand([path.join(dir, 'none.yaml'), '--json'], missing), 78);
  t.match(JSON.parse(missing.out()), { ok: false, problems: [{ line: null, col: null, path: '', message: 'cannot read: no such file' }] });
});
