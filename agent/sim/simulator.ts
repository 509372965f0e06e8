import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { VERSION } from '../cli/version.js';
import { householdParams } from './physics/household.js';
import { SimulatedHousehold } from './physics/simulated-household.js';
import { startModbusServer, type ModbusServerHandle, type ModbusTransportOptions, type WireTimeEmulation } from './server/index.js';
import { layoutFor, type Quirk, type SimLayout } from './sunspec/layout.js';
import { SimulatedSunSpecSpace } from './sunspec/space.js';

export interface SimulatorOptions {
  clock: Clock;
  log: Logger;
  transport: ModbusTransportOptions;
  quirks?: readonly Quirk[];
  seed?: number;
  pvWp?: number;
  batteryWh?: number;
  latitude?: number;
  longitude?: number;
  timeZone?: string;
  /** How long a Huawei-style device ignores requests after a connect (default 1500 ms). */
  huaweiConnectDelayMs?: number;
  /** Starting state of charge, %. */
  initialSocPct?: number;
  /** Delay each reply by the RS-485 wire time of its request and response (benchmarks, slow-bus tests). */
  emulateWireTime?: WireTimeEmulation;
  /**
   * Clock of the Modbus server's transport timing (Huawei deafness, response
   * delays, restart downtime); default `clock`. Tests freeze the physics on a
   * ManualClock while the transport runs in real time.
   */
  serverClock?: Clock;
}

export interface RunningSimulator {
  server: ModbusServerHandle;
  household: SimulatedHousehold;
  space: SimulatedSunSpecSpace;
  layout: SimLayout;
  close(): Promise<void>;
}

/** Starts a simulated household served as SunSpec devices over Modbus. */
export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const quirks = options.quirks ?? [];
  const batteryWh = options.batteryWh ?? 10_000;
  const params = householdParams({
    ...(options.latitude === undefined ? {} : { latitudeDeg: options.latitude }),
    ...(options.longitude === undefined ? {} : { longitudeDeg: options.longitude }),
    ...(options.timeZone === undefined ? {} : { timeZone: options.timeZone }),
    pv: { pvWp: options.pvWp ?? 5000 },
    battery: { capacityWh: batteryWh },
  });
  const household = new SimulatedHousehold({ clock: options.clock, params, seed: options.seed ?? 1, initialSocPct: options.initialSocPct ?? 50 });
  const layout = layoutFor(quirks, batteryWh > 0);
  const space = new SimulatedSunSpecSpace(household, layout, { manufacturer: 'tonari', serialPrefix: `SIM${options.seed ?? 1}`, version: VERSION });
  const huawei = quirks.includes('huawei');
  const server = await startModbusServer({
    transport: options.transport,
    registers: space,
    clock: options.serverClock ?? options.clock,
    logger: options.log,
    seed: options.seed ?? 1,
    ...(huawei ? { singleClient: true, connectDelayMs: options.huaweiConnectDelayMs ?? 1500 } : {}),
    ...(options.emulateWireTime ? { emulateWireTime: options.emulateWireTime } : {}),
  });
  return {
    server, household, space, layout,
    async close() {
      household.stop();
      await server.close();
    },
  };
}
