/**
 * One household's physics as a pure step function: PV on MPPT trackers,
 * load, battery under a controller, and the grid meter that closes the
 * balance. Sign conventions (devices.md §b.7): grid import positive,
 * battery discharge positive.
 */
import {
  batteryVoltageV,
  feasibleBatteryPowerW,
  integrateSoc,
  requestedBatteryPowerW,
  type BatteryControl,
  type BatteryParams,
} from './battery.js';
import { localHourOfDay, loadProfileW, noisyLoadW, type LoadParams } from './load.js';
import { cloudFactor, stepAr1 } from './noise.js';
import { inverterAcPowerW, trackerReadings, type PvParams } from './pv.js';
import { nextGaussian, seedRandom, type RandomState } from './random.js';
import { sunPosition } from './sun.js';

export interface GridParams {
  frequencyHz: number;
  /** Phase-to-neutral voltage. */
  phaseVoltageV: number;
  /** 1 single-phase, 2 Japanese single-phase three-wire (100/200 V), 3 three-phase. */
  phases: 1 | 2 | 3;
  /** How the house load splits over the phases (normalised); PV and battery split evenly. */
  loadPhaseShares?: number[];
}

export interface HouseholdParams {
  latitudeDeg: number;
  longitudeDeg: number;
  /** IANA zone for the load profile's local time. */
  timeZone: string;
  pv: PvParams;
  load: LoadParams;
  battery: BatteryParams;
  batteryControl: BatteryControl;
  grid: GridParams;
}

export interface TrackerState {
  voltageV: number;
  currentA: number;
  powerW: number;
  energyWh: number;
}

export interface HouseholdState {
  timeMs: number;
  /** Noise processes and their random stream: carried so a seed replays exactly. */
  noise: { random: RandomState; cloud: number; load: number; frequency: number; voltage: number };
  sunElevationDeg: number;
  trackers: TrackerState[];
  inverter: { powerW: number; voltageV: number; currentA: number; frequencyHz: number; energyWh: number };
  load: { powerW: number; energyWh: number };
  battery: { powerW: number; socPct: number; voltageV: number; currentA: number; chargedWh: number; dischargedWh: number };
  meter: {
    powerW: number;
    phasePowerW: number[];
    phaseVoltageV: number[];
    phaseCurrentA: number[];
    frequencyHz: number;
    importWh: number;
    exportWh: number;
  };
}

export const TOKYO = { latitudeDeg: 35.6762, longitudeDeg: 139.6503, timeZone: 'Asia/Tokyo' } as const;

export type HouseholdParamsOverrides = Partial<Omit<HouseholdParams, 'pv' | 'load' | 'battery' | 'grid'>> & {
  pv?: Partial<PvParams>;
  load?: Partial<LoadParams>;
  battery?: Partial<BatteryParams>;
  grid?: Partial<GridParams>;
};

/** A 5 kWp Tokyo house with a 10 kWh battery, with any field overridden. */
export function householdParams(overrides: HouseholdParamsOverrides = {}): HouseholdParams {
  return {
    ...TOKYO,
    batteryControl: { mode: 'self-consumption' },
    ...overrides,
    pv: {
      pvWp: 5000,
      trackers: [
        { share: 0.6, tiltDeg: 20, azimuthDeg: 180, vmpNominalV: 320 },
        { share: 0.4, tiltDeg: 20, azimuthDeg: 180, vmpNominalV: 240 },
      ],
      systemDerate: 0.88,
      inverterEfficiency: 0.96,
      cloudiness: 0,
      cloudTimeConstantMs: 10 * 60_000,
      ...overrides.pv,
    },
    load: { dailyKWh: 10, baseW: 200, noise: 0.15, noiseTimeConstantMs: 10 * 60_000, ...overrides.load },
    battery: {
      capacityWh: 10_000,
      maxChargeW: 3000,
      maxDischargeW: 3000,
      roundTripEfficiency: 0.9,
      reserveSocPct: 10,
      nominalVoltageV: 51.2,
      ...overrides.battery,
    },
    grid: { frequencyHz: 50, phaseVoltageV: 101, phases: 2, ...overrides.grid },
  };
}

export function initialHouseholdState(params: HouseholdParams, timeMs: number, seed: number, socPct = 50): HouseholdState {
  const phases = params.grid.phases;
  const soc = params.battery.capacityWh > 0 ? Math.min(100, Math.max(0, socPct)) : 0;
  const zero = new Array<number>(phases).fill(0);
  return {
    timeMs,
    noise: { random: seedRandom(seed), cloud: 0, load: 0, frequency: 0, voltage: 0 },
    sunElevationDeg: sunPosition(params.latitudeDeg, params.longitudeDeg, timeMs).elevationDeg,
    trackers: params.pv.trackers.map(() => ({ voltageV: 0, currentA: 0, powerW: 0, energyWh: 0 })),
    inverter: { powerW: 0, voltageV: lineVoltageV(params.grid, params.grid.phaseVoltageV), currentA: 0, frequencyHz: params.grid.frequencyHz, energyWh: 0 },
    load: { powerW: 0, energyWh: 0 },
    battery: { powerW: 0, socPct: soc, voltageV: batteryVoltageV(soc, params.battery), currentA: 0, chargedWh: 0, dischargedWh: 0 },
    meter: {
      powerW: 0,
      phasePowerW: zero,
      phaseVoltageV: new Array<number>(phases).fill(params.grid.phaseVoltageV),
      phaseCurrentA: zero,
      frequencyHz: params.grid.frequencyHz,
      importWh: 0,
      exportWh: 0,
    },
  };
}

/** Voltage the inverter sees: L1–L2 on a Japanese 3-wire supply, line-to-line on three-phase. */
function lineVoltageV(grid: GridParams, phaseV: number): number {
  return grid.phases === 1 ? phaseV : grid.phases === 2 ? 2 * phaseV : Math.sqrt(3) * phaseV;
}

function phaseShares(grid: GridParams): number[] {
  const raw = grid.loadPhaseShares?.length === grid.phases ? grid.loadPhaseShares : grid.phases === 2 ? [0.55, 0.45] : new Array<number>(grid.phases).fill(1);
  const total = raw.reduce((a, b) => a + b, 0) || 1;
  return raw.map((s) => s / total);
}

const HOUR_MS = 3_600_000;
const SECOND_MS = 1000;

/** Advances the household to `nowMs`, integrating energy over `dtMs`. Never mutates `state`. */
export function stepHousehold(state: HouseholdState, params: HouseholdParams, nowMs: number, dtMs: number): HouseholdState {
  if (!(dtMs >= 0) || !Number.isFinite(dtMs)) throw new RangeError(`dtMs must be a finite number >= 0, got ${dtMs}`);
  const hours = dtMs / HOUR_MS;

  let random = state.noise.random;
  let cloud: number, load: number, frequency: number, voltage: number;
  [cloud, random] = stepAr1(state.noise.cloud, random, dtMs, params.pv.cloudTimeConstantMs);
  [load, random] = stepAr1(state.noise.load, random, dtMs, params.load.noiseTimeConstantMs);
  [frequency, random] = stepAr1(state.noise.frequency, random, dtMs, 30 * SECOND_MS);
  [voltage, random] = stepAr1(state.noise.voltage, random, dtMs, 60 * SECOND_MS);
  let inverterJitter: number;
  [inverterJitter, random] = nextGaussian(random);

  const sun = sunPosition(params.latitudeDeg, params.longitudeDeg, nowMs);
  const readings = trackerReadings(params.pv, sun, cloudFactor(cloud, params.pv.cloudiness));
  const dcW = readings.reduce((sum, r) => sum + r.powerW, 0);
  const pvAcW = inverterAcPowerW(params.pv, dcW);

  const loadW = noisyLoadW(loadProfileW(localHourOfDay(nowMs, params.timeZone), params.load), load, params.load);

  const requested = requestedBatteryPowerW(params.batteryControl, loadW - pvAcW);
  const batteryW = feasibleBatteryPowerW(state.battery.socPct, requested, params.battery, dtMs);
  const socPct = integrateSoc(state.battery.socPct, batteryW, params.battery, dtMs);
  const batteryV = params.battery.capacityWh > 0 ? batteryVoltageV(socPct, params.battery) : 0;

  const gridW = loadW - pvAcW - batteryW;

  const grid = params.grid;
  // Voltage rises a little with export, as on a real feeder.
  const phaseV = grid.phaseVoltageV + 0.8 * voltage - 0.5 * (gridW / 1000);
  const hz = grid.frequencyHz + 0.02 * frequency;
  const shares = phaseShares(grid);
  const phasePowerW = shares.map((share) => loadW * share - (pvAcW + batteryW) / grid.phases);
  const lineV = lineVoltageV(grid, phaseV);

  return {
    timeMs: nowMs,
    noise: { random, cloud, load, frequency, voltage },
    sunElevationDeg: sun.elevationDeg,
    trackers: readings.map((r, i) => ({ ...r, energyWh: (state.trackers[i]?.energyWh ?? 0) + r.powerW * hours })),
    inverter: {
      powerW: pvAcW,
      voltageV: lineV + 0.3 * inverterJitter,
      currentA: pvAcW / (grid.phases === 3 ? 3 * phaseV : lineV),
      frequencyHz: hz + 0.002 * inverterJitter,
      energyWh: state.inverter.energyWh + pvAcW * hours,
    },
    load: { powerW: loadW, energyWh: state.load.energyWh + loadW * hours },
    battery: {
      powerW: batteryW,
      socPct,
      voltageV: batteryV,
      currentA: batteryV > 0 ? batteryW / batteryV : 0,
      chargedWh: state.battery.chargedWh + Math.max(0, -batteryW) * hours,
      dischargedWh: state.battery.dischargedWh + Math.max(0, batteryW) * hours,
    },
    meter: {
      powerW: gridW,
      phasePowerW,
      phaseVoltageV: shares.map(() => phaseV),
      phaseCurrentA: phasePowerW.map((w) => w / phaseV),
      frequencyHz: hz,
      importWh: state.meter.importWh + Math.max(0, gridW) * hours,
      exportWh: state.meter.exportWh + Math.max(0, -gridW) * hours,
    },
  };
}
