/** Model 120 (nameplate): DER ratings. */
import type { ModelDef } from '../types.js';
import { defineModel, point, scaleFactor } from './define.js';

const mandatory = true;

export const NAMEPLATE: ModelDef = defineModel({
  id: 120,
  name: 'nameplate',
  body: [
    point('DERTyp', 'enum16', { mandatory }),
    point('WRtg', 'uint16', { sf: 'WRtg_SF', units: 'W', mandatory }),
    scaleFactor('WRtg_SF', mandatory),
    point('VARtg', 'uint16', { sf: 'VARtg_SF', units: 'VA', mandatory }),
    scaleFactor('VARtg_SF', mandatory),
    point('VArRtgQ1', 'int16', { sf: 'VArRtg_SF', units: 'var', mandatory }),
    point('VArRtgQ2', 'int16', { sf: 'VArRtg_SF', units: 'var', mandatory }),
    point('VArRtgQ3', 'int16', { sf: 'VArRtg_SF', units: 'var', mandatory }),
    point('VArRtgQ4', 'int16', { sf: 'VArRtg_SF', units: 'var', mandatory }),
    scaleFactor('VArRtg_SF', mandatory),
    point('ARtg', 'uint16', { sf: 'ARtg_SF', units: 'A', mandatory }),
    scaleFactor('ARtg_SF', mandatory),
    point('PFRtgQ1', 'int16', { sf: 'PFRtg_SF', units: 'cos()', mandatory }),
    point('PFRtgQ2', 'int16', { sf: 'PFRtg_SF', units: 'cos()', mandatory }),
    point('PFRtgQ3', 'int16', { sf: 'PFRtg_SF', units: 'cos()', mandatory }),
    point('PFRtgQ4', 'int16', { sf: 'PFRtg_SF', units: 'cos()', mandatory }),
    scaleFactor('PFRtg_SF', mandatory),
    point('WHRtg', 'uint16', { sf: 'WHRtg_SF', units: 'Wh' }),
    scaleFactor('WHRtg_SF'),
    point('AhrRtg', 'uint16', { sf: 'AhrRtg_SF', units: 'AH' }),
    scaleFactor('AhrRtg_SF'),
    point('MaxChaRte', 'uint16', { sf: 'MaxChaRte_SF', units: 'W' }),
    scaleFactor('MaxChaRte_SF'),
    point('MaxDisChaRte', 'uint16', { sf: 'MaxDisChaRte_SF', units: 'W' }),
    scaleFactor('MaxDisChaRte_SF'),
    point('Pad', 'pad'),
  ],
});
