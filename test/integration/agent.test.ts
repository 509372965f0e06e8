/**
 * The whole agent: with no devices configured it serves a simulated household
 * over Modbus TCP and reads it through the same link, device and poller code
 * as real hardware. Also the built CLI: `tonari run --demo --once --json`.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { startAgent } from '../../agent/app/agent.js';
import { defaultConfig } from '../../agent/config/index.js';
import { ManualClock, systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { QUANTITIES } from '../../agent/household/quantities.js';
import type { HouseholdState } from '../../agent/household/state.js';
import { delay, expectedHousehold, MINUTE, NOON_JST } from './helpers.js';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

t.test('startAgent with no devices polls the built-in simulated household', async (t) => {
  const simClock = new ManualClock(NOON_JST);
  const states: HouseholdState[] = [];
  const agent = await startAgent(defaultConfig(), {
    clock: systemClock, log: silentLogger(), statusEveryMs: 0, simulatorClock: simClock, onState: (s) => states.push(s),
  });
  let stopped = false;
  t.teardown(async () => { if (!stopped) await agent.stop(); });
  t.ok(agent.simulator, 'the agent started its own simulator');
  t.strictSame(agent.devices.devices.map((d) => d.name), ['inverter', 'meter']);

  // Move the physics, then take the second state published after that: its poll began after the move.
  await simClock.advance(MINUTE);
  const seen = states.length;
  const deadline = Date.now() + 15_000;
  while (states.length < seen + 2 && Date.now() < deadline) await delay(20);
  const state = states[seen + 1];
  if (!state) throw new Error(`no household state within 15 s (${states.length - seen} new states)`);

  const want = expectedHousehold(agent.simulator!.household.state);
  for (const q of QUANTITIES) {
    t.equal(state[q].quality, 'ok', `${q} is ok`);
    t.equal(state[q].value, want[q], `${q} is exactly the simulator's`);
  }
  t.ok(want.pvW > 0, 'noon in Tokyo: PV produces');
  t.equal(agent.poller.state(), states.at(-1), 'the poller keeps the latest state');

  await agent.stop();
  stopped = true;
  t.equal(agent.devices.links.every((l) => !l.stats().connected), true, 'links closed');
  t.equal(agent.simulator!.server.connectionCount(), 0, 'the simulator closed its connections');
  const after = states.length;
  await delay(1500);
  t.equal(states.length, after, 'no poll after stop');
});

/** Newest modification time of the TypeScript sources the CLI is built from. */
async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

t.test('the built CLI: tonari run --demo --once --json', async (t) => {
  const bin = join(root, 'dist/agent/cli/bin.js');
  // Build when dist is missing or older than the sources, so the test never runs stale code.
  if (!existsSync(bin) || statSync(bin).mtimeMs < await newestSource(join(root, 'agent'))) {
    await run('npm', ['run', 'build'], { cwd: root, timeout: 120_000 });
  }
  const { stdout, stderr } = await run(process.execPath, [bin, 'run', '--demo', '--once', '--json'], { cwd: root, timeout: 60_000 });
  const lines = stdout.trim().split('\n');
  t.equal(lines.length, 1, `one line of output (stderr: ${stderr.trim() || 'empty'})`);
  const out = JSON.parse(lines[0]!) as Record<string, unknown>;
  t.equal(typeof out, 'object');
  for (const key of ['pvW', 'loadW', 'gridW', 'batteryW', 'socPct', 'gridImportWh', 'gridExportWh', 'pvWh']) {
    t.equal(typeof out[key], 'number', `${key} is a number (${String(out[key])})`);
    t.ok(Number.isFinite(out[key] as number), `${key} is finite`);
    t.notOk(`${key}Quality` in out, `${key} is ok`);
  }
  t.ok((out.pvW as number) >= 0 && (out.loadW as number) >= 0, 'PV and load are not negative');
  t.ok((out.socPct as number) >= 0 && (out.socPct as number) <= 100, 'SoC is a percentage');
});
