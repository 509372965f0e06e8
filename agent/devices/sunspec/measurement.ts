import type { DeviceMeasurement } from '../../household/quantities.js';
import type { DecodedModel } from './decode.js';
import type { HouseholdModels } from './roles.js';

export type DecodedHousehold = Partial<Record<keyof HouseholdModels, DecodedModel>>;

/** Tells whether a polled point (and its scale factor) was actually read in this poll. */
export type WasRead = (key: string) => boolean;

const sum = (values: (number | undefined)[]): number | undefined =>
  values.length === 0 || values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + (v as number), 0);

/**
 * Household values from decoded SunSpec models (see docs/household.md for
 * which point feeds which value). A point that was not read, is "not
 * implemented", or whose scale factor is missing yields undefined.
 */
export function measurementOf(decoded: DecodedHousehold, wasRead: WasRead, options: { invertGrid: boolean }): DeviceMeasurement {
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

  const inverterW = value('inverter', 'W');
  const mpptW = decoded.mppt ? sum(modules.map((i) => value('mppt', 'DCW', i))) : undefined;
  const mpptWh = decoded.mppt ? sum(modules.map((i) => value('mppt', 'DCWH', i))) : undefined;
  if (decoded.inverter || decoded.mppt) {
    out.acW = inverterW;
    out.pvW = mpptW ?? value('inverter', 'DCW') ?? inverterW;
    out.pvWh = mpptWh ?? value('inverter', 'WH');
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
