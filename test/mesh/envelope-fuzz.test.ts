import t from 'tap';
import fc from 'fast-check';
import { openEnvelope, sealEnvelope } from '../../agent/mesh/envelope.js';
import { harness } from './helpers.js';

/** Byte ranges of the `from` and `to` values in the wire form. */
function valueRange(text: string, field: string): [number, number] {
  const start = text.indexOf(`"${field}":"`) + field.length + 4;
  return [start, text.indexOf('"', start)];
}

function flip(bytes: Buffer, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

/** The only acceptable outcomes of one flipped bit, given where it landed. */
function allowed(reason: string, byte: number, from: [number, number], to: [number, number]): boolean {
  if (reason === 'bad_sig' || reason === 'malformed') return true;
  if (reason === 'unknown_peer') return byte >= from[0] && byte < from[1];
  if (reason === 'wrong_recipient') return byte >= to[0] && byte < to[1];
  return false;
}

t.test('every single-bit flip of a sealed envelope is rejected (exhaustive)', async (t) => {
  const h = harness();
  const sealed = sealEnvelope(
    { type: 'offer', to: h.bob.peerId, body: { wh: 1250, sen: 1575, slot: '2026-06-21T00:00Z', big: 1e21, neg: -3.25, ok: true, list: [null, 'é'] } },
    h.alice.signer,
    h.clock,
  );
  const text = sealed.bytes.toString('latin1');
  const from = valueRange(text, 'from');
  const to = valueRange(text, 'to');
  const outcomes: Record<string, number> = {};
  let bad = 0;
  for (let bit = 0; bit < sealed.bytes.length * 8; bit++) {
    const r = openEnvelope(flip(sealed.bytes, bit), h.ctx);
    const reason = r.ok ? 'ACCEPTED' : r.reason;
    outcomes[reason] = (outcomes[reason] ?? 0) + 1;
    if (!allowed(reason, bit >> 3, from, to)) {
      bad++;
      if (bad < 5) t.fail(`bit ${bit} (byte ${bit >> 3} ${JSON.stringify(text[bit >> 3])}) gave ${reason}`);
    }
  }
  t.equal(bad, 0, `outcomes: ${JSON.stringify(outcomes)}`);
  t.notOk('ACCEPTED' in outcomes);
  t.equal(h.replay.highWater(h.alice.peerId), undefined, 'nothing recorded');
  t.ok(openEnvelope(sealed.bytes, h.ctx).ok, 'the original still opens afterwards: the rejections changed no state');
});

t.test('property: random bit flips of random envelopes are never accepted', async (t) => {
  const h = harness();
  const body = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k)), fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 20 }), fc.boolean(), fc.constant(null)), { maxKeys: 6 });
  fc.assert(
    fc.property(body, fc.boolean(), fc.nat(), (b, addressed, pick) => {
      const sealed = sealEnvelope(addressed ? { type: 'offer', to: h.bob.peerId, body: b } : { type: 'offer', body: b }, h.alice.signer, h.clock);
      const bit = pick % (sealed.bytes.length * 8);
      const r = openEnvelope(flip(sealed.bytes, bit), h.ctx);
      const text = sealed.bytes.toString('latin1');
      return !r.ok && allowed(r.reason, bit >> 3, valueRange(text, 'from'), addressed ? valueRange(text, 'to') : [0, 0]);
    }),
    { numRuns: 1000 },
  );
  t.equal(h.replay.highWater(h.alice.peerId), undefined);
});

t.test('fuzz: openEnvelope never throws on arbitrary bytes, JSON or envelope-shaped junk', async (t) => {
  const h = harness();
  const check = (bytes: Buffer) => {
    const r = openEnvelope(bytes, h.ctx);
    return typeof r === 'object' && r.ok === false && typeof r.reason === 'string' && typeof r.detail === 'string';
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 9000 }), (a) => check(Buffer.from(a))), { numRuns: 500 });
  fc.assert(fc.property(fc.jsonValue(), (v) => check(Buffer.from(JSON.stringify(v) ?? 'null'))), { numRuns: 500 });
  const junk = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(1e400), fc.constant('x'.repeat(30)));
  const shaped = fc.record(
    {
      v: fc.oneof(fc.constant(1), junk),
      type: fc.oneof(fc.constant('offer'), junk),
      from: fc.oneof(fc.constant(h.alice.peerId), junk),
      to: fc.oneof(fc.constant(h.bob.peerId), junk),
      seq: fc.oneof(fc.integer(), fc.double(), junk),
      ts: fc.oneof(fc.constant(h.clock.now()), fc.integer(), junk),
      id: fc.oneof(fc.constant('AAAAAAAAAAAAAAAAAAAAAA'), junk),
      body: fc.oneof(fc.object(), junk),
      sig: fc.oneof(fc.constant('A'.repeat(86)), junk),
      extra: junk,
    },
    { requiredKeys: [] },
  );
  fc.assert(fc.property(shaped, (e) => check(Buffer.from(JSON.stringify(e)))), { numRuns: 1000 });
  // Raw text with the numeric and escape forms JSON.stringify would not produce.
  const raw = fc.array(fc.constantFrom('{', '}', '[', ']', ',', ':', '"v"', '1', '-0', '1e400', '"\\ud800"', '"\\u0000"', '"body"', '{}', ' ', '\uFEFF', 'null'), { maxLength: 40 });
  fc.assert(fc.property(raw, (parts) => check(Buffer.from(parts.join('')))), { numRuns: 1000 });
  t.equal(h.replay.highWater(h.alice.peerId), undefined, 'no junk reached the replay store');
  t.equal(h.rate.available(h.alice.peerId), 40, 'nor the rate limiter');
});
