import t from 'tap';
import { backoffDelay } from '../../agent/discovery/backoff.js';
import { RepeatFilter } from '../../agent/discovery/repeat-filter.js';
import { QuestionLimiter, isOnLink } from '../../agent/discovery/responder-guard.js';

t.test('QuestionLimiter: one answer per question per second, duplicates collapsed, capped per packet', async (t) => {
  const limiter = new QuestionLimiter({ minIntervalMs: 1000, maxQuestions: 3 });
  const q = (name: string, type = 'PTR') => ({ name, type });
  let r = limiter.admit([q('_tonari._tcp.local'), q('_TONARI._tcp.local.'), q('x.local', 'A')], 0);
  t.same(r.admitted.map((x) => x.name), ['_tonari._tcp.local', 'x.local']);
  t.equal(r.dropped, 1);
  r = limiter.admit([q('_tonari._tcp.local')], 999);
  t.same(r, { admitted: [], dropped: 1 });
  r = limiter.admit([q('_tonari._tcp.local')], 1000);
  t.equal(r.admitted.length, 1);
  const flood = Array.from({ length: 20 }, (_, i) => q(`n${i}.local`));
  r = limiter.admit(flood, 5000);
  t.equal(r.admitted.length, 3);
  t.equal(r.dropped, 17);
});

t.test('QuestionLimiter forgets old keys beyond its bound', async (t) => {
  const limiter = new QuestionLimiter({ minIntervalMs: 1000, maxKeys: 2 });
  limiter.admit([{ name: 'a', type: 'A' }], 0);
  limiter.admit([{ name: 'b', type: 'A' }], 0);
  limiter.admit([{ name: 'c', type: 'A' }], 0);
  t.equal(limiter.admit([{ name: 'a', type: 'A' }], 1).admitted.length, 1, 'a was forgotten');
  t.equal(limiter.admit([{ name: 'c', type: 'A' }], 1).admitted.length, 0, 'c is remembered');
});

t.test('isOnLink: IPv4 subnets, link-local and own IPv6 only', async (t) => {
  const ifaces = [
    { address: '127.0.0.1', family: 'IPv4', netmask: '255.0.0.0', internal: true },
    { address: '169.254.7.1', family: 'IPv4', netmask: '255.255.255.0' },
    { address: '2001:db8::1', family: 'IPv6', netmask: 'ffff:ffff:ffff:ffff::' },
  ];
  t.ok(isOnLink('169.254.7.200', ifaces));
  t.ok(isOnLink('127.0.0.1', ifaces));
  t.notOk(isOnLink('169.254.8.1', ifaces));
  t.notOk(isOnLink('192.0.2.1', ifaces));
  t.ok(isOnLink('fe80::1', ifaces));
  t.ok(isOnLink('2001:db8::1', ifaces));
  t.notOk(isOnLink('2001:db8::2', ifaces));
  t.notOk(isOnLink('1.2.3', ifaces));
  t.notOk(isOnLink('1.2.3.400', ifaces));
  t.ok(isOnLink('10.1.2.3', [{ address: '10.0.0.1', family: 4, netmask: '255.0.0.0' }]), 'numeric family');
  t.notOk(isOnLink('169.254.7.2', []));
});

t.test('backoffDelay doubles to a cap', async (t) => {
  t.same([0, 1, 2, 3, 4, 5, 99].map((n) => backoffDelay(n, 1000, 10_000)), [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
});

t.test('RepeatFilter silences repeats for the quiet period and stays bounded', async (t) => {
  const f = new RepeatFilter(1000, 2);
  t.equal(f.first('a', 0), true);
  t.equal(f.first('a', 500), false);
  t.equal(f.first('a', 1000), true);
  f.first('b', 1000);
  f.first('c', 1000);
  t.equal(f.first('a', 1001), true, 'a was evicted');
});
