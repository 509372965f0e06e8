import t from 'tap';
import { modelDef, SUPPORTED_MODELS } from '../../agent/devices/sunspec/registry.js';
import type { ModelDef, PointDef } from '../../agent/devices/sunspec/types.js';

function def(id: number): ModelDef {
  const model = modelDef(id);
  if (!model) throw new Error(`model ${id} missing`);
  return model;
}

function pointOf(id: number, name: string): PointDef {
  const found = def(id).points.find((p) => p.name === name);
  if (!found) throw new Error(`${id}:${name} missing`);
  return found;
}

t.test('registry lists exactly the supported models', async (t) => {
  t.same(SUPPORTED_MODELS, [1, 101, 102, 103, 111, 112, 113, 120, 124, 160, 201, 202, 203, 204, 211, 212, 213, 214, 802]);
  for (const id of SUPPORTED_MODELS) t.equal(def(id).id, id);
  t.equal(modelDef(701), undefined);
});

t.test('spec lengths (devices.md §b.3)', async (t) => {
  const lengths: Record<number, number> = {
    1: 66, 101: 50, 102: 50, 103: 50, 111: 60, 112: 60, 113: 60, 120: 26, 124: 24, 160: 8,
    201: 105, 202: 105, 203: 105, 204: 105, 211: 124, 212: 124, 213: 124, 214: 124, 802: 62,
  };
  for (const id of SUPPORTED_MODELS) t.equal(def(id).length, lengths[id], `model ${id}`);
});

t.test('offsets of key points (devices.md §b.4)', async (t) => {
  const offsets: [number, string, number][] = [
    [1, 'Mn', 2], [1, 'Md', 18], [1, 'SN', 50], [1, 'DA', 66], [1, 'Pad', 67],
    [103, 'W', 14], [103, 'W_SF', 15], [103, 'WH', 24], [103, 'WH_SF', 26], [103, 'DCW', 31], [103, 'St', 38], [103, 'EvtVnd4', 50],
    [101, 'W', 14], [102, 'WH', 24],
    [113, 'W', 22], [113, 'WH', 32], [113, 'St', 48], [113, 'Evt1', 50], [111, 'PhVphA', 16],
    [120, 'WRtg', 3], [120, 'MaxDisChaRte_SF', 26],
    [124, 'StorCtl_Mod', 5], [124, 'ChaState', 8], [124, 'OutWRte', 12], [124, 'InWRte', 13],
    [124, 'InOutWRte_RvrtTms', 15], [124, 'ChaState_SF', 22], [124, 'InOutWRte_SF', 25],
    [160, 'N', 8], [160, 'TmsPer', 9],
    [203, 'W', 18], [203, 'W_SF', 22], [203, 'TotWhExp', 38], [203, 'TotWhImp', 46], [203, 'TotWh_SF', 54],
    [203, 'TotVAh_SF', 71], [203, 'TotVArh_SF', 104], [203, 'Evt', 105],
    [201, 'W', 18], [204, 'TotWhImp', 46],
    [213, 'Hz', 26], [213, 'W', 28], [213, 'VA', 36], [213, 'VAR', 44], [213, 'PF', 52],
    [213, 'TotWhExp', 60], [213, 'TotWhImp', 68], [213, 'Evt', 124],
    [802, 'SoC', 11], [802, 'W', 47], [802, 'SoCRsvMin', 10], [802, 'SoC_SF', 56], [802, 'W_SF', 63],
  ];
  for (const [id, name, offset] of offsets) t.equal(pointOf(id, name).offset, offset, `${id}:${name}`);
});

t.test('model 160 repeating group', async (t) => {
  const group = def(160).group;
  t.ok(group);
  t.equal(group?.name, 'module');
  t.equal(group?.offset, 10);
  t.equal(group?.size, 20);
  t.equal(group?.countPoint, 'N');
  const dcw = group?.points.find((p) => p.name === 'DCW');
  t.same(dcw, { name: 'DCW', offset: 11, type: 'uint16', size: 1, sf: 'DCW_SF', units: 'W', mandatory: false, access: 'R' });
  t.equal(group?.points.find((p) => p.name === 'DCWH')?.type, 'acc32');
  t.equal(def(103).group, undefined);
});

t.test('point attributes', async (t) => {
  t.same(pointOf(103, 'WH'), { name: 'WH', offset: 24, type: 'acc32', size: 2, sf: 'WH_SF', units: 'Wh', mandatory: true, access: 'R' });
  t.same(pointOf(1, 'Mn'), { name: 'Mn', offset: 2, type: 'string', size: 16, mandatory: true, access: 'R' });
  t.equal(pointOf(1, 'DA').access, 'RW');
  t.equal(pointOf(124, 'StorCtl_Mod').type, 'bitfield16');
  t.equal(pointOf(124, 'InOutWRte_RvrtTms').access, 'RW');
  t.equal(pointOf(802, 'SoCRsvMin').access, 'RW');
  t.equal(pointOf(802, 'SoC').units, '%WHRtg');
  t.equal(pointOf(213, 'W').type, 'float32');
  t.equal(pointOf(213, 'W').sf, undefined);
  // The per-phase mandatory flags follow the official definitions, oddities included.
  t.equal(pointOf(202, 'AphA').mandatory, false);
  t.equal(pointOf(202, 'AphC').mandatory, true);
  t.equal(pointOf(101, 'AphB').mandatory, false);
  t.equal(pointOf(103, 'AphC').mandatory, true);
  t.equal(pointOf(201, 'PPVphAB').offset, 12, '201 names line voltages PPVph…');
  t.equal(pointOf(203, 'PhVphAB').offset, 12, '202–204 name them PhVph…');
  t.equal(pointOf(213, 'TotVArhImpQ1phA').offset, 94, 'float meters spell the phase suffix "phA"');
});

t.test('points tile each model without gaps or overlaps', async (t) => {
  for (const id of SUPPORTED_MODELS) {
    const model = def(id);
    let next = 0;
    for (const p of model.points) {
      t.equal(p.offset, next, `${id}:${p.name}`);
      next = p.offset + p.size;
    }
    t.equal(next, model.length + 2, `model ${id} ends at 2+L`);
  }
});
