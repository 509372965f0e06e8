/** decodeModel(encodeModel(values)) == values for every supported model, with random values and SFs. */
import t from 'tap';
import fc from 'fast-check';
import { applyScale } from '../../agent/devices/codec.js';
import { decodeModel, encodeModel, type PointValues } from '../../agent/devices/sunspec/decode.js';
import { isScalable, type PointValue } from '../../agent/devices/sunspec/points.js';
import { modelDef, SUPPORTED_MODELS } from '../../agent/devices/sunspec/registry.js';
import type { ModelDef, PointDef } from '../../agent/devices/sunspec/types.js';
import { validRaw } from './arbitraries.js';

const bodyPoints = (def: ModelDef) => def.points.filter((p) => p.offset >= 2);

/** Random raw values for points (some not implemented) and SF exponents in −3..3. */
function rawRecord(points: readonly PointDef[], exclude: ReadonlySet<string>): fc.Arbitrary<PointValues> {
  const entries = points.filter((p) => !exclude.has(p.name)).map((p) => [
    p.name,
    p.type === 'sunssf' ? fc.integer({ min: -3, max: 3 }) : fc.option(validRaw(p.type, p.size), { nil: undefined, freq: 4 }),
  ] as const);
  return fc.record(Object.fromEntries(entries) as Record<string, fc.Arbitrary<PointValue>>);
}

/** Engineering values as a reader should see them: raw × 10^SF. */
function engineering(points: readonly PointDef[], raw: PointValues, scope: PointValues): PointValues {
  const values: PointValues = {};
  for (const p of points) {
    if (!(p.name in raw)) continue;
    const value = raw[p.name];
    const sf = typeof p.sf === 'string' ? scope[p.sf] : p.sf;
    values[p.name] = typeof value === 'number' && typeof sf === 'number' && isScalable(p.type) ? applyScale(value, sf) : value;
  }
  return values;
}

function modelCase(def: ModelDef) {
  const countPoint = def.group?.countPoint;
  const fixed = rawRecord(bodyPoints(def), new Set(countPoint ? [countPoint] : []));
  const groups = def.group ? fc.array(rawRecord(def.group.points, new Set()), { maxLength: 4 }) : fc.constant([]);
  return fc.tuple(fixed, groups).map(([fixedRaw, groupRaws]) => {
    const values = engineering(bodyPoints(def), fixedRaw, fixedRaw);
    const groupValues = groupRaws.map((g) => engineering(def.group?.points ?? [], g, { ...fixedRaw, ...g }));
    return { values, groups: groupValues };
  });
}

t.test('every supported model round-trips through its register image', async (t) => {
  for (const id of SUPPORTED_MODELS) {
    const def = modelDef(id);
    if (!def) throw new Error(`model ${id} missing`);
    fc.assert(fc.property(modelCase(def), ({ values, groups }) => {
      const block = encodeModel(def, values, groups);
      const length = def.length + groups.length * (def.group?.size ?? 0);
      const decoded = decodeModel(def, block, 0, length);
      const expectedValues = { ...values };
      if (def.group?.countPoint) expectedValues[def.group.countPoint] = groups.length;
      t.strictSame(decoded, { id, length, values: expectedValues, groups }, `model ${id}`);
      return block.length === 2 + length && block[0] === id && block[1] === length;
    }), { numRuns: 50 });
  }
});

t.test('a shorter reported L drops exactly the points that no longer fit', async (t) => {
  for (const id of SUPPORTED_MODELS) {
    const def = modelDef(id);
    if (!def) throw new Error(`model ${id} missing`);
    const cases = fc.tuple(modelCase(def), fc.integer({ min: 0, max: def.length }));
    fc.assert(fc.property(cases, ([{ values }, length]) => {
      const decoded = decodeModel(def, encodeModel(def, values, [], { length }), 0, length);
      const inside = (name: string | number | undefined) => {
        const p = def.points.find((q) => q.name === name);
        return p !== undefined && p.offset + p.size <= 2 + length;
      };
      for (const p of bodyPoints(def)) {
        // A scaled point also needs its SF inside L.
        const readable = inside(p.name) && (typeof p.sf !== 'string' || inside(p.sf));
        const expected = readable ? (values[p.name] ?? (p.name === def.group?.countPoint ? 0 : undefined)) : undefined;
        if (!Object.is(decoded.values[p.name], expected)) return false;
      }
      return decoded.groups.length === 0;
    }), { numRuns: 30 });
  }
  t.pass('all models');
});
