/**
 * Interop with a Modbus client nobody here wrote: mbpoll (libmodbus) reads
 * tonari's simulator over TCP and over RTU on a socat pty pair, and what it
 * reads decodes to the same watts tonari's SunSpecDevice reports. The
 * simulator runs on a ManualClock that never moves, so both read one frozen
 * household state.
 */
import { execFile } from 'node:child_process';
import t, { type Test } from 'tap';
import { unitReader } from '../../agent/app/devices.js';
import { ManualClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { ModbusLink } from '../../agent/devices/modbus/index.js';
import { SunSpecDevice } from '../../agent/devices/sunspec/device.js';
import { startSimulator, type RunningSimulator } from '../../agent/sim/simulator.js';
import type { Quirk } from '../../agent/sim/sunspec/layout.js';
import { requireTool, toolAvailable } from '../helpers/tools.js';
import { startPtyPair } from '../sim/helpers.js';

/** Local noon in Tokyo (the simulator's default site), so the inverter is producing. */
const NOON_JST = Date.parse('2026-06-21T03:00:00Z');
const haveMbpoll = toolAvailable('mbpoll', ['-V']);
const haveSocat = toolAvailable('socat', ['-V']);

interface MbpollResult { code: number; stdout: string; stderr: string }

/** Runs mbpoll once (-1), bounded in time; never rejects on a non-zero exit. */
function mbpoll(args: string[]): Promise<MbpollResult> {
  return new Promise((resolve, reject) => {
    execFile('mbpoll', ['-1', ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && typeof (err as { code?: unknown }).code !== 'number') { reject(err); return; }
      resolve({ code: err ? Number((err as { code: number }).code) : 0, stdout, stderr });
    });
  });
}

/** Registers printed by `mbpoll -t 4:hex`, by the address mbpoll prints. */
function hexRegisters(stdout: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of stdout.matchAll(/^\[(\d+)\]:\s+0x([0-9A-F]{4})\s*$/gm)) out.set(Number(m[1]), parseInt(m[2]!, 16));
  return out;
}

/** Reads `count` holding registers at the 1-based `reference` with mbpoll; fails the test if mbpoll does. */
async function readHex(t: Test, target: string[], reference: number, count: number, extra: string[] = []): Promise<number[]> {
  const res = await mbpoll([...target.slice(0, -1), ...extra, '-t', '4:hex', '-r', String(reference), '-c', String(count), target.at(-1)!]);
  t.equal(res.code, 0, `mbpoll read of ${count} at ${reference} succeeded${res.code === 0 ? '' : `: ${res.stderr.trim()}`}`);
  const regs = hexRegisters(res.stdout);
  // mbpoll prints the references it was given (1-based, or 0-based with -0).
  return Array.from({ length: count }, (_, i) => regs.get(reference + i) ?? NaN);
}

const int16 = (word: number) => (word >= 0x8000 ? word - 0x10000 : word);

async function frozenSimulator(t: Test, transport: Parameters<typeof startSimulator>[0]['transport'], quirks: Quirk[] = []): Promise<RunningSimulator> {
  const clock = new ManualClock(NOON_JST);
  const sim = await startSimulator({ clock, log: silentLogger(), transport, quirks });
  t.teardown(() => sim.close());
  // Let the household run for a minute (its initial state has no power flowing), then freeze it there.
  await clock.advance(60_000);
  return sim;
}

t.test('mbpoll reads the simulator over Modbus TCP', async (t) => {
  if (!requireTool(t, haveMbpoll, 'mbpoll', 'mbpoll')) return;
  // dynamic-sf: Fronius-style scale factors that follow the power, so W_SF is not a constant 0.
  const sim = await frozenSimulator(t, { kind: 'tcp', host: '127.0.0.1', port: 0 }, ['dynamic-sf']);
  const port = String(sim.server.address().port);
  const unit1 = ['-m', 'tcp', '-a', '1', '-p', port, '127.0.0.1'];

  t.same(await readHex(t, unit1, 40001, 2), [0x5375, 0x6e53], '40001..40002 (1-based) hold "SunS"');
  t.same(await readHex(t, unit1, 40000, 2, ['-0']), [0x5375, 0x6e53], 'the same with -0 at 40000 (0-based)');
  t.same(await readHex(t, unit1, 40003, 2), [1, 66], 'model 1 header: ID 1, L 66');

  // Walk the chain with mbpoll alone (0-based address `at` is mbpoll reference at+1) until model 103.
  let at = 40002;
  let found: { address: number; length: number } | undefined;
  for (let i = 0; i < 20 && !found; i++) {
    const [id, length] = await readHex(t, unit1, at + 1, 2);
    if (id === undefined || length === undefined || Number.isNaN(id) || id === 0xffff) break;
    if (id === 103) found = { address: at, length };
    else at += 2 + length;
  }
  if (!found) { t.fail('mbpoll did not find model 103 in the chain of unit 1'); return; }
  t.equal(found.length, 50, 'model 103 has L=50');

  // W is at offset 14 and W_SF at offset 15 of model 103: one request, so value and SF belong together.
  const [wWord, sfWord] = await readHex(t, unit1, found.address + 14 + 1, 2);
  const rawW = int16(wWord!);
  const sf = int16(sfWord!);
  t.ok(sf >= -10 && sf <= 10, `W_SF ${sf} is a valid scale factor`);
  t.not(rawW, 0, 'the inverter is producing at noon, so the comparison means something');
  const mbpollWatts = rawW * 10 ** sf;

  const link = new ModbusLink({ name: 'sim', type: 'tcp', host: '127.0.0.1', port: Number(port), timeout: 2000, connectDelay: 0, interRequestDelay: 0 });
  t.teardown(() => link.close());
  const device = new SunSpecDevice({
    name: 'inverter', roles: ['pv', 'battery'], reader: unitReader(link, 1), subdevice: 0, invertGrid: false, maxGap: 31, log: silentLogger(),
  });
  const measured = await device.poll();
  t.ok(measured.acW !== undefined && Math.abs(measured.acW - mbpollWatts) < 1e-9,
    `tonari's inverter W (${String(measured.acW)}) equals mbpoll's ${rawW} x 10^${sf} = ${mbpollWatts}`);

  // And once more after tonari's read: the frozen household did not move.
  const [wAgain, sfAgain] = await readHex(t, unit1, found.address + 14 + 1, 2);
  t.same([wAgain, sfAgain], [wWord, sfWord], 'the frozen simulator serves the same W and W_SF again');
});

t.test('mbpoll reads the simulator over RTU on a socat pty pair', async (t) => {
  if (!requireTool(t, haveMbpoll, 'mbpoll', 'mbpoll')) return;
  if (!requireTool(t, haveSocat, 'socat', 'socat')) return;
  const pty = await startPtyPair();
  t.teardown(() => pty.close());
  await frozenSimulator(t, { kind: 'rtu', path: pty.b, baudRate: 9600 });
  const rtu = (unit: number) => ['-m', 'rtu', '-a', String(unit), '-b', '9600', '-P', 'none', pty.a];

  t.same(await readHex(t, rtu(1), 40001, 2), [0x5375, 0x6e53], 'unit 1: "SunS" over RTU');
  t.same(await readHex(t, rtu(1), 40003, 2), [1, 66], 'unit 1: model 1 header');
  t.same(await readHex(t, rtu(2), 40001, 2), [0x5375, 0x6e53], 'unit 2 (the meter): "SunS" over RTU');
});
