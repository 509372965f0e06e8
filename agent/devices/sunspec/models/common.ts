/** Model 1 (common): identifies a device; each model 1 in a chain starts a new logical device. */
import type { ModelDef } from '../types.js';
import { defineModel, point } from './define.js';

export const COMMON: ModelDef = defineModel({
  id: 1,
  name: 'common',
  body: [
    point('Mn', 'string', { size: 16, mandatory: true }),
    point('Md', 'string', { size: 16, mandatory: true }),
    point('Opt', 'string', { size: 8 }),
    point('Vr', 'string', { size: 8 }),
    point('SN', 'string', { size: 16, mandatory: true }),
    point('DA', 'uint16', { access: 'RW' }),
    // SolarEdge and Fronius report L=65, i.e. without this pad.
    point('Pad', 'pad'),
  ],
});
