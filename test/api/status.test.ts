/**
 * `tonari status`: the control socket's `status` request against a running agent, and
 * the built CLI (human summary, --json, --config, --help) spawned from dist/, including
 * what it says when no agent runs.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { askAgent } from '../../agent/control/client.js';
import type { StatusResult } from '../../agent/control/protocol.js';
import { statusLines } from '../../agent/cli/commands/status.js';
import { createControlHandler, type ControlTarget } from '../../agent/control/handler.js';
import { ensureDistFresh, ROOT } from '../helpers/build.js';
import { apiConfig, getJson, startApiAgent, stateDir, until } from './helpers.js';

const exec = promisify(execFile);
const BIN = join(ROOT, 'dist/agent/cli/bin.js');

t.before(() => ensureDistFresh(['agent', 'broker']));

async function tonari(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { timeout: 30_000, env: { ...process.env, STATE_DIRECTORY: '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

t.test('status over the control socket and tonari status', async (t) => {
  const dir = stateDir(t, 'st');
  const agent = await startApiAgent(t, apiConfig(dir));
  const url = agent.api!.url!;
  await until('a complete household', () => {
    const h = agent.model.household();
    return h !== null && Object.values(h.quality).every((q) => q === 'ok');
  });

  const status = await askAgent<StatusResult>(dir, 'status');
  const api = (await getJson(new URL('api/status', url).href)).body;
  const { now: _a, ...fromSocket } = status;
  const { now: _b, ...fromHttp } = api;
  t.match(fromSocket, fromHttp, 'the object of GET /api/status');
  t.equal(status.dashboard, url, 'and the dashboard URL');
  t.match(status.household, { at: Number, pvW: Number, loadW: Number, quality: { pvW: 'ok' } });
  t.strictSame(status.today, { contracts: 0, soldWh: 0, boughtWh: 0, receivedMillisen: 0, paidMillisen: 0, savingsMillisen: 0 });

  const json = await tonari(['status', '--state-dir', dir, '--json']);
  t.equal(json.code, 0, json.stderr);
  const lines = json.stdout.trim().split('\n');
  t.equal(lines.length, 1, 'one line');
  const parsed = JSON.parse(lines[0]!) as StatusResult;
  t.match(parsed, { version: api.version, name: 'Sato house', peerId: api.peerId, health: { devices: 'ok', broker: 'ok', market: 'ok' }, dashboard: url, simulated: true });

  const human = await tonari(['status', '--state-dir', dir]);
  t.equal(human.code, 0, human.stderr);
  const out = human.stdout.split('\n');
  t.match(out[0], `tonari ${api.version} · household "Sato house" · zone default · peer ${api.peerId} (simulated household)`);
  t.equal(out[1], 'health      devices ok · broker ok · market ok');
  t.match(out[2], /^household {3}PV \d+\.\d\d kW · load \d+\.\d\d kW · grid -?\d+\.\d\d kW( import| export)? · battery -?\d+\.\d\d kW( charging| discharging)? · SoC \d+\.\d %$/);
  t.equal(out[3], 'neighbours  0 of 0 connected');
  t.equal(out[4], 'today       0 contracts · sold 0.00 kWh · bought 0.00 kWh · net 0.00 円 · saved 0.00 円 against the utility');
  t.equal(out[5], 'ledger      0 records');
  t.equal(out[6], `dashboard   ${url}`);

  // --config: the state directory from the file.
  const file = join(dir, 'tonari.yaml');
  writeFileSync(file, `stateDir: ${dir}\n`, { mode: 0o600 });
  const viaConfig = await tonari(['status', '--config', file, '--json']);
  t.equal(viaConfig.code, 0, viaConfig.stderr);
  t.equal((JSON.parse(viaConfig.stdout) as StatusResult).peerId, api.peerId);
});

t.test('tonari status without a running agent, --help, bad options', async (t) => {
  const dir = stateDir(t, 'st0');
  const none = await tonari(['status', '--state-dir', dir]);
  t.equal(none.code, 69, 'EX_UNAVAILABLE');
  t.match(none.stderr, /no running tonari agent answers at .*control\.sock \(no control socket\)/);
  t.match(none.stderr, /Start the agent with `tonari run --config FILE`/);
  t.equal(none.stdout, '');

  const help = await tonari(['status', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^usage: tonari status \[--state-dir DIR \| --config FILE\] \[--json\]/);
  const bad = await tonari(['status', '--bogus']);
  t.equal(bad.code, 64);
  t.match(bad.stderr, /Unknown option '--bogus'/);
  const both = await tonari(['status', '--state-dir', dir, '--config', '/x.yaml']);
  t.equal(both.code, 64);
  const broken = await tonari(['status', '--config', join(dir, 'missing.yaml')]);
  t.equal(broken.code, 78, 'a config that cannot be read: EX_CONFIG');
  t.match(broken.stderr, /cannot read: no such file/);
  const listed = await tonari(['--help']);
  t.match(listed.stdout, /\n {2}status {4}what the running agent is doing/, 'listed in tonari --help');
});

t.test('statusLines marks stale values, a damaged ledger and a missing dashboard', async (t) => {
  const base: StatusResult = {
    version: '1.2.3', name: 'h', peerId: null, fingerprint: null, zone: 'z', now: 0, startedAt: 0, simulated: false,
    health: { devices: 'stale', broker: 'off', market: 'stopped' }, peers: { connected: 0, known: 0 }, ledger: { records: 7, healthy: false },
    household: {
      at: 0, pvW: 1500, loadW: null, gridW: -1200, batteryW: 0, socPct: 42.25, gridImportWh: 1, gridExportWh: 2, pvWh: 3,
      quality: { pvW: 'stale', loadW: 'missing', gridW: 'ok', batteryW: 'ok', socPct: 'ok', gridImportWh: 'ok', gridExportWh: 'ok', pvWh: 'ok' },
      reasons: { pvW: 'last poll of inverter failed', loadW: 'no device provides it' },
    },
    dashboard: null,
    today: { contracts: 1, soldWh: 2500, boughtWh: 0, receivedMillisen: 3_750_000, paidMillisen: 0, savingsMillisen: 1_625_000 },
  };
  const lines = statusLines(base);
  t.strictSame(lines, [
    'tonari 1.2.3 · household "h" · zone z',
    'health      devices stale · broker off · market stopped',
    'household   PV 1.50 kW (stale) · load — · grid -1.20 kW export · battery 0.00 kW · SoC 42.3 %',
    'neighbours  mesh off',
    'today       1 contract · sold 2.50 kWh · bought 0.00 kWh · net 37.50 円 · saved 16.25 円 against the utility',
    'ledger      7 records — DAMAGED: trading stopped (tonari ledger verify)',
    'dashboard   off (api.enabled is false, or the agent runs without the API)',
  ]);
  t.match(statusLines({ ...base, household: null })[2], 'household   no reading yet');
});

t.test('the control handler: status answers from the target, or is refused when it has none', async (t) => {
  const result = { version: '1.0.0' } as StatusResult;
  const base = { identity: () => { throw new Error('unused'); } } as unknown as ControlTarget;
  const without = createControlHandler(base);
  t.strictSame(await without({ id: 1, cmd: 'status' }), { id: 1, ok: false, error: { code: 'unavailable', message: 'this agent does not report its status (started without the local API)' } });
  const withStatus = createControlHandler({ ...base, status: async () => result });
  t.strictSame(await withStatus({ id: 2, cmd: 'status' }), { id: 2, ok: true, result });
  t.match(await withStatus({ id: 3, cmd: 'status', extra: 1 }), { id: 3, ok: false, error: { code: 'bad_request' } }, 'no arguments');
});
