import t from 'tap';
import fc from 'fast-check';
import { decodePoint, encodePoint, TYPE_SIZE, type PointShape, type PointValue } from '../../agent/devices/sunspec/points.js';
import type { SunSpecType } from '../../agent/devices/sunspec/types.js';
import { NUMERIC_TYPES, text, validRaw } from './arbitraries.js';

const shape = (type: SunSpecType, size?: number): PointShape =>
  ({ type, size: size ?? (type === 'string' ? 8 : TYPE_SIZE[type]) });

const roundTrip = (p: PointShape, value: PointValue) => decodePoint(p, encodePoint(p, value), 0);

t.test('numeric values round-trip through registers', async (t) => {
  for (const type of NUMERIC_TYPES) {
    const p = shape(type);
    fc.assert(fc.property(validRaw(type, p.size), (v) => {
      const registers = encodePoint(p, v);
      return registers.length === p.size && registers.every((w) => w >= 0 && w <= 0xffff) && Object.is(roundTrip(p, v), v);
    }), { numRuns: 300 });
  }
  t.pass('all numeric types round-trip');
});

t.test('strings round-trip, trimmed of trailing NULs and spaces', async (t) => {
  const sizedText = fc.integer({ min: 1, max: 16 }).chain((size) => fc.tuple(fc.constant(size), text(size)));
  fc.assert(fc.property(sizedText, ([size, value]) => {
    const p = shape('string', size);
    const registers = encodePoint(p, value);
    return registers.length === size && decodePoint(p, registers, 0) === value;
  }));
  const p = shape('string', 4);
  t.equal(decodePoint(p, [0x4142, 0x4300, 0, 0], 0), 'ABC', 'NUL padding removed');
  t.equal(decodePoint(p, [0x4142, 0x2020, 0x2020, 0x2020], 0), 'AB', 'space padding removed');
  t.equal(decodePoint(p, [0x0041, 0x4243, 0, 0], 0), undefined, 'first character NUL = not implemented');
  t.equal(decodePoint(p, [0x2020, 0x2020, 0x2020, 0x2020], 0), undefined, 'blank string = not set');
  t.throws(() => encodePoint(p, 'ABCDEFGHI'), RangeError, 'longer than 2 characters per register');
});

t.test('eui48 and ipv6addr round-trip as text', async (t) => {
  const eui48 = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 })
    .filter((bytes) => !bytes.every((b) => b === 0) && !bytes.every((b) => b === 255))
    .map((bytes) => bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':'));
  fc.assert(fc.property(eui48, (mac) => roundTrip(shape('eui48'), mac) === mac));
  t.same(encodePoint(shape('eui48'), '00:11:22:AA:BB:CC'), [0x0000, 0x0011, 0x22aa, 0xbbcc]);

  const ipv6 = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
    .filter((groups) => groups.some((g) => g !== 0))
    .map((groups) => groups.map((g) => g.toString(16).padStart(4, '0')).join(':'));
  fc.assert(fc.property(ipv6, (address) => roundTrip(shape('ipv6addr'), address) === address));
  t.same(encodePoint(shape('ipv6addr'), 'fe80::1'), [0xfe80, 0, 0, 0, 0, 0, 0, 1], ':: expands to zero groups');
  t.throws(() => encodePoint(shape('ipv6addr'), '1::2::3'), RangeError);
});

t.test('undefined encodes as the NI sentinel and decodes back to undefined', async (t) => {
  const expected: [SunSpecType, number[]][] = [
    ['int16', [0x8000]], ['sunssf', [0x8000]], ['uint16', [0xffff]], ['enum16', [0xffff]],
    ['bitfield16', [0xffff]], ['count', [0xffff]], ['acc16', [0x0000]], ['pad', [0x0000]],
    ['int32', [0x8000, 0x0000]], ['uint32', [0xffff, 0xffff]], ['enum32', [0xffff, 0xffff]],
    ['bitfield32', [0xffff, 0xffff]], ['acc32', [0x0000, 0x0000]], ['ipaddr', [0x0000, 0x0000]],
    ['float32', [0x7fc0, 0x0000]],
    ['int64', [0x8000, 0, 0, 0]], ['uint64', [0xffff, 0xffff, 0xffff, 0xffff]], ['acc64', [0, 0, 0, 0]],
    ['float64', [0x7ff8, 0, 0, 0]],
    ['string', [0, 0, 0, 0, 0, 0, 0, 0]], ['eui48', [0xffff, 0xffff, 0xffff, 0xffff]],
    ['ipv6addr', [0, 0, 0, 0, 0, 0, 0, 0]],
  ];
  t.equal(expected.length, Object.keys(TYPE_SIZE).length + 1, 'every type is covered');
  for (const [type, registers] of expected) {
    t.same(encodePoint(shape(type), undefined), registers, `${type} sentinel`);
    t.equal(decodePoint(shape(type), registers, 0), undefined, `${type} sentinel decodes to undefined`);
  }
});

t.test('other not-implemented and invalid raw values decode to undefined, never 0', async (t) => {
  const cases: [SunSpecType, number[]][] = [
    ['acc16', [0xffff]],
    ['acc32', [0xffff, 0xffff]],
    ['acc64', [0xffff, 0xffff, 0xffff, 0xffff]],
    ['sunssf', [11]],
    ['sunssf', [0xfff5]], // -11
    ['float32', [0x7f80, 0x0001]], // signalling NaN
    ['float32', [0xffc0, 0x0000]], // negative NaN
    ['float32', [0x7f80, 0x0000]], // +Inf: no real reading
    ['float64', [0xfff8, 0, 0, 0]],
    ['eui48', [0, 0, 0, 0]],
  ];
  for (const [type, registers] of cases) t.equal(decodePoint(shape(type), registers, 0), undefined, `${type} ${registers.join(',')}`);
  t.equal(decodePoint(shape('sunssf'), [10], 0), 10, 'SF 10 is still valid');
  t.equal(decodePoint(shape('sunssf'), [0xfff6], 0), -10, 'SF -10 is still valid');
  t.equal(decodePoint(shape('pad'), [0x0067], 0), undefined, 'pad junk is ignored');
  t.equal(decodePoint(shape('int16'), [0x8001], 0), -32767, 'one above the sentinel is a value');
  t.equal(decodePoint(shape('acc32'), [0x0000, 0x0001], 0), 1);
  t.equal(decodePoint(shape('uint64'), [0, 0, 0x0001, 0x0000], 0), 65536);
});

t.test('decodePoint reads at an offset and refuses to read past the block', async (t) => {
  t.equal(decodePoint(shape('int32'), [9, 0xffff, 0xfffe, 9], 1), -2);
  t.throws(() => decodePoint(shape('uint32'), [1, 2, 3], 2), RangeError);
});

t.test('values that do not fit are rejected', async (t) => {
  t.throws(() => encodePoint(shape('int16'), 40000), RangeError);
  t.throws(() => encodePoint(shape('uint16'), -1), RangeError);
  t.throws(() => encodePoint(shape('uint32'), 1.5), RangeError);
  t.throws(() => encodePoint(shape('uint64'), 2 ** 64), RangeError);
  t.throws(() => encodePoint(shape('int64'), -(2 ** 63) * 2), RangeError);
  t.throws(() => encodePoint(shape('int16'), 'text'), TypeError);
  t.throws(() => encodePoint(shape('string', 2), 42), TypeError);
});
