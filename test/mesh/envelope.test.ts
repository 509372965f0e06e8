import t from 'tap';
import { canonicalJson } from '../../agent/mesh/canonical.js';
import {
  EnvelopeError,
  checkTopic,
  encodeEnvelope,
  openEnvelope,
  sealEnvelope,
  signEnvelope,
  signingBytes,
} from '../../agent/mesh/envelope.js';
import type { Envelope } from '../../agent/mesh/envelope-schema.js';
import { RateLimiter } from '../../agent/mesh/rate-limit.js';
import { REJECT_REASONS } from '../../agent/mesh/rejections.js';
import { directTopic, publicTopic, statusTopic } from '../../agent/mesh/topics.js';
import { harness } from './helpers.js';

t.test('seal then open: accepted, exactly what was sent', async (t) => {
  const h = harness();
  const sealed = sealEnvelope({ type: 'offer', to: h.bob.peerId, body: { wh: 500, sen: 1500, note: 'surplus' } }, h.alice.signer, h.clock);
  t.equal(sealed.envelope.v, 1);
  t.equal(sealed.envelope.from, h.alice.peerId);
  t.equal(sealed.envelope.seq, 1);
  t.equal(sealed.envelope.ts, h.clock.now());
  t.match(sealed.envelope.id, /^[A-Za-z0-9_-]{22}$/);
  t.equal(sealed.bytes.toString('utf8'), canonicalJson(sealed.envelope), 'wire form is canonical JSON');
  const opened = openEnvelope(sealed.bytes, { ...h.ctx, topic: directTopic(h.alice.peerId, h.bob.peerId, 'offer') });
  t.ok(opened.ok);
  if (opened.ok) {
    t.same(opened.envelope, sealed.envelope);
    t.equal(opened.dirty, false, 'an in-memory store is never dirty');
  }
  const pub = sealEnvelope({ type: 'order', body: {} }, h.alice.signer, h.clock);
  t.notOk('to' in pub.envelope, 'no recipient field on public messages');
  t.ok(openEnvelope(pub.bytes, { ...h.ctx, topic: publicTopic(h.alice.peerId, 'order') }).ok);
  t.equal(h.rejections.snapshot().total, 0);
  t.equal(h.replay.highWater(h.alice.peerId), 2);
});

t.test('sealing refuses what no peer would accept', async (t) => {
  const h = harness();
  t.throws(() => sealEnvelope({ type: 'Offer', body: {} }, h.alice.signer, h.clock), EnvelopeError);
  t.throws(() => sealEnvelope({ type: 'offer', to: 'nobody', body: {} }, h.alice.signer, h.clock), EnvelopeError);
  t.throws(() => sealEnvelope({ type: 'offer', body: { x: NaN } }, h.alice.signer, h.clock), EnvelopeError);
  t.throws(() => sealEnvelope({ type: 'offer', body: { x: 'y'.repeat(2000) } }, h.alice.signer, h.clock), EnvelopeError);
  t.throws(() => sealEnvelope({ type: 'offer', body: { a: 'y'.repeat(1000), b: 'y'.repeat(1000), c: 'y'.repeat(1000), d: 'y'.repeat(1000), e: 'y'.repeat(1000), f: 'y'.repeat(1000), g: 'y'.repeat(1000), h: 'y'.repeat(1000), i: 'y'.repeat(1000) } }, h.alice.signer, h.clock), /exceeds 8192/);
  t.throws(() => sealEnvelope({ type: 'offer', body: {} }, { ...h.alice.signer, peerId: h.bob.peerId }, h.clock), /does not hold the key/);
  t.throws(() => sealEnvelope({ type: 'offer', body: {} }, { ...h.alice.signer, nextSeq: () => 0 }, h.clock), /sequence/);
});

/** Re-signs a modified envelope with alice's key, so only the intended check can fail. */
function resign(h: ReturnType<typeof harness>, envelope: Envelope, change: (e: Record<string, unknown>) => void, key = h.alice.privateKey): Buffer {
  const { sig: _sig, ...unsigned } = envelope;
  const copy = structuredClone(unsigned) as Record<string, unknown>;
  change(copy);
  const signed = signEnvelope(copy as unknown as Envelope, key);
  return Buffer.from(canonicalJson(signed), 'utf8');
}

t.test('every rejection reason, from a crafted message, counted by reason and peer', async (t) => {
  const h = harness();
  const base = sealEnvelope({ type: 'offer', to: h.bob.peerId, body: { wh: 1 } }, h.alice.signer, h.clock).envelope;
  const fresh = (change: (e: Record<string, unknown>) => void = () => undefined) => resign(h, base, (e) => { e.seq = (e.seq as number) + Math.floor(Math.random() * 1e9) + 1; e.id = Buffer.alloc(16, Math.floor(Math.random() * 256)).toString('base64url'); change(e); });

  const cases: Array<{ reason: string; bytes: Buffer; topic?: string; rate?: boolean }> = [
    { reason: 'too_big', bytes: Buffer.alloc(8193, 0x20) },
    { reason: 'malformed', bytes: Buffer.from('{"v":1') },
    { reason: 'malformed', bytes: fresh((e) => { e.v = 2; }) },
    { reason: 'malformed', bytes: fresh((e) => { e.extra = 1; }) },
    { reason: 'malformed', bytes: fresh((e) => { e.seq = 1.5; }) },
    { reason: 'malformed', bytes: Buffer.from(encodeEnvelope(base).toString().replace('{', '{ ')) },
    { reason: 'wrong_recipient', bytes: fresh((e) => { e.to = h.alice.peerId; }) },
    { reason: 'acl', bytes: fresh(), topic: directTopic(h.mallory.peerId, h.bob.peerId, 'offer') },
    { reason: 'unknown_peer', bytes: resign(h, base, (e) => { e.from = h.mallory.peerId; }, h.mallory.privateKey) },
    { reason: 'bad_sig', bytes: Buffer.from(fresh().toString().replace(/"sig":"[^"]+"/, `"sig":"${base.sig}"`)) },
    { reason: 'stale', bytes: fresh((e) => { e.ts = h.clock.now() - 121_000; }) },
    { reason: 'replay', bytes: encodeEnvelope(base) },
    { reason: 'rate', bytes: fresh(), rate: true },
  ];
  // the replay case needs `base` accepted once first
  t.ok(openEnvelope(encodeEnvelope(base), h.ctx).ok);
  const counted: Record<string, number> = {};
  for (const c of cases) {
    const bytes = c.bytes;
    const rate = c.rate ? new RateLimiter(h.clock, { ratePerSecond: 1, burst: 1 }) : h.rate;
    if (c.rate) rate.take(h.alice.peerId);
    const result = openEnvelope(bytes, { ...h.ctx, rate, ...(c.topic ? { topic: c.topic } : {}) });
    t.equal(result.ok ? 'accepted' : result.reason, c.reason, `${c.reason}${result.ok ? '' : `: ${result.detail}`}`);
    counted[c.reason] = (counted[c.reason] ?? 0) + 1;
  }
  const snap = h.rejections.snapshot();
  t.equal(snap.total, cases.length);
  for (const reason of REJECT_REASONS) t.equal(snap.byReason[reason], counted[reason] ?? 0, `counted ${reason}`);
  t.same(snap.byPeer[h.alice.peerId], { stale: 1, replay: 1, rate: 1 }, 'only verified senders are charged');
  t.equal(h.replay.highWater(h.alice.peerId), base.seq, 'no rejected message moved the replay state');
});

t.test('a link source is charged for everything it delivers', async (t) => {
  const h = harness();
  const result = openEnvelope(Buffer.from('nope'), { ...h.ctx, source: h.alice.peerId });
  t.same(result, { ok: false, reason: 'malformed', detail: 'not JSON', peer: h.alice.peerId });
  t.same(h.rejections.snapshot().byPeer, { [h.alice.peerId]: { malformed: 1 } });
});

t.test('timestamp window is ±120 s inclusive by default, configurable', async (t) => {
  const h = harness();
  const at = (delta: number, windowMs?: number) => {
    const e = sealEnvelope({ type: 'offer', body: {} }, h.alice.signer, h.clock).envelope;
    const bytes = resign(h, e, (x) => { x.ts = h.clock.now() + delta; });
    const r = openEnvelope(bytes, { ...h.ctx, ...(windowMs ? { timeWindowMs: windowMs } : {}) });
    return r.ok ? 'ok' : r.reason;
  };
  t.equal(at(120_000), 'ok');
  t.equal(at(-120_000), 'ok');
  t.equal(at(121_000), 'stale');
  t.equal(at(-121_000), 'stale');
  t.equal(at(-6_000, 5_000), 'stale');
});

t.test('size limit is configurable and checked before parsing', async (t) => {
  const h = harness();
  const sealed = sealEnvelope({ type: 'offer', body: { pad: 'x'.repeat(300) } }, h.alice.signer, h.clock);
  const r = openEnvelope(sealed.bytes, { ...h.ctx, limits: { maxBytes: 256 } });
  t.equal(r.ok ? 'ok' : r.reason, 'too_big');
  t.equal(openEnvelope(Buffer.alloc(9000, 0xff), h.ctx).ok ? 'ok' : 'too_big', 'too_big');
});

t.test('schema strictness', async (t) => {
  const h = harness();
  const base = sealEnvelope({ type: 'offer', body: { a: 1 } }, h.alice.signer, h.clock).envelope;
  const reason = (change: (e: Record<string, unknown>) => void) => {
    const r = openEnvelope(resign(h, base, change), h.ctx);
    return r.ok ? 'ok' : `${r.reason}: ${r.detail}`;
  };
  t.match(reason((e) => { e.v = 2; }), /^malformed: v: unsupported envelope version/);
  t.match(reason((e) => { delete e.v; }), /^malformed/);
  t.match(reason((e) => { e.type = 'x'.repeat(33); }), /^malformed: type/);
  t.match(reason((e) => { e.seq = 0; }), /^malformed: seq/);
  t.match(reason((e) => { e.seq = 2 ** 53; }), /^malformed: seq/);
  t.match(reason((e) => { e.ts = -1; }), /^malformed: ts/);
  t.match(reason((e) => { e.id = 'short'; }), /^malformed: id/);
  t.match(reason((e) => { e.body = [1]; }), /^malformed: body/);
  t.match(reason((e) => { e.body = null; }), /^malformed: body/);
  t.match(reason((e) => { e.body = { s: 'x'.repeat(1025) }; }), /^malformed: body\.s: string longer/);
  t.match(reason((e) => { e.body = { ['k'.repeat(65)]: 1 }; }), /^malformed: body: key longer/);
  t.match(reason((e) => { e.body = { a: { b: { c: { d: { e: { f: { g: { h: {} } } } } } } } }; }), /^malformed: body.*nested deeper/);
  t.match(reason((e) => { e.body = JSON.parse('{"__proto__":{"polluted":1}}') as object; }), /^malformed: body: forbidden key __proto__/);
  t.match(reason((e) => { e.from = 'T'.repeat(23); }), /^malformed: from/);
  // non-finite numbers cannot be written canonically; JSON.parse turns 1e400 into Infinity
  const inf = encodeEnvelope(base).toString().replace('"a":1', '"a":1e400');
  t.match(openEnvelope(Buffer.from(inf), h.ctx), { ok: false, reason: 'malformed' });
  // sig: non-canonical base64url (unused low bits set) is refused, not silently decoded
  const sig = base.sig;
  const last = sig[85]!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const twin = alphabet[alphabet.indexOf(last) | 1]!;
  t.not(twin, last);
  t.same(Buffer.from(sig.slice(0, 85) + twin, 'base64url'), Buffer.from(sig, 'base64url'), 'decodes to the same signature');
  const r = openEnvelope(Buffer.from(encodeEnvelope(base).toString().replace(sig, sig.slice(0, 85) + twin)), h.ctx);
  t.match(r, { ok: false, reason: 'malformed', detail: /sig: non-canonical/ });
  t.equal(h.replay.highWater(h.alice.peerId), undefined);
});

t.test('signing bytes: domain prefix, canonical JSON without sig', async (t) => {
  const h = harness();
  const e = sealEnvelope({ type: 'offer', body: { b: 2, a: 1 } }, h.alice.signer, h.clock).envelope;
  const bytes = signingBytes(e);
  t.ok(bytes.toString().startsWith('tonari/v1 envelope\n{"body":{"a":1,"b":2},"from":'));
  t.notMatch(bytes.toString(), /"sig"/);
});

t.test('trust store key must match the claimed peer id', async (t) => {
  const h = harness();
  const sealed = sealEnvelope({ type: 'offer', body: {} }, h.alice.signer, h.clock);
  const r = openEnvelope(sealed.bytes, { ...h.ctx, resolveKey: () => h.mallory.raw });
  t.match(r, { ok: false, reason: 'unknown_peer', detail: /does not match/ });
});

t.test('openEnvelope never throws, even when its collaborators do', async (t) => {
  const h = harness();
  const sealed = sealEnvelope({ type: 'offer', body: {} }, h.alice.signer, h.clock);
  const r = openEnvelope(sealed.bytes, { ...h.ctx, resolveKey: () => { throw new Error('store down'); } });
  t.match(r, { ok: false, reason: 'malformed', detail: /internal error: store down/ });
  t.match(openEnvelope('text' as unknown as Buffer, h.ctx), { ok: false, reason: 'malformed' });
  t.match(openEnvelope(null as unknown as Buffer, h.ctx), { ok: false, reason: 'malformed' });
});

t.test('checkTopic', async (t) => {
  const h = harness();
  const a = h.alice.peerId;
  const b = h.bob.peerId;
  const m = h.mallory.peerId;
  const direct = { from: a, to: b, type: 'offer' };
  const pub = { from: a, type: 'order' };
  t.equal(checkTopic(directTopic(a, b, 'offer'), direct, b), undefined);
  t.equal(checkTopic(publicTopic(a, 'order'), pub, b), undefined);
  t.match(checkTopic(directTopic(m, b, 'offer'), direct, b), /does not own/);
  t.match(checkTopic(directTopic(a, m, 'offer'), direct, b), /addressed to/);
  t.match(checkTopic(directTopic(a, b, 'accept'), direct, b), /on a topic for accept/);
  t.match(checkTopic(publicTopic(a, 'offer'), direct, b), /public topic/);
  t.match(checkTopic(directTopic(a, b, 'order'), pub, b), /recipient differs/);
  t.match(checkTopic(statusTopic(a), pub, b), /status/);
  t.match(checkTopic('elsewhere/x', pub, b), /namespace/);
});
