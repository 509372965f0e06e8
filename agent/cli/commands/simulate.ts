import { parseArgs } from 'node:util';
import { ScaledClock, systemClock, type Clock } from '../../core/clock.js';
import { createLogger } from '../../core/log.js';
import { startSimulator } from '../../sim/simulator.js';
import { parseQuirks, QUIRK_DESCRIPTIONS, QUIRKS, type Quirk } from '../../sim/sunspec/layout.js';
import type { ModbusTransportOptions } from '../../sim/server/index.js';
import { communityReport, formatReport } from '../../market/community/report.js';
import { runCommunity, type LedgerMode } from '../../market/community/runner.js';
import { EXIT, writeLine, type CliIO } from '../io.js';
import { LiveLine } from '../progress.js';

const HELP = `usage: tonari simulate [--host 127.0.0.1] [--port PORT] [--rtu-over-tcp] [options]
       tonari simulate --serial PATH [--baud BAUD] [options]
       tonari simulate --households N [--days D] [--seed S] [--loss P] [--json] [community options]

Serves a simulated household (a SunSpec hybrid inverter with battery and a
grid meter) over Modbus TCP, RTU over TCP, or RTU on a serial port.

With --households, runs a community of N simulated households instead: the
real forecast, strategy, market protocol, clearing, settlement and ledgers over
an in-memory transport on a virtual clock, and reports energy traded locally,
self-sufficiency, savings against the utility-only bill, peak import, welfare
against the central optimum, messages per contract and clearing time.
Progress goes to stderr: on a terminal one line with the day and slot being
simulated; otherwise a line per simulated day.

  --households N  number of simulated households (2 to 5000)
  --days D        simulated days (default 1)
  --seed N        households, weather and message-loss seed (default 1)
  --loss P        probability that one message delivery is lost (default 0)
  --json          print one JSON object instead of the table
  --start DATE    first simulated day, YYYY-MM-DD local (default 2026-05-01)
  --open-slots N  slots ahead open for orders (default 48)
  --community-size N  households per community (default 50): larger runs are split into
                  communities of this size, each its own zone on its own network
  --state-dir DIR keep the households' ledgers in DIR (default: a temporary
                  directory, removed at the end)
  --ledger MODE   file (default: real, fsynced ledgers), nosync (real ledger
                  files without fdatasync), memory (no files; benchmarks only)

Modbus household options:

  --quirks LIST   vendor quirks, comma separated:
${QUIRKS.map((q) => `                    ${q.padEnd(11)} ${QUIRK_DESCRIPTIONS[q]}`).join('\n')}
  --speed N       run the simulated clock N times faster than real time
  --seed N        weather and load random seed (default 1)
  --pv-wp W       PV peak power (default 5000)
  --battery-wh WH battery capacity, 0 for none (default 10000)
  --start ISO     simulated start time (default now)
`;

export async function simulateCommand(argv: string[], io: CliIO): Promise<number> {
  if (argv.some((a) => a === '--households' || a.startsWith('--households='))) return simulateCommunity(argv, io);
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' }, port: { type: 'string' }, 'rtu-over-tcp': { type: 'boolean' }, serial: { type: 'string' }, baud: { type: 'string' },
        quirks: { type: 'string' }, speed: { type: 'string' }, seed: { type: 'string' }, 'pv-wp': { type: 'string' }, 'battery-wh': { type: 'string' },
        start: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    writeLine(io.stderr, `tonari simulate: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  if (values.help) { io.stdout.write(HELP); return EXIT.OK; }
  const fail = (message: string) => { writeLine(io.stderr, `tonari simulate: ${message}`); return EXIT.USAGE; };
  const num = (name: string, text: string | undefined, fallback: number, min: number, max: number): number | string => {
    if (text === undefined) return fallback;
    const n = Number(text);
    return Number.isFinite(n) && n >= min && n <= max ? n : `--${name}: expected a number from ${min} to ${max}, got "${text}"`;
  };
  let quirks: Quirk[];
  try {
    quirks = parseQuirks(values.quirks ? values.quirks.split(',').map((q) => q.trim()).filter(Boolean) : []);
  } catch (err) {
    return fail((err as Error).message);
  }
  const port = num('port', values.port, 15020, 0, 65535);
  const speed = num('speed', values.speed, 1, 0.001, 100_000);
  const seed = num('seed', values.seed, 1, 0, 2 ** 31);
  const pvWp = num('pv-wp', values['pv-wp'], 5000, 0, 1_000_000);
  const batteryWh = num('battery-wh', values['battery-wh'], 10_000, 0, 1_000_000);
  const baud = num('baud', values.baud, 9600, 300, 1_000_000);
  for (const v of [port, speed, seed, pvWp, batteryWh, baud]) if (typeof v === 'string') return fail(v);
  const start = values.start === undefined ? Date.now() : Date.parse(values.start);
  if (!Number.isFinite(start)) return fail(`--start: expected an ISO date such as 2026-06-21T09:00:00+09:00, got "${values.start}"`);

  const transport: ModbusTransportOptions = values.serial !== undefined
    ? { kind: 'rtu', path: values.serial, baudRate: baud as number }
    : { kind: values['rtu-over-tcp'] ? 'rtu-over-tcp' : 'tcp', host: values.host ?? '127.0.0.1', port: port as number };
  const clock: Clock = speed === 1 && values.start === undefined ? systemClock : new ScaledClock(start, speed as number);
  const log = createLogger({ level: 'info' });
  const sim = await startSimulator({ clock, serverClock: systemClock, log, transport, quirks, seed: seed as number, pvWp: pvWp as number, batteryWh: batteryWh as number });
  const where = transport.kind === 'rtu' ? `${transport.path} at ${transport.baudRate} baud` : `${transport.kind} ${sim.server.address().host}:${sim.server.address().port}`;
  const units = sim.space.units().map((u) => {
    const image = sim.space.images().get(u)!;
    return `unit ${u}: models ${image.models.map((m) => m.id).join(' ')}`;
  });
  writeLine(io.stdout, `simulated household on ${where}${quirks.length ? ` with quirks ${quirks.join(', ')}` : ''}; ${units.join('; ')}`);

  await new Promise<void>((resolve) => {
    const done = () => { process.off('SIGINT', done); process.off('SIGTERM', done); resolve(); };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await sim.close();
  return EXIT.OK;
}

/** `tonari simulate --households N …`: the community simulation (agent/market/community). */
async function simulateCommunity(argv: string[], io: CliIO): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        households: { type: 'string' }, days: { type: 'string' }, seed: { type: 'string' }, loss: { type: 'string' }, json: { type: 'boolean' },
        start: { type: 'string' }, 'open-slots': { type: 'string' }, 'state-dir': { type: 'string' }, ledger: { type: 'string' },
        'community-size': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    writeLine(io.stderr, `tonari simulate: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  if (values.help) { io.stdout.write(HELP); return EXIT.OK; }
  const fail = (message: string) => { writeLine(io.stderr, `tonari simulate: ${message}`); return EXIT.USAGE; };
  const int = (name: string, text: string | undefined, fallback: number, min: number, max: number): number | string => {
    if (text === undefined) return fallback;
    const n = Number(text);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : `--${name}: expected an integer from ${min} to ${max}, got "${text}"`;
  };
  const households = int('households', values.households, 0, 2, 5000);
  const days = int('days', values.days, 1, 1, 366);
  const seed = int('seed', values.seed, 1, 0, 2 ** 31);
  const openSlots = int('open-slots', values['open-slots'], 48, 1, 48);
  const communitySize = int('community-size', values['community-size'], 50, 2, 5000);
  for (const v of [households, days, seed, openSlots, communitySize]) if (typeof v === 'string') return fail(v);
  const loss = values.loss === undefined ? 0 : Number(values.loss);
  if (!(loss >= 0 && loss < 1)) return fail(`--loss: expected a probability from 0 to below 1, got "${values.loss}"`);
  const ledger = (values.ledger ?? 'file') as LedgerMode;
  if (!['file', 'nosync', 'memory'].includes(ledger)) return fail(`--ledger: expected file, nosync or memory, got "${values.ledger}"`);
  if (values.start !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.start)) return fail(`--start: expected YYYY-MM-DD, got "${values.start}"`);
  if (ledger === 'memory' && values['state-dir'] !== undefined) return fail('--state-dir needs ledger files; it cannot go with --ledger memory');
  const live = new LiveLine(io.stderr);
  const began = Date.now();
  const onSlot = (done: number, total: number) => {
    const line = communityProgress(done, total, days as number, Date.now() - began);
    if (live.live) live.set(line.status);
    else if (line.dayDone) writeLine(io.stderr, line.dayDone);
  };
  try {
    const run = await runCommunity({
      households: households as number, days: days as number, seed: seed as number, communitySize: communitySize as number, loss, openSlots: openSlots as number, ledger, onSlot,
      ...(values.start !== undefined ? { startDate: values.start } : {}),
      ...(values['state-dir'] !== undefined ? { stateDir: values['state-dir'] } : {}),
    });
    live.clear();
    const report = communityReport(run);
    if (values.json) writeLine(io.stdout, JSON.stringify(report));
    else writeLine(io.stdout, formatReport(report));
    return EXIT.OK;
  } catch (err) {
    live.clear();
    writeLine(io.stderr, `tonari simulate: ${(err as Error).message}`);
    return EXIT.FAILURE;
  }
}

/**
 * Progress of `simulate --households`: the status line for a terminal ("day 2 of 7 · slot
 * 30 of 48 · 41 s"), and once a simulated day is complete the line for a pipe or the journal.
 */
export function communityProgress(done: number, total: number, days: number, elapsedMs: number): { status: string; dayDone: string | undefined } {
  const perDay = Math.max(1, Math.round(total / days));
  const day = Math.min(days, Math.floor((done - 1) / perDay) + 1);
  const slot = done - (day - 1) * perDay;
  const seconds = `${(elapsedMs / 1000).toFixed(1)} s`;
  return {
    status: `simulating day ${day} of ${days} · slot ${slot} of ${perDay} · ${seconds}`,
    dayDone: slot === perDay || done === total ? `day ${day} of ${days} simulated (${seconds})` : undefined,
  };
}
