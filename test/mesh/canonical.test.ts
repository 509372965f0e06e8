import t from 'tap';
import fc from 'fast-check';
import { CanonicalError, canonicalBytes, canonicalJson } from '../../agent/mesh/canonical.js';

t.test('known answers (RFC 8785 §3.2.2 and §3.2.3 examples)', async (t) => {
  t.equal(canonicalJson({ b: 1, a: [true, false, null], c: { z: 'x', y: {} } }), '{"a":[true,false,null],"b":1,"c":{"y":{},"z":"x"}}');
  // numbers: ECMAScript Number-to-string
  const numbers: Array<[number, string]> = [
    [0, '0'], [-0, '0'], [1, '1'], [-1.5, '-1.5'], [4.5, '4.5'], [0.002, '0.002'], [0.000001, '0.000001'], [1e-7, '1e-7'],
    [1e21, '1e+21'], [1e30, '1e+30'], [333333333.33333329, '333333333.3333333'], [9007199254740991, '9007199254740991'],
    [5e-324, '5e-324'], [1.7976931348623157e308, '1.7976931348623157e+308'],
  ];
  for (const [n, text] of numbers) t.equal(canonicalJson(n), text, `number ${text}`);
  // strings: the RFC's escaping example
  t.equal(canonicalJson('\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/'), '"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"');
  // key order by UTF-16 code units
  const keys = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
  t.equal(
    canonicalJson(keys),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    'sorted by UTF-16 code units: the surrogate pair sorts before U+FB33',
  );
  t.same(canonicalBytes({ a: 'é' }), Buffer.from('{"a":"é"}', 'utf8'));
});

t.test('refuses what has no canonical JSON form', async (t) => {
  const bad: unknown[] = [NaN, Infinity, -Infinity, undefined, 10n, () => 1, Symbol('s'), new Date(0), new Map(), '\ud800', 'a\udc00b', { x: undefined }, [1, , 3], { n: { m: NaN } }];
  for (const value of bad) t.throws(() => canonicalJson(value), CanonicalError);
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = [deep];
  t.throws(() => canonicalJson(deep), CanonicalError, 'nesting is bounded');
  t.equal(canonicalJson(Object.assign(Object.create(null) as object, { b: 1, a: 2 })), '{"a":2,"b":1}', 'null-prototype objects are plain');
});

const json = fc.jsonValue({ maxDepth: 4 });

function shuffleKeys(value: unknown, pick: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, pick));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, shuffleKeys(v, pick)] as const);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = pick() % (i + 1);
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

t.test('property: key order does not matter', async (t) => {
  fc.assert(fc.property(json, fc.array(fc.nat(), { minLength: 1 }), (value, picks) => {
    let i = 0;
    const shuffled = shuffleKeys(value, () => picks[i++ % picks.length]!);
    return canonicalJson(shuffled) === canonicalJson(value);
  }));
  t.pass('held for all generated values');
});

t.test('property: round trip through JSON.parse is a fixed point and equals JSON data', async (t) => {
  fc.assert(fc.property(json, (value) => {
    const text = canonicalJson(value);
    if (canonicalJson(JSON.parse(text)) !== text) return false;
    // Same data as the ordinary serialisation, whitespace and key order aside.
    return canonicalJson(JSON.parse(JSON.stringify(value))) === text && !/\s(?=(?:[^"\\]|\\.|"(?:[^"\\]|\\.)*")*$)/.test(text);
  }));
  t.pass('held for all generated values');
});
