import type { DeviceMeasurement } from '../../household/quantities.js';
import type { DecodedModel } from './decode.js';
import type { HouseholdModels } from './roles.js';

export type DecodedHousehold = Partial<Record<keyof HouseholdModels, DecodedModel>>;

/** Tells whether a polled point (and its scale factor) was actually read in this poll. */
export type WasRead = (key: string) => boolean;

const sum = (values: (number | undefined)[]): number | undefined =>
  values.length === 0 || values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + (v as number), 0);

/**
 * Where PV power and PV energy come from. Chosen on the first poll that has a
 * value and then kept (until the device is discovered again): a counter that
 * switched registers between polls could run backwards.
 */
export interface PvSources {
  power?: 'mppt' | 'inverter-dc' | 'inverter-ac';
  energy?: 'mppt' | 'inverter';
}

/**
 * Household values from decoded SunSpec models (see docs/household.md for
 * which point feeds which value). A point that was not read, is "not
 * implemented", or whose scale factor is missing yields undefined.
 * `sources` is updated when a PV source is chosen.
 */
export function measurementOf(decoded: DecodedHousehold, wasRead: WasRead, options: { invertGrid: boolean; sources: PvSources }): DeviceMeasurement {
  const value = (role: keyof HouseholdModels, name: string, index?: number): number | undefined => {
    const model = decoded[role];
    if (!model) return undefined;
    const key = index === undefined ? `${role}.${name}` : `${role}.${index}.${name}`;
    if (!wasRead(key)) return undefined;
    const v = index === undefined ? model.values[name] : model.groups[index]?.[name];
    return typeof v === 'number' ? v : undefined;
  };
  const modules = decoded.mppt?.groups.map((_, i) => i) ?? [];
  const out: DeviceMeasurement = {};

  if (decoded.inverter || decoded.mppt) {
    const power = {
      'mppt': decoded.mppt ? sum(modules.map((i) => value('mppt', 'DCW', i))) : undefined,
      'inverter-dc': value('inverter', 'DCW'),
      'inverter-ac': value('inverter', 'W'),
    };
    const energy = {
      'mppt': decoded.mppt ? sum(modules.map((i) => value('mppt', 'DCWH', i))) : undefined,
      'inverter': value('inverter', 'WH'),
    };
    options.sources.power ??= firstDefined(power);
    options.sources.energy ??= firstDefined(energy);
    out.acW = power['inverter-ac'];
    out.pvW = options.sources.power === undefined ? undefined : power[options.sources.power];
    out.pvWh = options.sources.energy === undefined ? undefined : energy[options.sources.energy];
  }
  if (decoded.storage || decoded.battery) {
    out.batteryW = value('battery', 'W');
    out.socPct = value('storage', 'ChaState') ?? value('battery', 'SoC');
  }
  if (decoded.meter) {
    const w = value('meter', 'W');
    const imported = value('meter', 'TotWhImp');
    const exported = value('meter', 'TotWhExp');
    out.gridW = w === undefined ? undefined : options.invertGrid ? -w : w;
    out.gridImportWh = options.invertGrid ? exported : imported;
    out.gridExportWh = options.invertGrid ? imported : exported;
  }
  return out;
}

/** The first key (in preference order) whose value is defined. */
function firstDefined<K extends string>(candidates: Record<K, number | undefined>): K | undefined {
  return (Object.keys(candidates) as K[]).find((k) => candidates[k] !== undefined);
}
