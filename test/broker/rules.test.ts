/** Unit tests of the pure parts: the fixed-header scanner and the ACL/hygiene rules. */
import t from 'tap';
import fc from 'fast-check';
import {
  aedesOptions, checkConnect, FixedHeaderScanner, hubMayPublish, hubMaySubscribe, localMaySubscribe,
  neighbourMayReceive, neighbourMaySubscribe, ownerMayPublish, textProblem,
} from '../../broker/index.js';

const O = 'taaaaaaaaaaaaaaaaaaaaaa';
const A = 'tbbbbbbbbbbbbbbbbbbbbbb';
const B = 'tccccccccccccccccccccccc'.slice(0, 23);

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

t.test('scanner accepts a stream of legal packets however it is chunked', async (t) => {
  fc.assert(fc.property(
    fc.array(fc.record({ type: fc.integer({ min: 1, max: 14 }), len: fc.integer({ min: 0, max: 3000 }) }), { minLength: 1, maxLength: 20 }),
    fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 10 }),
    (packets, cuts) => {
      const bytes = Buffer.concat(packets.map((p) => Buffer.concat([Buffer.from([p.type << 4, ...varint(p.len)]), Buffer.alloc(p.len, 0xab)])));
      const scanner = new FixedHeaderScanner(4096);
      let offset = 0;
      let i = 0;
      while (offset < bytes.length) {
        const size = cuts[i++ % cuts.length]!;
        const v = scanner.feed(bytes.subarray(offset, offset + size));
        if (v) return false;
        offset += size;
      }
      return scanner.packets === packets.length;
    },
  ), { numRuns: 200 });
});

t.test('scanner flags an oversized remaining length as soon as the varint shows it, even split byte by byte', async (t) => {
  const header = Buffer.from([0x30, ...varint(150 * 1024 * 1024)]);
  const scanner = new FixedHeaderScanner(65536);
  const results = [...header].map((b) => scanner.feed(Buffer.from([b])));
  const first = results.findIndex((r) => r !== undefined);
  t.ok(first > 0 && first < header.length, `flagged at header byte ${first} of ${header.length}`);
  t.match(results[first], { reason: 'too_big', packetType: 3 });
  // exactly at the limit is fine, one more is not
  t.equal(new FixedHeaderScanner(65536).feed(Buffer.from([0x30, ...varint(65536)])), undefined);
  t.match(new FixedHeaderScanner(65536).feed(Buffer.from([0x30, ...varint(65537)])), { reason: 'too_big', remainingLength: 65537 });
  // a legal packet then an oversized one in the same chunk
  t.match(new FixedHeaderScanner(100).feed(Buffer.from([0xc0, 0x00, 0x30, ...varint(101)])), { reason: 'too_big' });
});

t.test('scanner flags a malformed varint and reserved packet types', async (t) => {
  t.match(new FixedHeaderScanner(1 << 28).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff])), { reason: 'malformed' });
  const big = new FixedHeaderScanner(Number.MAX_SAFE_INTEGER);
  t.match(big.feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01])), { reason: 'malformed' }, 'fifth length byte');
  t.match(new FixedHeaderScanner(100).feed(Buffer.from([0x00, 0x00])), { reason: 'malformed', packetType: 0 });
  t.match(new FixedHeaderScanner(100).feed(Buffer.from([0xf0, 0x00])), { reason: 'malformed', packetType: 15 });
});

t.test('text hygiene', async (t) => {
  t.equal(textProblem('tonari/v1/x/pub/offer'), undefined);
  t.equal(textProblem('grüße/日本/😀'), undefined, 'non-ASCII and astral characters are fine');
  t.match(textProblem('a\u0000b'), /U\+0000/);
  t.match(textProblem('a\u0007b'), /control/);
  t.match(textProblem('a\u007fb'), /control/);
  t.match(textProblem('a\u0085b'), /control/);
  t.match(textProblem('a\ufffdb'), /FFFD/);
  t.match(textProblem('a\ud800b'), /surrogate/);
  t.match(textProblem('a\udc00'), /surrogate/);
  t.match(textProblem('\uffff'), /noncharacter/);
});

t.test('neighbour subscriptions: own status, pub subtree, to/<self> subtree; nothing wider', async (t) => {
  const allowed = [
    `tonari/v1/${O}/status`, `tonari/v1/${O}/pub/#`, `tonari/v1/${O}/pub/+`, `tonari/v1/${O}/pub/offer`,
    `tonari/v1/${O}/to/${A}/#`, `tonari/v1/${O}/to/${A}/+`, `tonari/v1/${O}/to/${A}/order`,
  ];
  const denied = [
    '#', '+/#', '$SYS/#', 'tonari/#', 'tonari/v1/#', `tonari/v1/+/status`, `tonari/v1/${O}/#`, `tonari/v1/${O}/+`,
    `tonari/v1/${O}/+/#`, `tonari/v1/${O}/+/offer`, `tonari/v1/${O}/pub`, `tonari/v1/${O}/to/#`, `tonari/v1/${O}/to/+/#`,
    `tonari/v1/${O}/to/${B}/#`, `tonari/v1/${O}/to/${A}`, `tonari/v1/${B}/pub/#`, `tonari/v1/${O}/status/#`,
    `tonari/v1/${O}/pub/#/x`, `tonari/v1/${O}/pub/a+`, `$share/g/tonari/v1/${O}/pub/#`, '', `tonari/v1/${O}/statu+`,
  ];
  for (const f of allowed) t.ok(neighbourMaySubscribe(O, A, f), `allowed: ${f}`);
  for (const f of denied) t.notOk(neighbourMaySubscribe(O, A, f), `denied: ${f}`);
  t.ok(neighbourMayReceive(O, A, `tonari/v1/${O}/to/${A}/order`));
  t.notOk(neighbourMayReceive(O, A, `tonari/v1/${O}/to/${B}/order`));
  t.notOk(neighbourMayReceive(O, A, `tonari/v1/${B}/status`));
});

t.test('local tools may read the namespace only; the owner publishes under its own root only', async (t) => {
  t.ok(localMaySubscribe('tonari/v1/#'));
  t.ok(localMaySubscribe(`tonari/v1/+/pub/#`));
  for (const f of ['#', '$SYS/#', 'tonari/#', 'tonari/v1', 'other/#']) t.notOk(localMaySubscribe(f), `denied: ${f}`);
  t.ok(ownerMayPublish(O, `tonari/v1/${O}/status`));
  t.ok(ownerMayPublish(O, `tonari/v1/${O}/to/${A}/order`));
  for (const topic of [`tonari/v1/${A}/status`, `tonari/v1/${O}/pub/Bad`, `tonari/v1/${O}/other`, '$SYS/x', `tonari/v1/${O}/to/a\u0000/x`]) {
    t.notOk(ownerMayPublish(O, topic), `owner may not publish ${JSON.stringify(topic)}`);
  }
});

t.test('hub members publish under their own root and read others like a neighbour', async (t) => {
  t.ok(hubMayPublish(A, `tonari/v1/${A}/pub/offer`));
  t.notOk(hubMayPublish(A, `tonari/v1/${B}/pub/offer`));
  t.ok(hubMaySubscribe(A, 'tonari/v1/+/pub/#'));
  t.ok(hubMaySubscribe(A, `tonari/v1/+/to/${A}/#`));
  t.ok(hubMaySubscribe(A, `tonari/v1/${B}/status`));
  t.notOk(hubMaySubscribe(A, `tonari/v1/+/to/${B}/#`));
  t.notOk(hubMaySubscribe(A, 'tonari/v1/#'));
  t.notOk(hubMaySubscribe(A, 'tonari/v1/notapeer/status'));
});

t.test('CONNECT verdicts', async (t) => {
  t.same(checkConnect(A, true, undefined, A), { ok: true });
  t.match(checkConnect(B, true, undefined, A), { ok: false, returnCode: 5, reason: 'not_authorized' });
  t.match(checkConnect('', true, undefined, A), { ok: false, returnCode: 2 });
  t.match(checkConnect(A, true, 'user\u0000', A), { ok: false, returnCode: 4, reason: 'bad_username' });
  t.same(checkConnect('', true, undefined, undefined), { ok: true }, 'local, empty id, clean session');
  t.match(checkConnect('', false, undefined, undefined), { ok: false, returnCode: 2 }, 'MQTT-3.1.3-8');
  t.match(checkConnect(A, true, undefined, undefined), { ok: false, returnCode: 5 }, 'a local tool may not take a peer id');
  t.match(checkConnect('has space', true, undefined, undefined), { ok: false, returnCode: 2 });
  t.same(checkConnect('mosq-abc123', true, undefined, undefined), { ok: true });
});

t.test('aedes options are explicit and within the MQ-2 bounds', async (t) => {
  const o = aedesOptions('x');
  t.ok(o.maxTopicLevels! <= 16);
  t.ok(o.drainTimeout! >= 10_000 && o.drainTimeout! <= 30_000);
  t.ok(o.maxInflightInbound! > 0 && o.maxInflightInbound! <= 100);
  t.ok(o.connectTimeout! <= 10_000);
  t.equal(o.keepaliveLimit, 300);
  t.equal(o.queueLimit, 42);
});
