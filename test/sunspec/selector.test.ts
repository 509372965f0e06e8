import t from 'tap';
import { decodeModel, encodeModel } from '../../agent/devices/sunspec/decode.js';
import { modelDef } from '../../agent/devices/sunspec/registry.js';
import {
  formatPointSelector, parsePointSelector, PointSelectorError, selectPointValue,
} from '../../agent/devices/sunspec/selector.js';

t.test('parses fixed-block and group selectors', async (t) => {
  t.strictSame(parsePointSelector('802:SoC'), { model: 802, point: 'SoC' });
  t.strictSame(parsePointSelector('124:InOutWRte_RvrtTms'), { model: 124, point: 'InOutWRte_RvrtTms' });
  t.strictSame(parsePointSelector(' 103:W '), { model: 103, point: 'W' });
  t.strictSame(parsePointSelector('160:2:DCW'), { model: 160, point: 'DCW', index: 2 });
  t.strictSame(parsePointSelector('160:1:ID'), { model: 160, point: 'ID', index: 1 }, 'the module ID is a data point');
  t.equal(formatPointSelector({ model: 160, point: 'DCW', index: 2 }), '160:2:DCW');
  t.equal(formatPointSelector({ model: 802, point: 'SoC' }), '802:SoC');
});

t.test('rejects bad selectors with a clear message', async (t) => {
  const rejects = (text: string, message: RegExp) => t.throws(() => parsePointSelector(text), { name: 'PointSelectorError', message }, text);
  rejects('W', /expected MODEL:POINT or MODEL:INDEX:POINT/);
  rejects('103:', /expected MODEL:POINT/);
  rejects('103:W:2', /expected MODEL:POINT/);
  rejects('160:-1:DCW', /expected MODEL:POINT/);
  rejects('abc:W', /expected MODEL:POINT/);
  rejects('999:W', /model 999 is not supported \(supported: 1, 101/);
  rejects('103:Watts', /model 103 has no point Watts/);
  rejects('103:w', /model 103 has no point w \(did you mean W\?\)/);
  rejects('103:L', /model 103 has no point L/);
  rejects('103:1:W', /model 103 has no repeating group/);
  rejects('160:DCW', /repeating group "module"; give a 1-based index, e.g. 160:1:DCW/);
  rejects('160:0:DCW', /1-based/);
  rejects('160:1:N', /repeating group "module" of model 160 has no point N/);
  t.ok(new PointSelectorError('x') instanceof Error);
});

t.test('selects values from a decoded model', async (t) => {
  const def = modelDef(160);
  if (!def) throw new Error('160 missing');
  const block = encodeModel(def, { DCW_SF: 0 }, [{ DCW: 100 }, { DCW: 200 }]);
  const decoded = decodeModel(def, block, 0, block[1] ?? 0);
  t.equal(selectPointValue(decoded, parsePointSelector('160:2:DCW')), 200);
  t.equal(selectPointValue(decoded, parsePointSelector('160:1:DCW')), 100);
  t.equal(selectPointValue(decoded, parsePointSelector('160:3:DCW')), undefined, 'no third tracker');
  t.equal(selectPointValue(decoded, parsePointSelector('160:N')), 2);
  t.throws(() => selectPointValue(decoded, parsePointSelector('802:SoC')), /does not apply to model 160/);
});
