import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEMO_TIME_ZONE, dashboardUrl } from '../../app/community-demo/config-text.js';
import { describeEquipment, LOOPBACK_MAX_HOUSEHOLDS, MAX_HOUSEHOLDS, MIN_HOUSEHOLDS } from '../../app/community-demo/households.js';
import { CommunityProcesses, type LauncherEvent } from '../../app/community-demo/launcher.js';
import { CommunityMonitor } from '../../app/community-demo/monitor.js';
import { startLoopbackRelays, type RunningRelays } from '../../app/community-demo/loopback-relay.js';
import { DemoSetupError, prepareCommunity, removePids, writeConfigs, writePids, type PreparedCommunity } from '../../app/community-demo/prepare.js';
import { clockText, eventText, statusText, summaryLines } from '../../app/community-demo/report.js';
import { DEFAULT_SPEED, demoSimStart, demoTiming, MAX_SPEED, MIN_SPEED, realDayText } from '../../app/community-demo/timing.js';
import { ScaledClock, systemClock } from '../../core/clock.js';
import { EXIT, writeLine, type CliIO } from '../io.js';
import { LiveLine } from '../progress.js';

export const DEFAULT_DEMO_DIR = './.tonari-demo/community';
const DEFAULT_HOUSEHOLDS = 5;

const USAGE = `usage: tonari demo [--households N] [--speed S] [--start TIME] [--dir DIR] [--json]

Starts a community of simulated households on this machine, each a full agent
(its own \`tonari run\` process with its own simulated inverter, battery and
meter, embedded broker, identity key and ledger). They mesh over mutual TLS on
127.0.0.1 (no mDNS), trade surplus solar power slot by slot on one accelerated
clock, and settle. Prints each dashboard's URL, the mesh forming and every
contract as it happens. Ctrl-C stops every agent and prints what was traded.

  --households N  how many households, ${MIN_HOUSEHOLDS} to ${MAX_HOUSEHOLDS} (default ${DEFAULT_HOUSEHOLDS}): homes with PV and no
                  battery, buyers without PV, and homes with PV and a battery. Beyond
                  ${LOOPBACK_MAX_HOUSEHOLDS}, each agent reaches the others through a relay in this process that
                  gives it its own address in 127.0.0.0/8, as each home has its own
                  IP on a LAN (a broker admits ${LOOPBACK_MAX_HOUSEHOLDS - 1} connections per address)
  --speed S       simulated seconds per real second, ${MIN_SPEED} to ${MAX_SPEED} (default ${DEFAULT_SPEED}: a simulated
                  day in 12 minutes, a 30-minute slot every 15 s). The market's
                  reconcile window and gate closure are stretched to keep at least
                  2 real seconds each at any speed.
  --start TIME    simulated time at start: HH:MM today (${DEMO_TIME_ZONE}) or an ISO 8601
                  time (default 06:00 today, so the sun comes up soon)
  --dir DIR       where the households live (default ${DEFAULT_DEMO_DIR}): one
                  directory each with tonari.yaml, tonari.log and state/
  --json          print one JSON object per event instead of text

Every run starts a fresh timeline with fresh ledgers; the households keep their
identity keys in DIR between runs. While it runs, ask any agent directly, e.g.
  tonari peers --state-dir DIR/suzuki/state     tonari trades --state-dir DIR/sato/state

Exit status: 0 when stopped with Ctrl-C, SIGTERM or SIGHUP; 1 if every agent died; 64 for
bad arguments; 69 when agents of an earlier demo still run in DIR; 74 when DIR
cannot be written.`;

export async function demoCommand(argv: string[], io: CliIO): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        households: { type: 'string' }, speed: { type: 'string' }, start: { type: 'string' }, dir: { type: 'string' },
        json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    writeLine(io.stderr, `tonari demo: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (values.help) {
    writeLine(io.stdout, USAGE);
    return EXIT.OK;
  }
  const usageError = (message: string) => { writeLine(io.stderr, `tonari demo: ${message}`); return EXIT.USAGE; };
  const households = values.households === undefined ? DEFAULT_HOUSEHOLDS : Number(values.households);
  if (!Number.isInteger(households) || households < MIN_HOUSEHOLDS || households > MAX_HOUSEHOLDS) {
    return usageError(`--households: expected a whole number from ${MIN_HOUSEHOLDS} to ${MAX_HOUSEHOLDS}, got "${values.households}"`);
  }
  const speed = values.speed === undefined ? DEFAULT_SPEED : Number(values.speed);
  if (!(speed >= MIN_SPEED && speed <= MAX_SPEED)) {
    return usageError(`--speed: expected a number from ${MIN_SPEED} to ${MAX_SPEED}, got "${values.speed}" (above ${MAX_SPEED} a slot is shorter than the time peers need to reconcile)`);
  }
  const simStart = startTime(values.start, Date.now());
  if (simStart === undefined) return usageError(`--start: expected HH:MM or an ISO 8601 time such as 2026-06-21T09:00+09:00, got "${values.start}"`);

  const timing = demoTiming(speed);
  let community: PreparedCommunity;
  let relays: RunningRelays | undefined;
  try {
    community = await prepareCommunity({ dir: values.dir ?? DEFAULT_DEMO_DIR, households, timing, clock: systemClock });
    if (households > LOOPBACK_MAX_HOUSEHOLDS) {
      const { members } = community;
      relays = await startLoopbackRelays(members.flatMap((from, i) => members.flatMap((to, j) => (i === j ? [] : [{ from: i, to: j, targetPort: to.meshPort }]))));
      const r = relays;
      await writeConfigs(community, (from, to) => r.portFor(members.indexOf(from), members.indexOf(to)));
    } else {
      await writeConfigs(community);
    }
  } catch (error) {
    await relays?.close();
    if (!(error instanceof DemoSetupError)) throw error;
    writeLine(io.stderr, `tonari demo: ${error.message}`);
    return error.code === 'busy' ? EXIT.UNAVAILABLE : error.code === 'path' ? EXIT.USAGE : EXIT.IOERR;
  }
  try {
    return await runCommunity(community, { speed, simStart, json: values.json === true }, io);
  } finally {
    await relays?.close();
  }
}

/** `--start`: HH:MM today in the demo's time zone, an ISO time, or (absent) 06:00 today. */
export function startTime(text: string | undefined, nowMs: number): number | undefined {
  if (text === undefined) return demoSimStart(nowMs, DEMO_TIME_ZONE);
  const hm = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (hm) {
    const [h, m] = [Number(hm[1]), Number(hm[2])];
    return h < 24 && m < 60 ? demoSimStart(nowMs, DEMO_TIME_ZONE, h) + m * 60_000 : undefined;
  }
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

async function runCommunity(community: PreparedCommunity, options: { speed: number; simStart: number; json: boolean }, io: CliIO): Promise<number> {
  const { members } = community;
  const { speed, simStart, json } = options;
  const realStart = Date.now();
  const clock = new ScaledClock(simStart, speed, systemClock, realStart);
  const monitor = new CommunityMonitor(members.map((m) => ({ name: m.household.name, peerId: m.peerId })));
  const out = new LiveLine(io.stdout, !json && io.isTTY);
  const at = () => clockText(clock.now(), DEMO_TIME_ZONE);
  const emit = (event: Record<string, unknown>) => writeLine(io.stdout, JSON.stringify({ ...event, at: new Date(clock.now()).toISOString() }));

  if (json) {
    emit({
      type: 'start', dir: community.dir, speed, simStart: new Date(simStart).toISOString(), realStart, timeZone: DEMO_TIME_ZONE,
      reconcileMs: community.timing.reconcileMs, gateClosureMs: community.timing.gateClosureMs,
      households: members.map((m) => ({
        name: m.household.name, peerId: m.peerId, fingerprint: m.fingerprint, pvWp: m.household.pvWp, batteryWh: m.household.batteryWh,
        dir: m.dir, config: m.configPath, log: m.logPath, stateDir: m.stateDir, meshPort: m.meshPort, apiPort: m.apiPort, dashboard: dashboardUrl(m),
      })),
    });
  } else {
    out.print(`tonari demo: ${members.length} households on this machine at ${speed}× real time (a simulated day in ${realDayText(speed)}), from ${clockText(simStart, DEMO_TIME_ZONE)} ${DEMO_TIME_ZONE}`);
    const width = Math.max(...members.map((m) => m.household.name.length));
    for (const m of members) out.print(`  ${m.household.name.padEnd(width)}  ${describeEquipment(m.household).padEnd(30)}  log ${m.logPath}`);
    out.print('Ctrl-C stops them all.');
  }

  let stopSignal: string | undefined;
  const redraw = () => out.set(`${statusText(clock.now(), DEMO_TIME_ZONE, monitor.totals())} · Ctrl-C stops`);
  const show = (event: LauncherEvent) => {
    // Once stopping, links going down are the plan, not news.
    if (stopSignal !== undefined && (event.type === 'unlinked' || event.type === 'linked' || event.type === 'mesh')) return;
    if (json) return emit(event as unknown as Record<string, unknown>);
    if (event.type === 'log-tail') {
      out.print(`  last lines of ${event.file}:`);
      for (const line of event.lines) out.print(`    ${line}`);
      return;
    }
    const text = eventText(event, DEMO_TIME_ZONE);
    if (text !== undefined) out.print(`[${at()}] ${text}`);
    if (out.live && stopSignal === undefined) redraw();
  };
  const processes = new CommunityProcesses({
    members, monitor, nodePath: process.execPath, bin: fileURLToPath(new URL('../bin.js', import.meta.url)),
    speed, simStart, realStart, onEvent: show,
  });

  let requestStop: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => { requestStop = resolve; });
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal !== undefined) return; // npm and the terminal may both deliver the same Ctrl-C
    stopSignal = signal;
    requestStop();
  };
  // SIGHUP: the terminal closed. The agents run in their own process group and would outlive it.
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  // A closed terminal fails writes with EIO; stopping the agents must not fail with it.
  const ignoreWriteError = () => undefined;
  io.stdout.on('error', ignoreWriteError);

  // The live status line on a terminal; in a pipe or a log, a status line per simulated hour.
  let lastHour = Math.floor(clock.now() / 3_600_000);
  const ticker = setInterval(() => {
    if (json) return;
    if (out.live) {
      redraw();
    } else {
      const status = statusText(clock.now(), DEMO_TIME_ZONE, monitor.totals());
      const hour = Math.floor(clock.now() / 3_600_000);
      if (hour !== lastHour) out.print(status);
      lastHour = hour;
    }
  }, out.live ? 250 : 1000);

  processes.start();
  const pids = processes.pids();
  await writePids(community.dir, { launcher: process.pid, agents: pids });
  if (json) emit({ type: 'launched', launcher: process.pid, pids });
  let allDied = false;
  try {
    await Promise.race([stopRequested, processes.allExited.then(() => { allDied = stopSignal === undefined; })]);
    if (allDied) show({ type: 'problem', household: 'tonari demo', level: 'error', message: 'every agent has exited; nothing left to run' });
    else if (json) emit({ type: 'stopping', signal: stopSignal });
    else out.print(`[${at()}] ${stopSignal}: stopping ${monitor.counts().running} agents…`);
    const simTo = clock.now();
    const killed = await processes.stop();
    clearInterval(ticker);
    out.clear();
    const totals = monitor.totals();
    if (json) {
      emit({ type: 'summary', ...totals, killed, realMs: Date.now() - realStart, simFrom: new Date(simStart).toISOString(), simTo: new Date(simTo).toISOString() });
    } else {
      for (const line of summaryLines({ totals, households: community.households, realMs: Date.now() - realStart, simFrom: simStart, simTo, timeZone: DEMO_TIME_ZONE, dir: community.dir, killed })) writeLine(io.stdout, line);
    }
  } finally {
    clearInterval(ticker);
    for (const s of signals) process.off(s, onSignal);
    io.stdout.off('error', ignoreWriteError);
    await removePids(community.dir).catch(() => undefined);
  }
  return allDied ? EXIT.FAILURE : EXIT.OK;
}

