import type { Role } from '../../household/quantities.js';
import type { ChainModel } from './discover.js';
import type { ModelDef } from './types.js';
import { modelDef } from './registry.js';

/** Preference order when a device offers several variants of a model family. */
export const INVERTER_MODELS = [103, 113, 101, 111, 102, 112] as const;
export const METER_MODELS = [203, 213, 201, 211, 202, 212, 204, 214] as const;
export const MPPT_MODEL = 160;
export const STORAGE_MODEL = 124;
export const BATTERY_MODEL = 802;
export const COMMON_MODEL = 1;

/** A model found in the chain together with its table. */
export interface PlacedModel {
  def: ModelDef;
  address: number;
  length: number;
}

export interface HouseholdModels {
  inverter?: PlacedModel;
  mppt?: PlacedModel;
  storage?: PlacedModel;
  battery?: PlacedModel;
  meter?: PlacedModel;
}

function place(models: readonly ChainModel[], ids: readonly number[]): PlacedModel | undefined {
  for (const id of ids) {
    const found = models.find((m) => m.id === id);
    const def = modelDef(id);
    if (found && def) return { def, address: found.address, length: found.length };
  }
  return undefined;
}

/** Picks, for the roles a device is configured to provide, the models that supply them. */
export function householdModels(models: readonly ChainModel[], roles: readonly Role[]): HouseholdModels {
  const out: HouseholdModels = {};
  if (roles.includes('pv')) {
    const inverter = place(models, INVERTER_MODELS);
    const mppt = place(models, [MPPT_MODEL]);
    if (inverter) out.inverter = inverter;
    if (mppt) out.mppt = mppt;
  }
  if (roles.includes('battery')) {
    const storage = place(models, [STORAGE_MODEL]);
    const battery = place(models, [BATTERY_MODEL]);
    if (storage) out.storage = storage;
    if (battery) out.battery = battery;
  }
  if (roles.includes('grid')) {
    const meter = place(models, METER_MODELS);
    if (meter) out.meter = meter;
  }
  return out;
}

/** Which roles the found models cannot serve, for a warning at start-up. */
export function unservedRoles(models: HouseholdModels, roles: readonly Role[]): Role[] {
  return roles.filter((role) =>
    (role === 'pv' && !models.inverter && !models.mppt) ||
    (role === 'battery' && !models.storage && !models.battery) ||
    (role === 'grid' && !models.meter));
}

/**
 * The points to poll from each model: the values tonari uses with the scale
 * factors they need (read in the same request). 160 lists its module points
 * per repetition.
 */
export const POLLED_POINTS: Record<keyof HouseholdModels, readonly string[]> = {
  inverter: ['W', 'DCW', 'WH'],
  mppt: ['DCW', 'DCWH'],
  storage: ['ChaState'],
  battery: ['SoC', 'W'],
  meter: ['W', 'TotWhImp', 'TotWhExp'],
};
