/**
 * Model 160 (multiple MPPT inverter extension): one repetition of `module`
 * per DC input. The scale factors live in the fixed block and apply to all
 * repetitions.
 */
import type { ModelDef } from '../types.js';
import { defineModel, point, scaleFactor } from './define.js';

export const MPPT: ModelDef = defineModel({
  id: 160,
  name: 'mppt',
  body: [
    scaleFactor('DCA_SF'),
    scaleFactor('DCV_SF'),
    scaleFactor('DCW_SF'),
    scaleFactor('DCWH_SF'),
    point('Evt', 'bitfield32'),
    point('N', 'count'),
    point('TmsPer', 'uint16'),
  ],
  group: {
    name: 'module',
    countPoint: 'N',
    points: [
      point('ID', 'uint16'),
      point('IDStr', 'string', { size: 8 }),
      point('DCA', 'uint16', { sf: 'DCA_SF', units: 'A' }),
      point('DCV', 'uint16', { sf: 'DCV_SF', units: 'V' }),
      point('DCW', 'uint16', { sf: 'DCW_SF', units: 'W' }),
      point('DCWH', 'acc32', { sf: 'DCWH_SF', units: 'Wh' }),
      point('Tms', 'uint32', { units: 'Secs' }),
      point('Tmp', 'int16', { units: 'C' }),
      point('DCSt', 'enum16'),
      point('DCEvt', 'bitfield32'),
    ],
  },
});
