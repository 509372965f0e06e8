/** The SunSpec models tonari understands, by model ID. */
import type { ModelDef } from './types.js';
import { BATTERY } from './models/battery.js';
import { COMMON } from './models/common.js';
import {
  INVERTER_SINGLE_PHASE, INVERTER_SINGLE_PHASE_FLOAT, INVERTER_SPLIT_PHASE, INVERTER_SPLIT_PHASE_FLOAT,
  INVERTER_THREE_PHASE, INVERTER_THREE_PHASE_FLOAT,
} from './models/inverter.js';
import {
  METER_DELTA, METER_DELTA_FLOAT, METER_SINGLE_PHASE, METER_SINGLE_PHASE_FLOAT, METER_SPLIT_PHASE,
  METER_SPLIT_PHASE_FLOAT, METER_WYE, METER_WYE_FLOAT,
} from './models/meter.js';
import { MPPT } from './models/mppt.js';
import { NAMEPLATE } from './models/nameplate.js';
import { STORAGE } from './models/storage.js';

const MODELS: ReadonlyMap<number, ModelDef> = new Map(
  [
    COMMON,
    INVERTER_SINGLE_PHASE, INVERTER_SPLIT_PHASE, INVERTER_THREE_PHASE,
    INVERTER_SINGLE_PHASE_FLOAT, INVERTER_SPLIT_PHASE_FLOAT, INVERTER_THREE_PHASE_FLOAT,
    NAMEPLATE, STORAGE, MPPT,
    METER_SINGLE_PHASE, METER_SPLIT_PHASE, METER_WYE, METER_DELTA,
    METER_SINGLE_PHASE_FLOAT, METER_SPLIT_PHASE_FLOAT, METER_WYE_FLOAT, METER_DELTA_FLOAT,
    BATTERY,
  ].map((def) => [def.id, def] as const),
);

export const SUPPORTED_MODELS: readonly number[] = Object.freeze([...MODELS.keys()].sort((a, b) => a - b));

export function modelDef(id: number): ModelDef | undefined {
  return MODELS.get(id);
}
