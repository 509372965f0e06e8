/**
 * Units a profile may declare, the quantity each measures, and the factor
 * that converts a value in that unit to the canonical unit of its quantity.
 * Decoded profile values are always in the canonical unit (W, Wh, %, ...).
 */
export type Quantity =
  | 'power' | 'energy' | 'percent' | 'voltage' | 'current' | 'frequency'
  | 'temperature' | 'reactivePower' | 'apparentPower' | 'charge' | 'time';

interface UnitDef {
  quantity: Quantity;
  /** Multiply a value in this unit by `toCanonical` to get the canonical unit. */
  toCanonical: number;
}

export const UNITS = {
  W: { quantity: 'power', toCanonical: 1 },
  kW: { quantity: 'power', toCanonical: 1000 },
  Wh: { quantity: 'energy', toCanonical: 1 },
  kWh: { quantity: 'energy', toCanonical: 1000 },
  MWh: { quantity: 'energy', toCanonical: 1_000_000 },
  '%': { quantity: 'percent', toCanonical: 1 },
  V: { quantity: 'voltage', toCanonical: 1 },
  A: { quantity: 'current', toCanonical: 1 },
  mA: { quantity: 'current', toCanonical: 0.001 },
  Hz: { quantity: 'frequency', toCanonical: 1 },
  C: { quantity: 'temperature', toCanonical: 1 },
  var: { quantity: 'reactivePower', toCanonical: 1 },
  kvar: { quantity: 'reactivePower', toCanonical: 1000 },
  VA: { quantity: 'apparentPower', toCanonical: 1 },
  kVA: { quantity: 'apparentPower', toCanonical: 1000 },
  Ah: { quantity: 'charge', toCanonical: 1 },
  s: { quantity: 'time', toCanonical: 1 },
  min: { quantity: 'time', toCanonical: 60 },
  h: { quantity: 'time', toCanonical: 3600 },
} as const satisfies Record<string, UnitDef>;

export type UnitName = keyof typeof UNITS;
export const UNIT_NAMES = Object.keys(UNITS) as UnitName[];

export const CANONICAL_UNIT: Record<Quantity, UnitName> = {
  power: 'W', energy: 'Wh', percent: '%', voltage: 'V', current: 'A', frequency: 'Hz',
  temperature: 'C', reactivePower: 'var', apparentPower: 'VA', charge: 'Ah', time: 's',
};

/**
 * Point names the household understands, with the quantity each must measure
 * and tonari's sign convention. Any other point name is an extra reading.
 */
export const WELL_KNOWN_POINTS = {
  pvPower: { quantity: 'power', meaning: 'PV generation, W, never negative' },
  gridPower: { quantity: 'power', meaning: 'grid exchange, W, positive = import from the grid' },
  batteryPower: { quantity: 'power', meaning: 'battery exchange, W, positive = discharging' },
  batterySoc: { quantity: 'percent', meaning: 'battery state of charge, %' },
  gridImportEnergy: { quantity: 'energy', meaning: 'lifetime energy imported from the grid, Wh' },
  gridExportEnergy: { quantity: 'energy', meaning: 'lifetime energy exported to the grid, Wh' },
  pvEnergy: { quantity: 'energy', meaning: 'lifetime PV energy, Wh' },
  inverterPower: { quantity: 'power', meaning: "inverter AC power, W, positive = the inverter delivers power" },
} as const satisfies Record<string, { quantity: Quantity; meaning: string }>;

export type WellKnownPoint = keyof typeof WELL_KNOWN_POINTS;

export function isWellKnownPoint(name: string): name is WellKnownPoint {
  return Object.hasOwn(WELL_KNOWN_POINTS, name);
}

export function isUnitName(unit: string): unit is UnitName {
  return Object.hasOwn(UNITS, unit);
}
