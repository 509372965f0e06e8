/** Model 124 (basic storage controls): battery charge/discharge limits and state of charge. */
import type { ModelDef } from '../types.js';
import { defineModel, point, scaleFactor } from './define.js';

const mandatory = true;
const access = 'RW';

export const STORAGE: ModelDef = defineModel({
  id: 124,
  name: 'storage_basic',
  body: [
    point('WChaMax', 'uint16', { sf: 'WChaMax_SF', units: 'W', mandatory, access }),
    point('WChaGra', 'uint16', { sf: 'WChaDisChaGra_SF', units: '% WChaMax/sec', mandatory, access }),
    point('WDisChaGra', 'uint16', { sf: 'WChaDisChaGra_SF', units: '% WChaMax/sec', mandatory, access }),
    point('StorCtl_Mod', 'bitfield16', { mandatory, access }),
    point('VAChaMax', 'uint16', { sf: 'VAChaMax_SF', units: 'VA', access }),
    point('MinRsvPct', 'uint16', { sf: 'MinRsvPct_SF', units: '% WChaMax', access }),
    point('ChaState', 'uint16', { sf: 'ChaState_SF', units: '% AhrRtg' }),
    point('StorAval', 'uint16', { sf: 'StorAval_SF', units: 'AH' }),
    point('InBatV', 'uint16', { sf: 'InBatV_SF', units: 'V' }),
    point('ChaSt', 'enum16'),
    // Negative OutWRte means charging (used for forced grid charging).
    point('OutWRte', 'int16', { sf: 'InOutWRte_SF', units: '% WDisChaMax', access }),
    // The official definition spells this unit with a leading space.
    point('InWRte', 'int16', { sf: 'InOutWRte_SF', units: ' % WChaMax', access }),
    point('InOutWRte_WinTms', 'uint16', { units: 'Secs', access }),
    point('InOutWRte_RvrtTms', 'uint16', { units: 'Secs', access }),
    point('InOutWRte_RmpTms', 'uint16', { units: 'Secs', access }),
    point('ChaGriSet', 'enum16', { access }),
    scaleFactor('WChaMax_SF', mandatory),
    scaleFactor('WChaDisChaGra_SF', mandatory),
    scaleFactor('VAChaMax_SF'),
    scaleFactor('MinRsvPct_SF'),
    scaleFactor('ChaState_SF'),
    scaleFactor('StorAval_SF'),
    scaleFactor('InBatV_SF'),
    scaleFactor('InOutWRte_SF'),
  ],
});
