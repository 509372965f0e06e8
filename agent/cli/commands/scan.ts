import { parseArgs } from 'node:util';
import { COMMON_UNITS, parseUnitList, scanUnits, type ScanEvent } from '../../app/scan.js';
import { ModbusLink, type LinkSpec } from '../../devices/modbus/index.js';
import { commandLine, isPermissionError } from '../hints.js';
import { EXIT, writeLine, type CliIO } from '../io.js';
import { LiveLine } from '../progress.js';
import { parseDuration } from '../../config/index.js';

const HELP = `usage: tonari scan --host HOST [--port PORT] [--rtu-over-tcp] [--units LIST] [--timeout DURATION] [--json]
       tonari scan --serial PATH [--baud BAUD] [--parity none|even|odd] [--units LIST] [--timeout DURATION] [--json]

Finds SunSpec devices: probes each unit id for the "SunS" marker at 40000, 0
and 50000 and walks its model chain. Progress goes to stderr: on a terminal one
line shows the unit being asked and the devices found so far; otherwise (a pipe,
a file, the journal) each unit gets a line with its verdict.

  --units LIST    unit ids, e.g. 1,2,126 or 1-10 (default ${COMMON_UNITS.join(',')})
  --timeout D     reply timeout per request (default 1s)
  --json          print one JSON array of the devices found

Exit status: 0 when the scan ran (also if it found nothing), 64 for bad
arguments, 69 when the host or serial port could not be reached at all.
`;

export async function scanCommand(argv: string[], io: CliIO): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' }, port: { type: 'string' }, 'rtu-over-tcp': { type: 'boolean' },
        serial: { type: 'string' }, baud: { type: 'string' }, parity: { type: 'string' },
        units: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    writeLine(io.stderr, `tonari scan: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  if (values.help) { io.stdout.write(HELP); return EXIT.OK; }
  const usage = (message: string) => { writeLine(io.stderr, `tonari scan: ${message}`); io.stderr.write(HELP); return EXIT.USAGE; };
  if ((values.host === undefined) === (values.serial === undefined)) return usage('give either --host or --serial');

  let units: number[];
  try {
    units = values.units === undefined ? [...COMMON_UNITS] : parseUnitList(values.units);
  } catch (err) {
    return usage((err as Error).message);
  }
  const timeout = values.timeout === undefined ? 1000 : parseDuration(values.timeout);
  if (timeout === undefined || timeout < 50) return usage(`--timeout: expected a duration such as 500ms or 2s, got "${values.timeout}"`);
  const port = values.port === undefined ? 502 : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return usage(`--port: expected 1..65535, got "${values.port}"`);
  const baudRate = values.baud === undefined ? 9600 : Number(values.baud);
  if (!Number.isInteger(baudRate) || baudRate < 300) return usage(`--baud: expected a baud rate such as 9600, got "${values.baud}"`);
  const parity = values.parity ?? 'none';
  if (parity !== 'none' && parity !== 'even' && parity !== 'odd') return usage(`--parity: expected none, even or odd, got "${parity}"`);

  const timing = { name: 'scan', timeout, connectDelay: 0, interRequestDelay: values.serial === undefined ? 0 : 20 };
  const spec: LinkSpec = values.serial !== undefined
    ? { ...timing, type: 'rtu', path: values.serial, baudRate, parity, dataBits: 8, stopBits: 1 }
    : { ...timing, type: values['rtu-over-tcp'] ? 'rtu-over-tcp' : 'tcp', host: values.host!, port };
  const where = spec.type === 'rtu' ? `${spec.path} at ${baudRate} baud` : `${spec.host}:${spec.port}${spec.type === 'rtu-over-tcp' ? ' (RTU over TCP)' : ''}`;
  // A scan probes many silent units on purpose: never back a unit off, and give every unit a real connect
  // attempt (with the default reconnect backoff, one refused connect or a device that drops the connection
  // on an unknown unit would make the next units fail with "not connected" without ever being asked).
  const link = new ModbusLink(spec, {
    policy: {
      unitHealth: { failuresBeforeBackoff: Number.MAX_SAFE_INTEGER, backoff: { initialMs: 0, maxMs: 0 } },
      reconnectBackoff: { initialMs: 0, maxMs: 0 },
    },
  });

  writeLine(io.stderr, `scanning ${where} for SunSpec devices on unit ${units.join(', ')}`);
  const live = new LiveLine(io.stderr);
  let unreachable = 0;
  let lastProblem = '';
  let foundSoFar = 0;
  const progress = (e: ScanEvent) => {
    if (e.type === 'none' && e.why === 'unreachable') { unreachable++; lastProblem = e.detail ?? ''; }
    if (e.type === 'unit') {
      // On a terminal one line tells which unit is being asked; in a pipe or the journal each unit gets its own line with its verdict.
      if (live.live) live.set(`[${e.index + 1}/${e.total}] asking unit ${e.unit} at ${where} … ${foundSoFar} found so far`);
      else writeLine(io.stderr, `[${e.index + 1}/${e.total}] unit ${e.unit} ...`);
    } else if (e.type === 'found') {
      foundSoFar++;
      const d = e.device;
      const text = `found ${e.subdevice > 0 ? `subdevice ${e.subdevice}: ` : ''}${d.manufacturer ?? '?'} ${d.model ?? '?'} (serial ${d.serial ?? '?'}), models ${d.models.join(' ')} at ${d.baseAddress}`;
      if (live.live) live.print(`unit ${d.unit}: ${text}`);
      else writeLine(io.stderr, `  ${text}`);
    } else {
      const text = `${e.why}${e.detail ? ` (${e.detail})` : ''}`;
      if (!live.live) writeLine(io.stderr, `  ${text}`);
      else if (e.why !== 'no answer') live.print(`unit ${e.unit}: ${text}`);
    }
  };
  let found;
  try {
    found = await scanUnits(link, units, progress);
  } finally {
    live.clear();
    await link.close();
  }
  if (values.json) writeLine(io.stdout, JSON.stringify(found));
  else if (found.length === 0) writeLine(io.stdout, 'no SunSpec devices found');
  else for (const d of found) writeLine(io.stdout, `unit ${d.unit}: ${d.manufacturer ?? '?'} ${d.model ?? '?'} serial ${d.serial ?? '?'} version ${d.version ?? '?'} models [${d.models.join(', ')}] base ${d.baseAddress}`);
  writeLine(io.stderr, `${found.length} SunSpec device(s) found`);
  // Not one unit could be asked: say so, and do not pass an empty result off as "nothing there".
  if (unreachable === units.length) {
    writeLine(io.stderr, `tonari scan: cannot connect to ${where}${lastProblem ? `: ${lastProblem}` : ''}`);
    writeLine(io.stderr, `tonari scan: ${unreachableHint(spec, lastProblem, argv)}`);
    return EXIT.UNAVAILABLE;
  }
  return EXIT.OK;
}

/** What to try when the link could not be opened at all. */
function unreachableHint(spec: LinkSpec, problem: string, argv: readonly string[]): string {
  if (spec.type === 'rtu') {
    if (isPermissionError(new Error(problem))) return `you may not open ${spec.path}: add yourself to its group (ls -l ${spec.path}; usually dialout), or run sudo ${commandLine('scan', argv)}`;
    return `check the serial port's path (ls -l /dev/serial/by-id/), and that no other program has it open (stop tonari first: sudo systemctl stop tonari)`;
  }
  return `check the address and port (Modbus TCP is usually port 502, and must be enabled on the device); many inverters accept one Modbus client at a time, so stop tonari first (sudo systemctl stop tonari)`;
}
