/**
 * One simulated household's physics at slot granularity: PV and load of the slot, the
 * battery in self-consumption mode (the same policy as the forecast, battery-policy.ts:
 * PV surplus charges first, discharge for the home's own load only, never below the
 * reserve), and what is left crosses the grid meter as import or export.
 */
import { planBattery } from '../battery-policy.js';
import type { HouseholdSpec } from './households.js';

export interface SlotPhysics {
  pvWh: number;
  loadWh: number;
  /** Grid import and export of the slot, whole Wh: what the meter reads. */
  importedWh: number;
  exportedWh: number;
  socEndPct: number | undefined;
}

export class SimHousehold {
  /** State of charge, %; undefined without a battery. */
  socPct: number | undefined;
  /** Mean PV and load power over the last simulated slot, W (what the devices would read now). */
  pvW = 0;
  loadW = 0;

  constructor(readonly spec: HouseholdSpec) {
    this.socPct = spec.battery ? 50 : undefined;
  }

  /** Runs one slot of `slotMinutes` with the given true PV and load energy. */
  step(pvWh: number, loadWh: number, slotMinutes: number): SlotPhysics {
    const hours = slotMinutes / 60;
    const [b] = planBattery([{ pvWh, loadWh, hours, tradable: false }], this.socPct ?? 0, this.spec.battery, { maySell: false, pvSurplus: 'charge-first' });
    const step = b!;
    // Whole Wh at the meter; the rounding stays inside the household (load and PV are whole already).
    const importedWh = Math.max(0, Math.round(step.importWh));
    const exportedWh = Math.max(0, Math.round(step.exportWh));
    if (this.spec.battery) this.socPct = step.socEndPct;
    this.pvW = pvWh / hours;
    this.loadW = loadWh / hours;
    return { pvWh, loadWh, importedWh, exportedWh, socEndPct: this.socPct };
  }
}
