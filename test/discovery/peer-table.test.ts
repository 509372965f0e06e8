import t from 'tap';
import { ManualClock } from '../../agent/core/clock.js';
import { PeerTable } from '../../agent/discovery/peer-table.js';
import type { ValidAdvert } from '../../agent/discovery/txt.js';
import { newIdentity } from './helpers.js';

const a = newIdentity();
const b = newIdentity();
const advertA: ValidAdvert = { peerId: a.peerId, fingerprint: a.fingerprint, zone: 'z1', version: 1, port: 8883, host: 'a.local' };

t.test('seen once, refreshed silently, updated on change', async (t) => {
  const clock = new ManualClock(0);
  const table = new PeerTable(6000);
  const first = table.observe(advertA, ['169.254.1.1'], '169.254.1.1', clock.now());
  t.equal(first.length, 1);
  t.equal(first[0]?.type, 'seen');
  t.same(table.observe(advertA, ['169.254.1.1'], '169.254.1.1', clock.now()), []);
  const moved = table.observe({ ...advertA, port: 9999 }, ['169.254.1.1'], '169.254.1.1', clock.now());
  t.equal(moved[0]?.type, 'updated');
  if (moved[0]?.type === 'updated') {
    t.equal(moved[0].peer.port, 9999);
    t.equal(moved[0].previous.port, 8883);
  }
  t.equal(table.get(a.peerId)?.port, 9999);
});

t.test('without address records: keep known addresses for the same host, else the source', async (t) => {
  const table = new PeerTable(6000);
  table.observe(advertA, ['169.254.1.1', 'fe80::1'], '169.254.1.1', 0);
  t.same(table.observe(advertA, [], '169.254.1.1', 1), []);
  t.same(table.get(a.peerId)?.addresses, ['169.254.1.1', 'fe80::1']);
  const other = table.observe({ ...advertA, host: 'b.local' }, [], '169.254.1.7', 2);
  t.equal(other[0]?.type, 'updated');
  t.same(table.get(a.peerId)?.addresses, ['169.254.1.7']);
});

t.test('lost after lostAfterMs of silence, not before; touch keeps alive', async (t) => {
  const clock = new ManualClock(0);
  const table = new PeerTable(6000);
  table.observe(advertA, ['169.254.1.1'], '169.254.1.1', clock.now());
  table.observe({ ...advertA, peerId: b.peerId, fingerprint: b.fingerprint }, ['169.254.1.2'], '169.254.1.2', clock.now());
  await clock.advance(4000);
  t.equal(table.touch(b.peerId, clock.now()), true);
  t.equal(table.touch('tnobodyaaaaaaaaaaaaaaaaa', clock.now()), false);
  await clock.advance(1999);
  t.same(table.expire(clock.now()), []);
  await clock.advance(1);
  t.same(table.expire(clock.now()), [{ type: 'lost', peerId: a.peerId, reason: 'timeout' }]);
  t.equal(table.list().length, 1);
  await clock.advance(4000);
  t.same(table.expire(clock.now()), [{ type: 'lost', peerId: b.peerId, reason: 'timeout' }]);
  t.equal(table.list().length, 0);
});

t.test('goodbye is immediate and only for known peers; re-seen after', async (t) => {
  const table = new PeerTable(6000);
  table.observe(advertA, [], '169.254.1.1', 0);
  t.same(table.goodbye(a.peerId), [{ type: 'lost', peerId: a.peerId, reason: 'goodbye' }]);
  t.same(table.goodbye(a.peerId), []);
  t.equal(table.observe(advertA, [], '169.254.1.1', 1)[0]?.type, 'seen');
});

t.test('a different fingerprint for a known id is a conflict and changes nothing', async (t) => {
  const table = new PeerTable(6000);
  table.observe(advertA, ['169.254.1.1'], '169.254.1.1', 0);
  const events = table.observe({ ...advertA, fingerprint: b.fingerprint, port: 1 }, ['169.254.1.66'], '169.254.1.66', 5000);
  t.same(events, [{ type: 'conflict', conflict: { kind: 'fingerprint-changed', peerId: a.peerId, claimedFingerprint: b.fingerprint, knownFingerprint: a.fingerprint, source: '169.254.1.66' } }]);
  t.equal(table.get(a.peerId)?.port, 8883);
  t.equal(table.lastSeen(a.peerId), 0, 'a conflicting advert does not refresh liveness');
});

t.test('constructor refuses a non-positive timeout', async (t) => {
  t.throws(() => new PeerTable(0));
});
