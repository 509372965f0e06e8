/**
 * The quantities a household is described by, and the sign conventions that
 * hold everywhere in tonari (docs/household.md repeats them for users):
 *
 * - pvW: PV generation, W, >= 0.
 * - loadW: household consumption, W, >= 0 (derived from the power balance).
 * - gridW: grid connection point, W, positive = import from the grid, negative = export.
 * - batteryW: battery, W, positive = discharging into the home, negative = charging.
 * - socPct: battery state of charge, %, 0..100.
 * - gridImportWh / gridExportWh / pvWh: energy counters, Wh, never decreasing.
 */
export const QUANTITIES = ['pvW', 'loadW', 'gridW', 'batteryW', 'socPct', 'gridImportWh', 'gridExportWh', 'pvWh'] as const;
export type Quantity = (typeof QUANTITIES)[number];

/** Which household role a device is configured to supply. */
export type Role = 'pv' | 'battery' | 'grid';

/**
 * What one device measured in one poll. `acW` is the AC output of an inverter
 * (for a hybrid inverter it already includes its battery); it is used to derive
 * the household load. A key that is absent or undefined was not measured.
 */
export interface DeviceMeasurement {
  pvW?: number | undefined;
  acW?: number | undefined;
  batteryW?: number | undefined;
  socPct?: number | undefined;
  gridW?: number | undefined;
  gridImportWh?: number | undefined;
  gridExportWh?: number | undefined;
  pvWh?: number | undefined;
}

/** The latest poll result of one device. */
export interface DeviceSample {
  device: string;
  roles: readonly Role[];
  /** When the values were read (clock ms); undefined if the device has never been read. */
  at: number | undefined;
  /** False when the last poll failed; the values are then from an earlier poll or absent. */
  ok: boolean;
  values: DeviceMeasurement;
}
