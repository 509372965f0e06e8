import { type DeviceMeasurement, type DeviceSample, type Quantity, type Role } from './quantities.js';

export type Quality = 'ok' | 'stale' | 'missing';

export interface Reading {
  /** Undefined when missing. A stale reading keeps its last value, flagged, so nobody mistakes it for current. */
  value: number | undefined;
  /** When the value was measured (the oldest of the measurements it was built from). */
  at: number | undefined;
  quality: Quality;
  /** Why the reading is not ok, for people reading logs and the dashboard. */
  reason?: string;
}

export type HouseholdState = { at: number } & Record<Quantity, Reading>;

const MISSING_NOT_CONFIGURED: Reading = { value: undefined, at: undefined, quality: 'missing', reason: 'no device provides it' };

interface Part {
  device: string;
  value: number | undefined;
  at: number | undefined;
  ok: boolean;
}

/**
 * Combines the latest samples of every device into one household state.
 * Pure: the same samples and `now` give the same state. A value built from
 * several devices is missing if any part is missing, and stale if any part is
 * older than `staleAfterMs` or came from a failed poll. Nothing is guessed.
 */
export function buildHouseholdState(samples: readonly DeviceSample[], now: number, staleAfterMs: number): HouseholdState {
  const pick = (role: Role, key: keyof DeviceMeasurement): Part[] =>
    samples.filter((s) => s.roles.includes(role)).map((s) => ({ device: s.device, value: s.values[key], at: s.at, ok: s.ok }));

  const combine = (parts: Part[], name: string): Reading => {
    if (parts.length === 0) return MISSING_NOT_CONFIGURED;
    const absent = parts.find((p) => p.value === undefined || p.at === undefined);
    if (absent) return { value: undefined, at: undefined, quality: 'missing', reason: `${name} not available from ${absent.device}` };
    const value = parts.reduce((sum, p) => sum + (p.value as number), 0);
    const at = Math.min(...parts.map((p) => p.at as number));
    const failed = parts.find((p) => !p.ok);
    if (failed) return { value, at, quality: 'stale', reason: `last poll of ${failed.device} failed` };
    if (now - at > staleAfterMs) return { value, at, quality: 'stale', reason: `older than ${staleAfterMs} ms` };
    return { value, at, quality: 'ok' };
  };

  const grid = pick('grid', 'gridW');
  const state = {
    at: now,
    pvW: combine(pick('pv', 'pvW'), 'PV power'),
    gridW: combine(grid, 'grid power'),
    batteryW: combine(pick('battery', 'batteryW'), 'battery power'),
    socPct: combine(pick('battery', 'socPct'), 'state of charge'),
    gridImportWh: combine(pick('grid', 'gridImportWh'), 'grid import energy'),
    gridExportWh: combine(pick('grid', 'gridExportWh'), 'grid export energy'),
    pvWh: combine(pick('pv', 'pvWh'), 'PV energy'),
    loadW: combine(loadParts(samples), 'load'),
  } satisfies HouseholdState;
  return state;
}

/**
 * Load = what the home's inverters and batteries deliver + what comes from the grid.
 * An inverter's AC output already contains its own (DC-coupled) battery, so a
 * device that reports acW contributes only that; a device without acW
 * contributes PV plus battery.
 */
function loadParts(samples: readonly DeviceSample[]): Part[] {
  const parts: Part[] = [];
  for (const s of samples) {
    const supplies = s.roles.includes('pv') || s.roles.includes('battery');
    if (supplies) {
      const { acW, pvW, batteryW } = s.values;
      let value: number | undefined;
      if (acW !== undefined) value = acW;
      else {
        const pv = s.roles.includes('pv') ? pvW : 0;
        const battery = s.roles.includes('battery') ? batteryW : 0;
        value = pv === undefined || battery === undefined ? undefined : pv + battery;
      }
      parts.push({ device: s.device, value, at: s.at, ok: s.ok });
    }
    if (s.roles.includes('grid')) parts.push({ device: s.device, value: s.values.gridW, at: s.at, ok: s.ok });
  }
  if (!samples.some((s) => s.roles.includes('grid'))) return [];
  return parts;
}
