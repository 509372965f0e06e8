/**
 * Clear-sky irradiance: Kasten–Young air mass and the Meinel beam model
 * (DNI = 1353 · 0.7^(AM^0.678)), diffuse taken as 10 % of the beam on the
 * horizontal, then transposed to a tilted panel (isotropic sky, 0.2 albedo).
 */
import type { SunPosition } from './sun.js';

export interface ClearSkyIrradiance {
  /** Direct normal, W/m². */
  dni: number;
  /** Diffuse horizontal, W/m². */
  dhi: number;
  /** Global horizontal, W/m². */
  ghi: number;
}

const RAD = Math.PI / 180;
const SOLAR_CONSTANT_EFFECTIVE = 1353;
const GROUND_ALBEDO = 0.2;

export function airMass(elevationDeg: number): number {
  const zenith = 90 - elevationDeg;
  return 1 / (Math.cos(zenith * RAD) + 0.50572 * Math.pow(96.07995 - zenith, -1.6364));
}

export function clearSkyIrradiance(elevationDeg: number): ClearSkyIrradiance {
  if (elevationDeg <= 0) return { dni: 0, dhi: 0, ghi: 0 };
  const dni = SOLAR_CONSTANT_EFFECTIVE * Math.pow(0.7, Math.pow(airMass(elevationDeg), 0.678));
  const beamHorizontal = dni * Math.sin(elevationDeg * RAD);
  const dhi = 0.1 * beamHorizontal;
  return { dni, dhi, ghi: beamHorizontal + dhi };
}

export interface PanelOrientation {
  tiltDeg: number;
  /** Clockwise from north: 180 faces south. */
  azimuthDeg: number;
}

/** Irradiance on the panel plane, W/m². */
export function planeOfArrayIrradiance(sun: SunPosition, sky: ClearSkyIrradiance, panel: PanelOrientation): number {
  if (sky.ghi <= 0) return 0;
  const zenith = (90 - sun.elevationDeg) * RAD;
  const tilt = panel.tiltDeg * RAD;
  const cosIncidence = Math.cos(zenith) * Math.cos(tilt) + Math.sin(zenith) * Math.sin(tilt) * Math.cos((sun.azimuthDeg - panel.azimuthDeg) * RAD);
  const beam = sky.dni * Math.max(0, cosIncidence);
  const diffuse = sky.dhi * ((1 + Math.cos(tilt)) / 2);
  const reflected = sky.ghi * GROUND_ALBEDO * ((1 - Math.cos(tilt)) / 2);
  return beam + diffuse + reflected;
}
