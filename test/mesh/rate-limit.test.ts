import t from 'tap';
import { ManualClock } from '../../agent/core/clock.js';
import { RateLimiter } from '../../agent/mesh/rate-limit.js';
import { openEnvelope, sealEnvelope } from '../../agent/mesh/envelope.js';
import { harness } from './helpers.js';

t.test('token bucket: burst, then the sustained rate, per peer', async (t) => {
  const clock = new ManualClock(0);
  const rate = new RateLimiter(clock, { ratePerSecond: 20, burst: 40 });
  let taken = 0;
  while (rate.take('a')) taken++;
  t.equal(taken, 40, 'a full burst');
  t.equal(rate.take('b'), true, 'other peers have their own bucket');
  await clock.advance(49);
  t.equal(rate.take('a'), false, '49 ms refills less than one token at 20/s');
  await clock.advance(1);
  t.equal(rate.take('a'), true, '50 ms refills one');
  t.equal(rate.take('a'), false);
  await clock.advance(10_000);
  t.equal(rate.available('a'), 40, 'refill stops at the burst');
  t.throws(() => new RateLimiter(clock, { ratePerSecond: 0 }), RangeError);
});

t.test('a refused take changes nothing', async (t) => {
  const clock = new ManualClock(0);
  const rate = new RateLimiter(clock, { ratePerSecond: 1, burst: 1 });
  t.ok(rate.take('a'));
  await clock.advance(500);
  t.notOk(rate.take('a'));
  t.notOk(rate.take('a'));
  t.equal(rate.available('a'), 0.5);
  await clock.advance(500);
  t.ok(rate.take('a'));
});

t.test('openEnvelope: over the rate is rejected as rate, charged to the sender, and not remembered as seen', async (t) => {
  const h = harness();
  const ctx = { ...h.ctx, rate: new RateLimiter(h.clock, { ratePerSecond: 2, burst: 3 }) };
  const sealed = Array.from({ length: 5 }, () => sealEnvelope({ type: 'offer', body: {} }, h.alice.signer, h.clock));
  const outcome = sealed.map((s) => { const r = openEnvelope(s.bytes, ctx); return r.ok ? 'ok' : r.reason; });
  t.same(outcome, ['ok', 'ok', 'ok', 'rate', 'rate']);
  t.equal(h.rejections.get('rate', h.alice.peerId), 2);
  await h.clock.advance(500);
  t.ok(openEnvelope(sealed[3]!.bytes, ctx).ok, 'the rate-limited message was not recorded: it opens once tokens are back');
  t.match(openEnvelope(sealed[4]!.bytes, ctx), { ok: false, reason: 'rate' });
});
