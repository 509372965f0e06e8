import { createHash } from 'node:crypto';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ManualClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { checkCodeOf } from '../../agent/identity/check-code.js';
import { peerIdFromFingerprint } from '../../agent/identity/peer-id.js';
import { MAX_CODE_ATTEMPTS, MAX_PENDING, TrustStore, type TrustChange } from '../../agent/identity/trust-store.js';
import { TRUST_FILE } from '../../agent/identity/trusted-peers-file.js';
import { capturedLogger } from './helpers.js';

const fp = (label: string) => createHash('sha256').update(label).digest('hex');
const ALICE = fp('alice');
const BOB = fp('bob');
const CAROL = fp('carol');
const MINUTE = 60_000;

/** A code with a valid check digit that is not the peer's. */
function wrongCodeFor(fingerprint: string): string {
  return checkCodeOf(fp(`not ${fingerprint}`));
}

async function open(t: Test, stateDir?: string, allowList: { fingerprint: string; name?: string }[] = []) {
  const clock = new ManualClock();
  const dir = stateDir ?? t.testdir();
  const store = await TrustStore.open(dir, { allowList, clock, log: silentLogger() });
  const changes: TrustChange[] = [];
  store.onChange((c) => changes.push(c));
  return { store, clock, dir, changes };
}

t.test('allow-list peers are trusted; nobody else is', async (t) => {
  const { store } = await open(t, undefined, [{ fingerprint: ALICE.toUpperCase().match(/../g)!.join(':'), name: 'Alice' }]);
  t.ok(store.isTrusted(ALICE), 'openssl-style fingerprints are accepted in the config');
  t.same(store.lookup(ALICE), { peerId: peerIdFromFingerprint(ALICE), fingerprint: ALICE, name: 'Alice', source: 'config' });
  t.notOk(store.isTrusted(BOB));
  t.equal(store.lookup(BOB), undefined);
  t.same(store.list().map((p) => p.fingerprint), [ALICE]);
});

t.test('a bad allow-list entry stops the store from opening', async (t) => {
  await t.rejects(open(t, undefined, [{ fingerprint: 'abc' }]), { name: 'TrustStoreError', message: /trust\.peers\[0\]\.fingerprint/ });
  await t.rejects(open(t, undefined, [{ fingerprint: ALICE, name: 'bad\u0007' }]), { message: /trust\.peers\[0\]\.name/ });
});

t.test('outside a pairing window an unknown peer is refused and counted', async (t) => {
  const { store } = await open(t);
  t.notOk(store.pairingOpen());
  t.same(store.propose(BOB), { status: 'refused', reason: 'unknown_peer' });
  t.same(store.propose(BOB), { status: 'refused', reason: 'unknown_peer' });
  t.equal(store.rejections().unknown_peer, 2);
  t.same(await store.confirm(BOB, checkCodeOf(BOB)), { status: 'refused', reason: 'window_closed' });
  t.notOk(store.isTrusted(BOB));
});

t.test('inside the window: propose, confirm with the right code, persisted, announced', async (t) => {
  const { store, clock, dir, changes } = await open(t);
  const { closesAt } = store.openPairingWindow(10 * MINUTE);
  t.equal(closesAt, clock.now() + 10 * MINUTE);
  const proposed = store.propose(BOB, 'Bob');
  t.equal(proposed.status, 'pending');
  t.same(store.pending().map((p) => [p.fingerprint, p.name, p.peerId]), [[BOB, 'Bob', peerIdFromFingerprint(BOB)]]);
  t.notOk(store.isTrusted(BOB), 'pending is not trusted');
  t.same(changes, []);

  await clock.advance(2 * MINUTE);
  const confirmed = await store.confirm(BOB, checkCodeOf(BOB));
  t.equal(confirmed.status, 'added');
  t.ok(store.isTrusted(BOB));
  t.same(store.lookup(BOB), { peerId: peerIdFromFingerprint(BOB), fingerprint: BOB, name: 'Bob', source: 'paired', pairedAt: clock.now() });
  t.same(store.pending(), []);
  t.same(changes.map((c) => [c.type, c.peer.fingerprint]), [['added', BOB]]);
  t.same(store.propose(BOB), { status: 'trusted', peer: store.lookup(BOB) });

  t.equal((await stat(join(dir, TRUST_FILE))).mode & 0o777, 0o600);
  const saved = JSON.parse(await readFile(join(dir, TRUST_FILE), 'utf8'));
  t.same(saved, { version: 1, peers: [{ fingerprint: BOB, name: 'Bob', pairedAt: new Date(clock.now()).toISOString() }] });
  t.same(await readdir(dir), [TRUST_FILE]);

  const reopened = await open(t, dir);
  t.same(reopened.store.lookup(BOB), store.lookup(BOB), 'survives a restart');
});

t.test('a wrong code is refused; too many wrong codes drop the pending peer', async (t) => {
  const { store, changes } = await open(t);
  store.openPairingWindow(10 * MINUTE);
  store.propose(CAROL);
  for (let i = 1; i <= MAX_CODE_ATTEMPTS; i++) {
    t.same(await store.confirm(CAROL, wrongCodeFor(CAROL)), { status: 'refused', reason: 'wrong_code' }, `attempt ${i}`);
  }
  t.same(store.pending(), []);
  t.same(await store.confirm(CAROL, checkCodeOf(CAROL)), { status: 'refused', reason: 'not_pending' }, 'the right code is too late');
  t.notOk(store.isTrusted(CAROL));
  t.equal(store.rejections().wrong_code, MAX_CODE_ATTEMPTS);
  t.same(changes, []);
  t.same(await store.confirm(ALICE, checkCodeOf(ALICE)), { status: 'refused', reason: 'not_pending' }, 'never proposed');
});

t.test('the window expires on the injected clock and takes its pending peers with it', async (t) => {
  const { store, clock } = await open(t);
  store.openPairingWindow(10 * MINUTE);
  store.propose(BOB);
  await clock.advance(10 * MINUTE - 1);
  t.ok(store.pairingOpen());
  t.equal(store.pending().length, 1);
  await clock.advance(1);
  t.notOk(store.pairingOpen());
  t.equal(store.pairingClosesAt(), undefined);
  t.same(await store.confirm(BOB, checkCodeOf(BOB)), { status: 'refused', reason: 'window_closed' });
  store.openPairingWindow(MINUTE);
  t.same(store.pending(), [], 'a new window starts empty');
  t.same(await store.confirm(BOB, checkCodeOf(BOB)), { status: 'refused', reason: 'not_pending' });
  t.throws(() => store.openPairingWindow(0), RangeError);
});

t.test('closing the window early', async (t) => {
  const { store } = await open(t);
  store.openPairingWindow(10 * MINUTE);
  store.propose(BOB);
  store.closePairingWindow();
  t.notOk(store.pairingOpen());
  t.same(store.propose(CAROL), { status: 'refused', reason: 'unknown_peer' });
});

t.test('a flood of proposals is capped', async (t) => {
  const { store } = await open(t);
  store.openPairingWindow(MINUTE);
  for (let i = 0; i < MAX_PENDING; i++) t.equal(store.propose(fp(`peer ${i}`)).status, 'pending');
  t.same(store.propose(fp('one more')), { status: 'refused', reason: 'too_many_pending' });
  t.equal(store.propose(fp('peer 0')).status, 'pending', 'a known pending peer may ask again');
  t.same(store.propose('NOT-A-FINGERPRINT'), { status: 'refused', reason: 'bad_fingerprint' });
  t.same(store.propose(ALICE.toUpperCase()), { status: 'refused', reason: 'bad_fingerprint' }, 'the TLS layer gives lowercase hex');
});

t.test('remove: a paired peer is forgotten, announced, persisted; configured peers stay', async (t) => {
  const { store, dir, changes } = await open(t, undefined, [{ fingerprint: ALICE }]);
  t.equal((await store.add(BOB, checkCodeOf(BOB))).status, 'added');
  t.equal(await store.remove(BOB), 'removed');
  t.notOk(store.isTrusted(BOB));
  t.same(changes.map((c) => [c.type, c.peer.fingerprint, c.peer.source]), [['added', BOB, 'paired'], ['removed', BOB, 'paired']]);
  t.equal(await store.remove(BOB), 'not_found');
  t.equal(await store.remove(ALICE), 'configured');
  t.ok(store.isTrusted(ALICE));
  t.same(JSON.parse(await readFile(join(dir, TRUST_FILE), 'utf8')).peers, []);
  t.notOk((await open(t, dir)).store.isTrusted(BOB), 'still gone after a restart');
});

t.test('add (offline pairing) checks the code against the typed fingerprint', async (t) => {
  const { store } = await open(t, undefined, [{ fingerprint: ALICE }]);
  t.same(await store.add(BOB, wrongCodeFor(BOB)), { status: 'refused', reason: 'wrong_code' });
  t.same(await store.add('12', checkCodeOf(BOB)), { status: 'refused', reason: 'bad_fingerprint' });
  t.same(await store.add(ALICE, checkCodeOf(ALICE)), { status: 'refused', reason: 'already_trusted' });
  t.same(await store.add(BOB, checkCodeOf(BOB), ''), { status: 'refused', reason: 'bad_name' });
  t.equal((await store.add(BOB.toUpperCase(), checkCodeOf(BOB).replace(/-/g, ' '), 'Bob')).status, 'added');
  t.same(await store.add(BOB, checkCodeOf(BOB)), { status: 'refused', reason: 'already_trusted' });
  t.same(store.list().map((p) => [p.source, p.fingerprint]), [['config', ALICE], ['paired', BOB]]);
});

t.test('concurrent confirmations are both kept', async (t) => {
  const { store, dir } = await open(t);
  store.openPairingWindow(MINUTE);
  store.propose(BOB);
  store.propose(CAROL);
  const results = await Promise.all([store.confirm(BOB, checkCodeOf(BOB)), store.confirm(CAROL, checkCodeOf(CAROL))]);
  t.same(results.map((r) => r.status), ['added', 'added']);
  const saved = JSON.parse(await readFile(join(dir, TRUST_FILE), 'utf8')).peers.map((p: { fingerprint: string }) => p.fingerprint);
  t.same(saved.sort(), [BOB, CAROL].sort());
});

t.test('a listener that throws does not break the store', async (t) => {
  const captured = capturedLogger();
  const store = await TrustStore.open(t.testdir(), { clock: new ManualClock(), log: captured.log });
  const seen: string[] = [];
  store.onChange(() => { throw new Error('boom'); });
  const off = store.onChange((c) => seen.push(c.type));
  t.equal((await store.add(BOB, checkCodeOf(BOB))).status, 'added');
  off();
  await store.remove(BOB);
  t.same(seen, ['added'], 'unsubscribed listeners hear nothing');
  t.ok(captured.lines().some((l) => l.msg === 'trust change listener failed'));
});

t.test('a corrupt or loosely-permissioned trust file stops the store; stray temporaries are cleaned', async (t) => {
  const corrupt = t.testdir({ [TRUST_FILE]: '{"version": 1, "peers": [' });
  await chmod(join(corrupt, TRUST_FILE), 0o600);
  await t.rejects(open(t, corrupt), { name: 'TrustStoreError', message: /not valid JSON/ });

  const wrongShape = t.testdir({ [TRUST_FILE]: JSON.stringify({ version: 1, peers: [{ fingerprint: 'xyz', pairedAt: '2026-01-01T00:00:00Z' }] }) });
  await chmod(join(wrongShape, TRUST_FILE), 0o600);
  await t.rejects(open(t, wrongShape), { message: /peers\[0\]\.fingerprint/ });

  const loose = t.testdir({ [TRUST_FILE]: JSON.stringify({ version: 1, peers: [] }) });
  await chmod(join(loose, TRUST_FILE), 0o666);
  await t.rejects(open(t, loose), { message: /writable by group or others/ });

  const crashed = t.testdir();
  const first = await open(t, crashed);
  await first.store.add(BOB, checkCodeOf(BOB));
  await writeFile(join(crashed, `.${TRUST_FILE}.a1b2c3d4e5f6.tmp`), '{"version": 1, "pe');
  const second = await open(t, crashed);
  t.ok(second.store.isTrusted(BOB));
  t.same(await readdir(crashed), [TRUST_FILE]);
});

t.test('opening a missing state dir creates nothing until something is paired', async (t) => {
  const dir = join(t.testdir(), 'state');
  const { store } = await open(t, dir);
  t.same(store.list(), []);
  await t.rejects(stat(dir));
  await store.add(BOB, checkCodeOf(BOB));
  t.equal((await stat(dir)).mode & 0o777, 0o700);
});
