/** PV array split over MPPT trackers, and the inverter's AC output. */
import { clearSkyIrradiance, planeOfArrayIrradiance, type PanelOrientation } from './irradiance.js';
import type { SunPosition } from './sun.js';

export interface TrackerConfig extends PanelOrientation {
  /** Relative share of the array's Wp (normalised over all trackers). */
  share: number;
  /** String voltage at the maximum power point at 1000 W/m². */
  vmpNominalV: number;
}

export interface PvParams {
  pvWp: number;
  trackers: TrackerConfig[];
  /** DC losses: temperature, wiring, soiling, mismatch. */
  systemDerate: number;
  inverterEfficiency: number;
  /** AC clipping limit; defaults to pvWp. */
  inverterMaxAcW?: number;
  /** 0 = clear sky; 1 = cloud factor swings over the whole 0..1 range. */
  cloudiness: number;
  /** How fast clouds come and go. */
  cloudTimeConstantMs: number;
}

export interface TrackerReading {
  voltageV: number;
  currentA: number;
  powerW: number;
}

/** Irradiance below which the tracker is considered off (inverter asleep). */
const MIN_IRRADIANCE = 2;

export function trackerReadings(params: PvParams, sun: SunPosition, cloudFactor: number): TrackerReading[] {
  const sky = clearSkyIrradiance(sun.elevationDeg);
  const totalShare = params.trackers.reduce((sum, tr) => sum + tr.share, 0) || 1;
  return params.trackers.map((tracker) => {
    const irradiance = planeOfArrayIrradiance(sun, sky, tracker) * cloudFactor;
    if (irradiance < MIN_IRRADIANCE || params.pvWp <= 0) return { voltageV: 0, currentA: 0, powerW: 0 };
    const powerW = ((params.pvWp * tracker.share) / totalShare) * (irradiance / 1000) * params.systemDerate;
    // Vmp falls logarithmically with irradiance; keep it above a floor the MPPT can hold.
    const voltageV = tracker.vmpNominalV * Math.max(0.7, 1 + 0.04 * Math.log(irradiance / 1000));
    return { voltageV, currentA: powerW / voltageV, powerW };
  });
}

export function inverterAcPowerW(params: PvParams, dcPowerW: number): number {
  return Math.min(dcPowerW * params.inverterEfficiency, params.inverterMaxAcW ?? params.pvWp);
}
