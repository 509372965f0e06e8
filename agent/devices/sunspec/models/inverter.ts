/**
 * Inverter models: 101/102/103 (integer + scale factor) and 111/112/113
 * (float32, no scale factors) for single, split and three phase. All three
 * of a family share one layout; the phase count only changes which per-phase
 * points are mandatory.
 */
import type { ModelDef } from '../types.js';
import { defineModel, point, scaleFactor, type PointSpec } from './define.js';

type PhaseCount = 1 | 2 | 3;

const mandatory = true;

/** Points after the measurements, identical in both families. */
function statusPoints(): PointSpec[] {
  return [
    point('St', 'enum16', { mandatory }),
    point('StVnd', 'enum16'),
    point('Evt1', 'bitfield32', { mandatory }),
    point('Evt2', 'bitfield32', { mandatory }),
    point('EvtVnd1', 'bitfield32'),
    point('EvtVnd2', 'bitfield32'),
    point('EvtVnd3', 'bitfield32'),
    point('EvtVnd4', 'bitfield32'),
  ];
}

function integerInverter(id: number, name: string, phases: PhaseCount): ModelDef {
  return defineModel({
    id,
    name,
    body: [
      point('A', 'uint16', { sf: 'A_SF', units: 'A', mandatory }),
      point('AphA', 'uint16', { sf: 'A_SF', units: 'A', mandatory }),
      point('AphB', 'uint16', { sf: 'A_SF', units: 'A', mandatory: phases >= 2 }),
      point('AphC', 'uint16', { sf: 'A_SF', units: 'A', mandatory: phases >= 3 }),
      scaleFactor('A_SF', mandatory),
      point('PPVphAB', 'uint16', { sf: 'V_SF', units: 'V' }),
      point('PPVphBC', 'uint16', { sf: 'V_SF', units: 'V' }),
      point('PPVphCA', 'uint16', { sf: 'V_SF', units: 'V' }),
      point('PhVphA', 'uint16', { sf: 'V_SF', units: 'V', mandatory }),
      point('PhVphB', 'uint16', { sf: 'V_SF', units: 'V', mandatory: phases >= 2 }),
      point('PhVphC', 'uint16', { sf: 'V_SF', units: 'V', mandatory: phases >= 3 }),
      scaleFactor('V_SF', mandatory),
      point('W', 'int16', { sf: 'W_SF', units: 'W', mandatory }),
      scaleFactor('W_SF', mandatory),
      point('Hz', 'uint16', { sf: 'Hz_SF', units: 'Hz', mandatory }),
      scaleFactor('Hz_SF', mandatory),
      point('VA', 'int16', { sf: 'VA_SF', units: 'VA' }),
      scaleFactor('VA_SF'),
      point('VAr', 'int16', { sf: 'VAr_SF', units: 'var' }),
      scaleFactor('VAr_SF'),
      point('PF', 'int16', { sf: 'PF_SF', units: 'Pct' }),
      scaleFactor('PF_SF'),
      point('WH', 'acc32', { sf: 'WH_SF', units: 'Wh', mandatory }),
      scaleFactor('WH_SF', mandatory),
      point('DCA', 'uint16', { sf: 'DCA_SF', units: 'A' }),
      scaleFactor('DCA_SF'),
      point('DCV', 'uint16', { sf: 'DCV_SF', units: 'V' }),
      scaleFactor('DCV_SF'),
      point('DCW', 'int16', { sf: 'DCW_SF', units: 'W' }),
      scaleFactor('DCW_SF'),
      point('TmpCab', 'int16', { sf: 'Tmp_SF', units: 'C', mandatory }),
      point('TmpSnk', 'int16', { sf: 'Tmp_SF', units: 'C' }),
      point('TmpTrns', 'int16', { sf: 'Tmp_SF', units: 'C' }),
      point('TmpOt', 'int16', { sf: 'Tmp_SF', units: 'C' }),
      scaleFactor('Tmp_SF', mandatory),
      ...statusPoints(),
    ],
  });
}

function floatInverter(id: number, name: string, phases: PhaseCount): ModelDef {
  return defineModel({
    id,
    name,
    body: [
      point('A', 'float32', { units: 'A', mandatory }),
      point('AphA', 'float32', { units: 'A', mandatory }),
      point('AphB', 'float32', { units: 'A', mandatory: phases >= 2 }),
      point('AphC', 'float32', { units: 'A', mandatory: phases >= 3 }),
      point('PPVphAB', 'float32', { units: 'V' }),
      point('PPVphBC', 'float32', { units: 'V' }),
      point('PPVphCA', 'float32', { units: 'V' }),
      point('PhVphA', 'float32', { units: 'V', mandatory }),
      point('PhVphB', 'float32', { units: 'V', mandatory: phases >= 2 }),
      point('PhVphC', 'float32', { units: 'V', mandatory: phases >= 3 }),
      point('W', 'float32', { units: 'W', mandatory }),
      point('Hz', 'float32', { units: 'Hz', mandatory }),
      point('VA', 'float32', { units: 'VA' }),
      point('VAr', 'float32', { units: 'var' }),
      point('PF', 'float32', { units: 'Pct' }),
      point('WH', 'float32', { units: 'Wh', mandatory }),
      point('DCA', 'float32', { units: 'A' }),
      point('DCV', 'float32', { units: 'V' }),
      point('DCW', 'float32', { units: 'W' }),
      point('TmpCab', 'float32', { units: 'C', mandatory }),
      point('TmpSnk', 'float32', { units: 'C' }),
      point('TmpTrns', 'float32', { units: 'C' }),
      point('TmpOt', 'float32', { units: 'C' }),
      ...statusPoints(),
    ],
  });
}

export const INVERTER_SINGLE_PHASE = integerInverter(101, 'inverter_single_phase', 1);
export const INVERTER_SPLIT_PHASE = integerInverter(102, 'inverter_split_phase', 2);
export const INVERTER_THREE_PHASE = integerInverter(103, 'inverter_three_phase', 3);
export const INVERTER_SINGLE_PHASE_FLOAT = floatInverter(111, 'inverter_single_phase_float', 1);
export const INVERTER_SPLIT_PHASE_FLOAT = floatInverter(112, 'inverter_split_phase_float', 2);
export const INVERTER_THREE_PHASE_FLOAT = floatInverter(113, 'inverter_three_phase_float', 3);
