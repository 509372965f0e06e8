import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Config } from '../config/index.js';
import { Poller } from '../devices/poller.js';
import type { HouseholdState } from '../household/state.js';
import type { RunningSimulator } from '../sim/simulator.js';
import { buildDevices, type DeviceSetup } from './devices.js';
import type { LinkStats } from '../devices/modbus/index.js';
import { stateFields, summarize } from './summary.js';
import type { NeighboursOptions, RunningNeighbours } from './neighbours.js';
import type { MarketOptions, RunningMarket } from './market.js';
import { ReadModel } from '../api/read-model.js';
import type { ApiOptions, RunningApi } from '../api/index.js';
import { VERSION } from '../cli/version.js';

export interface AgentOptions {
  clock: Clock;
  log: Logger;
  /** How often the household state is logged at info level (every poll is logged at debug). */
  statusEveryMs: number;
  /** Clock of the simulated household (when no devices are configured); may run faster than real time. */
  simulatorClock?: Clock;
  /**
   * Clock of Modbus I/O (request timeouts, inter-request delays, reconnect backoff). Default `clock`.
   * An accelerated agent (`--speed`) still talks to its devices in real time.
   */
  ioClock?: Clock;
  onState?: (state: HouseholdState) => void;
  /** Meet the neighbours (when `mesh.enabled`): identity, broker, discovery, mesh, control socket. Off when absent. */
  neighbours?: Omit<NeighboursOptions, 'clock' | 'log'>;
  /** Market tuning (tests); the market runs when the neighbours do and `market.enabled`. */
  market?: Pick<MarketOptions, 'replanMs' | 'tickMs'>;
  /**
   * Serve the local taps: the HTTP API and dashboard (`api.enabled`) and Home Assistant
   * discovery (`homeAssistant.enabled`). Off when absent (`tonari run --once`, tests).
   */
  api?: ApiOptions;
  /** Reported by the API and metrics. Default: the package version. */
  version?: string;
}

export interface RunningAgent {
  poller: Poller;
  devices: DeviceSetup;
  simulator: RunningSimulator | undefined;
  neighbours: RunningNeighbours | undefined;
  market: RunningMarket | undefined;
  /** What the API, the metrics, Home Assistant and `tonari status` read. */
  model: ReadModel;
  /** The local taps, when started (options.api); `api.url` is the dashboard's URL while the HTTP API listens. */
  api: RunningApi | undefined;
  stop(): Promise<void>;
}

/** The composition root: devices (or a simulated household), the poller, the status log, and the neighbours. */
export async function startAgent(config: Config, options: AgentOptions): Promise<RunningAgent> {
  const { clock, log } = options;
  const startedAt = clock.now();
  let simulator: RunningSimulator | undefined;
  // Loaded only when needed, so `tonari run --once` does not carry the HTTP server and prom-client.
  const apiModule = options.api ? await import('../api/index.js') : undefined;
  let model: ReadModel | undefined;
  let api: RunningApi | undefined;
  let effective = config;
  if (Object.keys(config.devices).length === 0) {
    // Loaded only when needed, so an agent on real hardware does not carry the simulator.
    const { withSimulatedHousehold } = await import('./simulated.js');
    ({ config: effective, simulator } = await withSimulatedHousehold(config, options.simulatorClock ?? clock, log));
  }
  const devices = await buildDevices(effective, { clock: options.ioClock ?? clock, log });
  let neighbours: RunningNeighbours | undefined;
  if (options.neighbours && config.mesh.enabled) {
    // Loaded only when needed. A bad key or a busy port stops the agent before the first poll.
    const { startNeighbours } = await import('./neighbours.js');
    try {
      const localTopics = apiModule?.homeAssistantTopics(config);
      neighbours = await startNeighbours(config, {
        ...options.neighbours, clock, log,
        ...(localTopics ? { localTopics } : {}),
        status: async () => {
          if (!model) throw new Error('the agent is still starting');
          return model.statusResult(api?.url);
        },
      });
    } catch (error) {
      await devices.close();
      await simulator?.close();
      throw error;
    }
  }
  let market: RunningMarket | undefined;
  if (neighbours && config.market.enabled) {
    const { startMarket } = await import('./market.js');
    try {
      // The simulated household's equipment; real devices do not report their sizes yet (set market.battery).
      const equipment = simulator ? { pvPeakW: config.simulator.pvWp, batteryWh: config.simulator.batteryWh, batteryMaxPowerW: 3000 } : {};
      market = await startMarket(config, { ...options.market, clock, log, identity: neighbours.identity, mesh: neighbours.mesh, equipment });
    } catch (error) {
      await neighbours.stop();
      await devices.close();
      await simulator?.close();
      throw error;
    }
  }
  let lastStatusAt = -Infinity;
  const poller = new Poller({
    devices: devices.devices,
    clock,
    ...(options.ioClock ? { timingClock: options.ioClock } : {}),
    log,
    intervalMs: effective.poll.interval,
    staleAfterMs: effective.poll.staleAfter,
    onState: (state) => {
      const fields = stateFields(state);
      const simulated = simulator ? { simulatedTime: localTime(simulator.household.state.timeMs, effective.household.timezone) } : {};
      const line = simulator ? `${simulated.simulatedTime} (simulated) ${summarize(state)}` : summarize(state);
      if (state.at - lastStatusAt >= options.statusEveryMs) {
        lastStatusAt = state.at;
        log.info({ household: fields, ...simulated }, line);
        if (options.statusEveryMs > 0) log.info({ links: devices.links.map((l) => linkSummary(l.stats())) }, 'modbus link counters');
      } else {
        log.debug({ household: fields, ...simulated }, line);
      }
      market?.onState(state);
      options.onState?.(state);
    },
    onCycle: (cycle) => model?.observeCycle(cycle),
  });
  const readModel = new ReadModel({
    config: effective, clock, version: options.version ?? VERSION, startedAt, simulated: simulator !== undefined,
    household: () => poller.state(), links: () => devices.links.map((l) => l.stats()), neighbours, market,
  });
  model = readModel;
  const stopParts = async () => {
    await market?.stop();
    await neighbours?.stop();
    await poller.stop();
    await devices.close();
    await simulator?.close();
  };
  if (apiModule && options.api) {
    try {
      api = await apiModule.startApi(readModel, { ...(options.ioClock ? { pace: options.ioClock } : {}), ...options.api, log });
    } catch (error) {
      await stopParts();
      throw error;
    }
  }
  poller.start();
  log.info({ devices: devices.devices.map((d) => d.name), links: devices.links.map((l) => l.name), intervalMs: effective.poll.interval }, 'tonari running');
  return {
    poller, devices, simulator, neighbours, market, model: readModel, api,
    async stop() {
      // The taps first: event streams closed, Home Assistant told offline while the broker still runs.
      await api?.stop();
      await market?.stop();
      await neighbours?.stop();
      await poller.stop();
      await devices.close();
      await simulator?.close();
    },
  };
}

function localTime(timeMs: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hour12: false }).format(timeMs);
}

/** The counters an operator reads in the journal: per link and per unit, errors by kind (only non-zero ones). */
function linkSummary(stats: LinkStats) {
  const nonZero = (errors: Record<string, number>) => Object.fromEntries(Object.entries(errors).filter(([, n]) => n > 0));
  return {
    link: stats.name,
    requests: stats.requests,
    errors: nonZero(stats.errors),
    reconnects: stats.reconnects,
    latencyMs: stats.ewmaLatencyMs === null ? null : Math.round(stats.ewmaLatencyMs),
    units: stats.units.map((u) => ({ unit: u.unit, requests: u.requests, errors: nonZero(u.errors) })),
  };
}
