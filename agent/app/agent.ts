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
}

export interface RunningAgent {
  poller: Poller;
  devices: DeviceSetup;
  simulator: RunningSimulator | undefined;
  neighbours: RunningNeighbours | undefined;
  market: RunningMarket | undefined;
  stop(): Promise<void>;
}

/** The composition root: devices (or a simulated household), the poller, the status log, and the neighbours. */
export async function startAgent(config: Config, options: AgentOptions): Promise<RunningAgent> {
  const { clock, log } = options;
  let simulator: RunningSimulator | undefined;
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
      neighbours = await startNeighbours(config, { ...options.neighbours, clock, log });
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
  });
  poller.start();
  log.info({ devices: devices.devices.map((d) => d.name), links: devices.links.map((l) => l.name), intervalMs: effective.poll.interval }, 'tonari running');
  return {
    poller, devices, simulator, neighbours, market,
    async stop() {
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
