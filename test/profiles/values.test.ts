import fc from 'fast-check';
import t from 'tap';
import { encodeNumber, type NumericType, type WordOrder } from '../../agent/devices/codec.js';
import {
  decodePointValue, decodeProfileValues, encodePointValue, encodeProfileImage, loadBuiltinProfile,
  lookupFromBlocks, lookupFromImage, parseProfile, profileReadSpans, type Profile, type ProfilePoint,
} from '../../agent/devices/profiles/index.js';

const INTEGER_RANGES: Record<Exclude<NumericType, 'f32' | 'f64'>, [number, number]> = {
  u16: [0, 0xffff],
  s16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  s32: [-0x80000000, 0x7fffffff],
  // Beyond 2^50 a raw value times a scale is no longer exact in a double.
  u64: [0, 2 ** 50],
  s64: [-(2 ** 50), 2 ** 50],
};

function onePoint(point: Record<string, unknown>): ProfilePoint {
  return parseProfile({ name: 'p', title: 't', source: 's', points: { x: point } }).points[0]!;
}

const wordOrders = fc.constantFrom<WordOrder>('big', 'little');
const scales = fc.constantFrom(1, -1, 10, 0.1, -0.1, 0.01, 0.001, 2, 0.5);
const units = fc.constantFrom(undefined, 'W', 'kW', 'kWh', 'Wh', '%', 'Hz');

t.test('integer points: raw → value → raw is exact for every type, word order, scale and unit', async (t) => {
  const type = fc.constantFrom(...(Object.keys(INTEGER_RANGES) as (keyof typeof INTEGER_RANGES)[]));
  const arbitrary = type.chain((ty) => fc.record({
    type: fc.constant(ty),
    raw: fc.integer({ min: INTEGER_RANGES[ty][0], max: Math.min(INTEGER_RANGES[ty][1], 2 ** 31 - 1) })
      .chain((small) => fc.constantFrom(small, INTEGER_RANGES[ty][0], INTEGER_RANGES[ty][1])),
    wordOrder: wordOrders,
    scale: scales,
    unit: units,
  }));
  fc.assert(fc.property(arbitrary, ({ type, raw, wordOrder, scale, unit }) => {
    const point = onePoint({ address: 0, type, wordOrder, scale, ...(unit && { unit }) });
    const words = encodeNumber(raw, type, wordOrder);
    const value = decodePointValue(point, words);
    return value !== undefined && Number.isFinite(value) && encodePointValue(point, value).join() === words.join();
  }), { numRuns: 2000 });
});

t.test('float points: raw → value → raw is exact (f32 with any scale, f64 with power-of-two scales)', async (t) => {
  const f32 = fc.record({
    type: fc.constant<NumericType>('f32'),
    raw: fc.float({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
    scale: scales,
  });
  const f64 = fc.record({
    type: fc.constant<NumericType>('f64'),
    // Subnormal doubles lose bits when scaled, so they cannot round-trip.
    raw: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 }).filter((x) => x === 0 ? !Object.is(x, -0) : Math.abs(x) > 1e-290),
    scale: fc.constantFrom(1, -1, 2, 0.5, -0.25),
  });
  fc.assert(fc.property(fc.oneof(f32, f64), wordOrders, ({ type, raw, scale }, wordOrder) => {
    const point = onePoint({ address: 0, type, wordOrder, scale });
    const words = encodeNumber(raw, type, wordOrder);
    const value = decodePointValue(point, words);
    return value !== undefined && encodePointValue(point, value).join() === words.join();
  }), { numRuns: 2000 });
});

t.test('sentinels: undefined encodes the first sentinel and every sentinel decodes to undefined', async (t) => {
  const cases: [NumericType, (number | string)[]][] = [
    ['s16', [-1, 0x8000]],
    ['u16', [0xffff]],
    ['s32', [0x7fffffff, '-2147483648']],
    ['u32', [0xffffffff, 0]],
    ['u64', ['0xFFFFFFFFFFFFFFFF']],
    ['s64', ['0x8000000000000000']],
    ['f32', [0x7fc00000]],
  ];
  for (const wordOrder of ['big', 'little'] as const) {
    for (const [type, sentinel] of cases) {
      const point = onePoint({ address: 0, type, wordOrder, sentinel, scale: -0.1 });
      const words = encodePointValue(point, undefined);
      t.equal(decodePointValue(point, words), undefined, `${type} ${wordOrder} ${sentinel.join()}`);
      for (const value of sentinel) {
        const bits = typeof value === 'string' ? BigInt(value) : BigInt(value);
        const unsigned = BigInt.asUintN(point.size * 16, bits);
        const raw = encodeNumber(unsigned, point.size === 1 ? 'u16' : point.size === 2 ? 'u32' : 'u64', wordOrder);
        t.equal(decodePointValue(point, raw), undefined, `${type} sentinel ${value}`);
      }
    }
  }
  const s16 = onePoint({ address: 0, type: 's16', sentinel: 0x8000 });
  t.same(encodePointValue(s16, undefined), [0x8000], '0x8000 and -32768 are the same s16 sentinel');
  t.equal(decodePointValue(s16, [0x8001]), -32767, 'a neighbour of the sentinel is a value');
  const plain = onePoint({ address: 0, type: 's32', wordOrder: 'little' });
  t.same(encodePointValue(plain, undefined), [0, 0], 'undefined without a sentinel encodes 0');
});

t.test('NaN and infinities decode to undefined', async (t) => {
  const f32 = onePoint({ address: 0, type: 'f32' });
  t.equal(decodePointValue(f32, encodeNumber(Number.NaN, 'f32')), undefined);
  t.equal(decodePointValue(f32, encodeNumber(Number.POSITIVE_INFINITY, 'f32')), undefined);
  const f64 = onePoint({ address: 0, type: 'f64', wordOrder: 'little' });
  t.equal(decodePointValue(f64, encodeNumber(Number.NaN, 'f64', 'little')), undefined);
  t.equal(decodePointValue(f64, encodeNumber(2.5, 'f64', 'little')), 2.5);
});

t.test('units are converted to the canonical unit in both directions', async (t) => {
  const kwh = onePoint({ address: 0, type: 'u32', scale: 0.01, unit: 'kWh' });
  t.equal(kwh.canonicalUnit, 'Wh');
  t.equal(kwh.factor, 10);
  t.equal(decodePointValue(kwh, [0x0001, 0xe240]), 1_234_560);
  t.same(encodePointValue(kwh, 1_234_560), [0x0001, 0xe240]);
  const kw = onePoint({ address: 0, type: 's16', scale: -0.1, unit: 'kW' });
  t.equal(decodePointValue(kw, [0xfff6]), 1000, '-10 × -0.1 kW = +1000 W');
  t.equal(decodePointValue(onePoint({ address: 0, type: 's16', scale: -1 }), [0]), 0, 'no -0 from negative scales');
  t.throws(() => encodePointValue(onePoint({ address: 0, type: 'u16', unit: 'W' }), 70000), RangeError, 'values beyond the type are refused');
});

/** A random value for every point of a profile, as the point would decode it (or undefined). */
function valuesFor(profile: Profile) {
  return fc.tuple(...profile.points.map((point) => {
    const [min, max] = point.type === 'f32' || point.type === 'f64' ? [-1e6, 1e6] : INTEGER_RANGES[point.type];
    return fc.option(fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) }), { nil: undefined })
      .map((raw) => (raw === undefined ? undefined : decodePointValue(point, encodeNumber(raw, point.type, point.wordOrder))));
  })).map((list) => Object.fromEntries(profile.points.map((p, i) => [p.name, list[i]])));
}

t.test('built-in profiles: encodeProfileImage → decodeProfileValues round trip', async (t) => {
  for (const name of ['huawei-sun2000', 'sungrow-sh-rt']) {
    const profile = await loadBuiltinProfile(name);
    fc.assert(fc.property(valuesFor(profile), (values) => {
      const decoded = decodeProfileValues(profile, lookupFromImage(encodeProfileImage(profile, values)));
      return profile.points.every((p) => {
        const expected = values[p.name] ?? (p.sentinels.length > 0 ? undefined : 0);
        return decoded[p.name] === expected;
      });
    }), { numRuns: 300 });
  }
});

t.test('encodeProfileImage refuses values for points the profile does not have', async (t) => {
  const profile = await loadBuiltinProfile('sungrow-sh-rt');
  t.throws(() => encodeProfileImage(profile, { pvPwoer: 1 }), { message: 'profile sungrow-sh-rt has no point pvPwoer' });
});

t.test('profileReadSpans and lookupFromBlocks serve a block planner', async (t) => {
  const profile = parseProfile({
    name: 'spans', title: 't', source: 's', wordOrder: 'little',
    points: {
      pvPower: { address: 10, fc: 4, type: 'u32', unit: 'W' },
      batterySoc: { address: 12, fc: 4, type: 'u16', unit: '%' },
      setpoint: { address: 10, type: 'u16', unit: 'W', access: 'rw', max: 5000 },
    },
  });
  t.same(profileReadSpans(profile), [
    { key: 'pvPower', address: 10, size: 2, fc: 4 },
    { key: 'batterySoc', address: 12, size: 1, fc: 4 },
    { key: 'setpoint', address: 10, size: 1, fc: 3 },
  ]);
  const values = decodeProfileValues(profile, lookupFromBlocks([{ fc: 4, address: 9, words: [0, 0x86a0, 0x0001, 55] }]));
  t.same(values, { pvPower: 100_000, batterySoc: 55, setpoint: undefined });
  const partial = decodeProfileValues(profile, lookupFromBlocks([{ fc: 4, address: 11, words: [1, 2] }]));
  t.same(partial, { pvPower: undefined, batterySoc: 2, setpoint: undefined }, 'a point straddling a block edge is not decoded');
});
