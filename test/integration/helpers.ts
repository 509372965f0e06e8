/**
 * Shared plumbing for the integration tests: a simulated household whose
 * physics stands still on a ManualClock while its Modbus server runs in real
 * time, real links on 127.0.0.1 or a socat pty pair, the devices tonari
 * builds, and the expected values computed straight from the physics state.
 */
import net from 'node:net';
import type { Test } from 'tap';
import { ManualClock, systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { ModbusLink, type LinkPolicy } from '../../agent/devices/modbus/index.js';
import type { LinkSpec } from '../../agent/devices/modbus/types.js';
import { unitReader } from '../../agent/app/devices.js';
import { SunSpecDevice } from '../../agent/devices/sunspec/device.js';
import { modelDef } from '../../agent/devices/sunspec/registry.js';
import type { DeviceMeasurement, Quantity, Role } from '../../agent/household/quantities.js';
import type { HouseholdState } from '../../agent/sim/physics/household.js';
import type { RegisterException, RegisterSpace } from '../../agent/sim/server/index.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../agent/sim/simulator.js';
import { LIFETIME_OFFSETS_WH } from '../../agent/sim/sunspec/image.js';
import { missingTool, startPtyPair, type PtyPair } from '../sim/helpers.js';

/** 2026-06-21 12:00 in Tokyo: the sun is high, PV > 0. */
export const NOON_JST = Date.UTC(2026, 5, 21, 3, 0, 0);
export const MINUTE = 60_000;

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Sim {
  sim: RunningSimulator;
  /** The physics clock: moves only when the test advances it. */
  clock: ManualClock;
  /** The physics state now (what every register read at this clock time shows). */
  state(): HouseholdState;
}

/**
 * Starts the simulator with its physics on a ManualClock (standing still
 * during a poll) and its transport on the real clock (deafness, restarts).
 */
export async function startSim(t: Test, options: Partial<SimulatorOptions> & Pick<SimulatorOptions, 'transport'>, startMs = NOON_JST): Promise<Sim> {
  const clock = new ManualClock(startMs);
  const sim = await startSimulator({ clock, serverClock: systemClock, log: silentLogger(), ...options });
  t.teardown(() => sim.close());
  // Let the physics leave its all-zero initial state.
  await clock.advance(MINUTE);
  return { sim, clock, state: () => sim.household.advanceToNow() };
}

export type LinkOverrides = Partial<Pick<LinkSpec, 'timeout' | 'connectDelay' | 'interRequestDelay'>>;

export function tcpLink(t: Test, type: 'tcp' | 'rtu-over-tcp', port: number, over: LinkOverrides = {}, policy: Partial<LinkPolicy> = {}): ModbusLink {
  const link = new ModbusLink(
    { name: `it-${type}`, type, host: '127.0.0.1', port, timeout: 500, connectDelay: 0, interRequestDelay: 0, ...over },
    { clock: systemClock, logger: silentLogger(), policy },
  );
  t.teardown(() => link.close());
  return link;
}

export function rtuLink(t: Test, path: string, over: LinkOverrides = {}): ModbusLink {
  const link = new ModbusLink(
    { name: 'it-rtu', type: 'rtu', path, baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1, timeout: 1000, connectDelay: 0, interRequestDelay: 0, ...over },
    { clock: systemClock, logger: silentLogger() },
  );
  t.teardown(() => link.close());
  return link;
}

/** A socat pty pair, or undefined after a loud skip (a failure under CI=true). */
export async function ptyPair(t: Test): Promise<PtyPair | undefined> {
  const missing = missingTool('socat');
  if (missing) {
    process.stderr.write(`\n*** MISSING TOOL: ${missing} ***\n\n`);
    t.pass(missing, { skip: missing });
    return undefined;
  }
  const pair = await startPtyPair();
  t.teardown(() => pair.close());
  return pair;
}

export type TransportKind = 'tcp' | 'rtu-over-tcp' | 'rtu';

/**
 * A simulator on `kind` and a link to it (RTU on a socat pty pair at 9600
 * baud); undefined after a loud skip when socat is missing.
 */
export async function simWithLink(t: Test, kind: TransportKind, over: LinkOverrides = {}): Promise<{ s: Sim; link: ModbusLink } | undefined> {
  if (kind === 'rtu') {
    const pair = await ptyPair(t);
    if (!pair) return undefined;
    const s = await startSim(t, { transport: { kind: 'rtu', path: pair.b, baudRate: 9600 } });
    return { s, link: rtuLink(t, pair.a, over) };
  }
  const s = await startSim(t, { transport: { kind, host: '127.0.0.1', port: 0 } });
  return { s, link: tcpLink(t, kind, s.sim.server.address().port, over) };
}

export const INVERTER_ROLES: readonly Role[] = ['pv', 'battery'];
export const METER_ROLES: readonly Role[] = ['grid'];

export function sunspecDevice(link: ModbusLink, unit: number, roles: readonly Role[], extra: { subdevice?: number; name?: string; invertGrid?: boolean } = {}): SunSpecDevice {
  return new SunSpecDevice({
    name: extra.name ?? `unit${unit}`, roles, reader: unitReader(link, unit), subdevice: extra.subdevice ?? 0,
    invertGrid: extra.invertGrid ?? false, maxGap: 31, log: silentLogger(),
  });
}

/** No negative zero: Math.round(-0.4) is -0, a decoded register is +0. */
const z = (v: number): number => v + 0;

/** A model 160 module's lifetime DCWH offset, as the simulator splits LIFETIME_OFFSETS_WH.pv. */
function moduleWhOffset(index: number, modules: number): number {
  return LIFETIME_OFFSETS_WH.pv * (index === 0 ? 0.6 : 0.4 / Math.max(1, modules - 1));
}

/** What the hybrid inverter (pv + battery roles) must read as, from the physics state and the register image's rounding. */
export function expectedInverter(s: HouseholdState): DeviceMeasurement {
  return {
    acW: z(Math.round(s.inverter.powerW + s.battery.powerW)),
    pvW: z(s.trackers.reduce((sum, tr) => sum + Math.round(tr.powerW), 0)),
    pvWh: s.trackers.reduce((sum, tr, i) => sum + Math.round(moduleWhOffset(i, s.trackers.length) + tr.energyWh), 0),
    batteryW: z(Math.round(s.battery.powerW)),
    // ChaState is written rounded to 0.1 % with ChaState_SF = -1.
    socPct: Math.round(Number(s.battery.socPct.toFixed(1)) * 10) / 10,
  };
}

/** What the grid meter must read as (import positive). */
export function expectedMeter(s: HouseholdState): DeviceMeasurement {
  return {
    gridW: z(Math.round(s.meter.powerW)),
    gridImportWh: Math.round(LIFETIME_OFFSETS_WH.import + s.meter.importWh),
    gridExportWh: Math.round(LIFETIME_OFFSETS_WH.export + s.meter.exportWh),
  };
}

/** The household values the poller must publish for a physics state (inverter on unit 1, meter on unit 2). */
export function expectedHousehold(s: HouseholdState): Record<Quantity, number> {
  const inv = expectedInverter(s);
  const mtr = expectedMeter(s);
  return {
    pvW: inv.pvW!, batteryW: inv.batteryW!, socPct: inv.socPct!, pvWh: inv.pvWh!,
    gridW: mtr.gridW!, gridImportWh: mtr.gridImportWh!, gridExportWh: mtr.gridExportWh!,
    // The hybrid inverter's AC output already holds its battery: load = AC + grid.
    loadW: inv.acW! + mtr.gridW!,
  };
}

/** Inverter DC power (model 103/113 DCW): pvW's fallback when a module of model 160 cannot be read. */
export const expectedInverterDcW = (s: HouseholdState): number => z(Math.round(s.trackers.reduce((sum, tr) => sum + tr.powerW, 0)));

/** Inverter lifetime AC energy (model 103/113 WH): pvWh's fallback when model 160's counters cannot be read. */
export const expectedInverterWh = (s: HouseholdState): number =>
  Math.round(LIFETIME_OFFSETS_WH.inverter + s.inverter.energyWh + s.battery.dischargedWh);

/** Counters that must never decrease between two polls. */
export const COUNTERS = ['pvWh', 'gridImportWh', 'gridExportWh'] as const;

/** Address of a point of a model in a unit's image, e.g. the W_SF of model 103, or DCW of module 2 of model 160. */
export function pointAddress(sim: RunningSimulator, unit: number, model: number, point: string, repetition?: number, nth = 0): number {
  const image = sim.space.images().get(unit);
  const placed = image?.models.filter((m) => m.id === model)[nth];
  const def = modelDef(model);
  if (!placed || !def) throw new Error(`unit ${unit} has no model ${model}`);
  if (repetition === undefined) {
    const p = def.points.find((q) => q.name === point);
    if (!p) throw new Error(`model ${model} has no point ${point}`);
    return placed.address + p.offset;
  }
  const group = def.group;
  const p = group?.points.find((q) => q.name === point);
  if (!group || !p) throw new Error(`model ${model} has no group point ${point}`);
  return placed.address + group.offset + repetition * group.size + p.offset;
}

/** Decodes a signed 16-bit register. */
export const s16 = (word: number): number => (word & 0x8000 ? word - 0x10000 : word);

export interface Attempt<T> {
  ok: boolean;
  value?: T;
  error?: unknown;
}

/**
 * Runs `fn` until it succeeds, at most `maxAttempts` times and for at most
 * `maxMs`, waiting `gapMs` between attempts. Returns every attempt made.
 */
export async function untilOk<T>(fn: () => Promise<T>, options: { maxAttempts: number; maxMs: number; gapMs: number; beforeEach?: () => Promise<void> }): Promise<Attempt<T>[]> {
  const deadline = Date.now() + options.maxMs;
  const attempts: Attempt<T>[] = [];
  while (attempts.length < options.maxAttempts && Date.now() <= deadline) {
    await options.beforeEach?.();
    try {
      attempts.push({ ok: true, value: await fn() });
      return attempts;
    } catch (error) {
      attempts.push({ ok: false, error });
    }
    await delay(options.gapMs);
  }
  return attempts;
}

/**
 * A register space that refuses (exception 2) every read touching one of
 * `holes` and passes everything else to `inner`; counts what it refused.
 */
export class HoleySpace implements RegisterSpace {
  refused = 0;
  reads = 0;
  constructor(private readonly inner: RegisterSpace, private readonly holes: { unit: number; address: number }[]) {}
  hasUnit(unit: number): boolean {
    return this.inner.hasUnit(unit);
  }
  read(unit: number, fc: 3 | 4, address: number, count: number): number[] | RegisterException {
    this.reads++;
    if (this.holes.some((h) => h.unit === unit && h.address >= address && h.address < address + count)) {
      this.refused++;
      return { exception: 2 };
    }
    return this.inner.read(unit, fc, address, count);
  }
  write(unit: number, address: number, values: number[]): void | RegisterException {
    return this.inner.write(unit, address, values);
  }
}

/**
 * A TCP proxy between the link and a device that holds every reply for
 * `delayMs` (read when the reply arrives): a slow device or gateway.
 */
export class SlowProxy {
  delayMs = 0;
  /** Reply chunks forwarded to the client. */
  forwarded = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly upstreamPort: number) {
    this.server = net.createServer((client) => this.accept(client));
  }

  static async start(t: Test, upstreamPort: number): Promise<SlowProxy> {
    const proxy = new SlowProxy(upstreamPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', () => resolve()));
    t.teardown(() => proxy.close());
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect(this.upstreamPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => { this.sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      const send = () => { if (!client.destroyed) { this.forwarded++; client.write(chunk); } };
      if (this.delayMs <= 0) { send(); return; }
      const timer = setTimeout(() => { this.timers.delete(timer); send(); }, this.delayMs);
      this.timers.add(timer);
    });
  }
}

/** The `kind` of the error `promise` rejects with; 'resolved' if it did not reject. */
export async function failureKind(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return String((err as { kind?: unknown }).kind ?? (err as Error).name);
  }
  return 'resolved';
}
