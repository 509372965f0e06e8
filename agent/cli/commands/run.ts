import { parseArgs } from 'node:util';
import { startAgent } from '../../app/agent.js';
import { DEMO_STATE_DIR, demoConfig } from '../../app/demo.js';
import { DeviceSetupError } from '../../app/devices.js';
import { ControlSocketError } from '../../control/server.js';
import { ApiListenError } from '../../api/server.js';
import { ClusterConfigError } from '../../mesh/external-tls.js';
import { startService, stopWithin, STOP_DEADLINE_MS } from '../../service/index.js';
import { IdentityError } from '../../identity/key-store.js';
import { TrustStoreError } from '../../identity/trust-store.js';
import { stateFields } from '../../app/summary.js';
import { ConfigError, DEFAULT_CONFIG_PATH, defaultConfig, loadConfigFile, type Config } from '../../config/index.js';
import { ScaledClock, systemClock, type Clock } from '../../core/clock.js';
import { timeZoneOffsetMs } from '../../sim/physics/load.js';
import { createLogger } from '../../core/log.js';
import { EXIT, writeLine, type CliIO } from '../io.js';
import { identityExitCode } from './identity.js';

const HELP = `usage: tonari run [--config FILE] [--demo] [--once [--json]] [--speed N [--sim-start T] [--real-start MS]]

Runs the agent: reads the configured devices every poll interval and logs
the household state. With no devices configured it reads a simulated household.
Unless mesh.enabled is false it also meets the neighbours: the embedded broker,
mDNS discovery, the mesh, and the control socket for \`tonari peers\` and \`tonari pair\`.

  --config FILE   configuration file (default ${DEFAULT_CONFIG_PATH})
  --demo          run without a configuration file, on a simulated household; the mesh
                  listens on 127.0.0.1 only (a free port, no mDNS), state in ./${DEMO_STATE_DIR}
  --once          poll until every value is read once, print the household state, exit
                  (devices only: the mesh is not started)
  --json          with --once: print the state as one JSON object
  --speed N       simulated households only: run the whole agent (household, mesh, market)
                  on a clock N times faster than real time
  --sim-start T   with --speed: the simulated time (ISO 8601, or ms since the epoch) at
                  --real-start (default: now)
  --real-start MS with --speed: the real instant, ms since the epoch, at which the simulated
                  clock reads --sim-start (default: now). Agents given the same three values
                  share one timeline, so they can trade on it.
`;

export async function runCommand(argv: string[], io: CliIO): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' }, demo: { type: 'boolean' }, once: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
        speed: { type: 'string' }, 'sim-start': { type: 'string' }, 'real-start': { type: 'string' },
      },
      strict: true,
    });
  } catch (err) {
    writeLine(io.stderr, `tonari run: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  if (args.values.help) { io.stdout.write(HELP); return EXIT.OK; }

  let config: Config;
  try {
    config = args.values.demo && !args.values.config ? defaultConfig() : await loadConfigFile(args.values.config ?? DEFAULT_CONFIG_PATH);
  } catch (err) {
    if (err instanceof ConfigError) {
      writeLine(io.stderr, err.format());
      if (/cannot read: no such file/.test(err.format())) {
        writeLine(io.stderr, 'tonari run: write a starter configuration with `tonari init`, or try `tonari run --demo`');
      }
      return EXIT.CONFIG;
    }
    throw err;
  }
  if (args.values.demo) config = demoConfig(config, { cwd: process.cwd(), keepStateDir: args.values.config !== undefined });

  const timeline = sharedTimeline(args.values, Date.now());
  if (typeof timeline === 'string') {
    writeLine(io.stderr, `tonari run: ${timeline}`);
    return EXIT.USAGE;
  }
  if (timeline && Object.keys(config.devices).length > 0) {
    writeLine(io.stderr, 'tonari run: --speed runs simulated households only; this configuration has devices');
    return EXIT.USAGE;
  }
  const log = createLogger({ level: args.values.once ? 'warn' : config.log.level });
  const clock: Clock = timeline ?? systemClock;
  let agent;
  try {
    agent = await startAgent(config, {
      clock, log, statusEveryMs: args.values.demo ? 0 : 60_000, simulatorClock: timeline ?? simulatorClock(config, args.values.demo === true),
      ...(timeline ? { ioClock: systemClock } : {}),
      ...(args.values.once ? {} : { neighbours: {}, api: {} }),
    });
  } catch (err) {
    const exit = startFailure(err, io);
    if (exit === undefined) throw err;
    return exit;
  }

  if (args.values.once) {
    const state = await waitForCompleteState(agent.poller, clock, config.poll.interval * 10 + 10_000);
    await agent.stop();
    if (args.values.json) writeLine(io.stdout, JSON.stringify(stateFields(state)));
    else for (const [k, v] of Object.entries(stateFields(state))) writeLine(io.stdout, `${k.padEnd(18)}${v ?? 'missing'}`);
    return EXIT.OK;
  }

  // Under systemd (NOTIFY_SOCKET): READY=1 now, watchdog pings while healthy, STATUS= lines.
  const service = startService(agent, config, { env: process.env, pid: process.pid, clock: systemClock, log });
  const signal = await new Promise<string>((resolve) => {
    const stop = (name: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(name);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  log.info({ signal, deadlineMs: STOP_DEADLINE_MS }, 'stopping');
  service?.stopping();
  // Real time, whatever the agent's clock: systemd's TimeoutStopSec does not run faster.
  const stopped = await stopWithin(() => agent.stop(), STOP_DEADLINE_MS, systemClock);
  await service?.close();
  if (stopped.outcome === 'stopped') {
    log.info({ ms: stopped.ms }, 'stopped');
    log.flush();
    return EXIT.OK;
  }
  if (stopped.outcome === 'failed') {
    // A part that failed to stop may still hold a socket or a timer: exit rather than linger.
    log.error({ err: describe(stopped.error), ms: stopped.ms }, 'stopping failed');
    log.flush();
    process.exit(EXIT.SOFTWARE);
  }
  // Something hangs (a socket that never closes, a disk that never answers). Exit now, saying
  // so, rather than be SIGKILLed by systemd at TimeoutStopSec; whatever was acknowledged is
  // already on disk (the ledger fsyncs each record before it counts), and a torn ledger tail
  // is cut off on the next start.
  log.fatal({ deadlineMs: STOP_DEADLINE_MS }, 'the agent did not stop in time; exiting anyway');
  log.flush();
  process.exit(EXIT.SOFTWARE);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The exit status (after saying why) for an agent that cannot start, or undefined for a bug. */
function startFailure(err: unknown, io: CliIO): number | undefined {
  if (err instanceof ConfigError) {
    writeLine(io.stderr, err.format());
    return EXIT.CONFIG;
  }
  if (err instanceof DeviceSetupError) {
    writeLine(io.stderr, err.message);
    return EXIT.CONFIG;
  }
  if (err instanceof TrustStoreError) {
    writeLine(io.stderr, `tonari run: ${err.message}`);
    return EXIT.CONFIG;
  }
  if (err instanceof IdentityError) {
    writeLine(io.stderr, `tonari run: ${err.message}`);
    return identityExitCode(err);
  }
  if (err instanceof ClusterConfigError) {
    writeLine(io.stderr, `tonari run: mesh.broker: ${err.message}`);
    return EXIT.CONFIG;
  }
  if (err instanceof ApiListenError) {
    writeLine(io.stderr, `tonari run: ${err.message}`);
    // A missing token or a privileged port is the configuration's fault; a busy port or an
    // address not up yet (early at boot) may pass, so systemd may restart for those.
    return err.reason === 'no_token' || err.reason === 'denied' ? EXIT.CONFIG : EXIT.UNAVAILABLE;
  }
  if (err instanceof ControlSocketError) {
    writeLine(io.stderr, `tonari run: ${err.message}`);
    return err.code === 'in_use' ? EXIT.UNAVAILABLE : EXIT.IOERR;
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    writeLine(io.stderr, `tonari run: the embedded broker cannot listen: ${(err as Error).message} (see mesh.listen)`);
    return EXIT.UNAVAILABLE;
  }
  return undefined;
}

/** Polls until no configured value is missing, or the deadline passes (then returns what there is). */
async function waitForCompleteState(poller: import('../../devices/poller.js').Poller, clock: Clock, deadlineMs: number) {
  const until = clock.now() + deadlineMs;
  for (;;) {
    const state = poller.state();
    const complete = state && Object.values(state).every((r) => typeof r === 'number' || r.quality !== 'missing' || r.reason === 'no device provides it');
    if (state && (complete || clock.now() >= until)) return state;
    await clock.sleep(100);
  }
}

/** The accelerated clock of --speed/--sim-start/--real-start, undefined without --speed, or what is wrong. */
export function sharedTimeline(values: { speed?: string | undefined; 'sim-start'?: string | undefined; 'real-start'?: string | undefined }, now: number): ScaledClock | undefined | string {
  if (values.speed === undefined) {
    return values['sim-start'] !== undefined || values['real-start'] !== undefined ? '--sim-start and --real-start need --speed' : undefined;
  }
  const speed = Number(values.speed);
  if (!(speed >= 1 && speed <= 10_000)) return `--speed must be a number from 1 to 10000, got ${values.speed}`;
  const instant = (text: string | undefined, name: string): number | string => {
    if (text === undefined) return now;
    const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    return Number.isFinite(value) ? value : `${name} must be an ISO 8601 time or ms since the epoch, got ${text}`;
  };
  const simStart = instant(values['sim-start'], '--sim-start');
  if (typeof simStart === 'string') return simStart;
  const realStart = instant(values['real-start'], '--real-start');
  if (typeof realStart === 'string') return realStart;
  return new ScaledClock(simStart, speed, systemClock, realStart);
}

/**
 * The simulated household's clock. The demo starts the simulated day at 07:00
 * local time and runs it 60 times faster, so a newcomer sees the sun come up;
 * otherwise it runs at `simulator.speed` from now.
 */
function simulatorClock(config: Config, demo: boolean): Clock {
  if (!demo) return config.simulator.speed === 1 ? systemClock : new ScaledClock(Date.now(), config.simulator.speed);
  const now = Date.now();
  const offset = timeZoneOffsetMs(config.household.timezone, now);
  const localMidnight = Math.floor((now + offset) / 86_400_000) * 86_400_000 - offset;
  const speed = config.simulator.speed === 1 ? 60 : config.simulator.speed;
  return new ScaledClock(localMidnight + 7 * 3_600_000, speed);
}
