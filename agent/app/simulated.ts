import { systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Config } from '../config/index.js';
import { startSimulator, type RunningSimulator } from '../sim/simulator.js';

/**
 * With no devices configured, tonari reads a simulated household: a SunSpec
 * hybrid inverter with battery (unit 1) and a grid meter (unit 2) served over
 * Modbus TCP on 127.0.0.1, read through the same link and device code as real
 * hardware.
 */
export async function withSimulatedHousehold(config: Config, simClock: Clock, log: Logger): Promise<{ config: Config; simulator: RunningSimulator }> {
  const simulator = await startSimulator({
    clock: simClock,
    // Transport timing (connect delays, response delays) stays in real time even when the simulated day runs faster.
    serverClock: systemClock,
    log: log.child({ component: 'simulator' }),
    transport: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    seed: config.simulator.seed,
    pvWp: config.simulator.pvWp,
    batteryWh: config.simulator.batteryWh,
    latitude: config.household.latitude,
    longitude: config.household.longitude,
    timeZone: config.household.timezone,
  });
  const { port } = simulator.server.address();
  const hasBattery = config.simulator.batteryWh > 0;
  const simulated: Config = {
    ...config,
    links: { sim: { type: 'tcp', host: '127.0.0.1', port, timeout: 1000, connectDelay: 0, interRequestDelay: 0, maxGap: 31 } },
    devices: {
      inverter: { type: 'sunspec', link: 'sim', unit: 1, subdevice: 0, baseAddress: undefined, provides: hasBattery ? ['pv', 'battery'] : ['pv'], invertGrid: false, writable: [] },
      meter: { type: 'sunspec', link: 'sim', unit: 2, subdevice: 0, baseAddress: undefined, provides: ['grid'], invertGrid: false, writable: [] },
    },
  };
  log.info({ host: '127.0.0.1', port, pvWp: config.simulator.pvWp, batteryWh: config.simulator.batteryWh }, 'no devices configured: reading a simulated household');
  return { config: simulated, simulator };
}
