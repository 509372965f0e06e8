import t from 'tap';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../agent/core/clock.js';
import { encodeEnvelope, openEnvelope, sealEnvelope } from '../../agent/mesh/envelope.js';
import { ReplayStore } from '../../agent/mesh/replay-store.js';
import { EMPTY_WINDOW, windowAccept, windowVerdict, type WindowState } from '../../agent/mesh/replay-window.js';
import { harness } from './helpers.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'tonari-replay-'));

t.test('window: in order, out of order within the window once each, below the window never', async (t) => {
  let w: WindowState = EMPTY_WINDOW;
  const take = (seq: number) => {
    const verdict = windowVerdict(w, seq, 8);
    if (verdict === 'new') w = windowAccept(w, seq, 8);
    return verdict;
  };
  t.equal(take(1), 'new');
  t.equal(take(1), 'duplicate');
  t.equal(take(5), 'new');
  t.equal(take(3), 'new');
  t.equal(take(3), 'duplicate');
  t.equal(take(2), 'new');
  t.equal(take(12), 'new');
  t.equal(take(5), 'duplicate', 'remembered across the shift');
  t.equal(take(6), 'new', 'inside the window (12 - 6 < 8)');
  t.equal(take(4), 'too_old');
  t.equal(take(100), 'new');
  t.equal(take(93), 'new');
  t.equal(take(92), 'too_old');
});

t.test('property: the window accepts each number at most once and never one it dropped', async (t) => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 300 }), fc.integer({ min: 1, max: 70 }), (seqs, size) => {
    let w: WindowState = EMPTY_WINDOW;
    const accepted = new Set<number>();
    for (const seq of seqs) {
      const verdict = windowVerdict(w, seq, size);
      if (verdict === 'new') {
        if (accepted.has(seq)) return false;
        accepted.add(seq);
        w = windowAccept(w, seq, size);
      } else if (verdict === 'duplicate' && !accepted.has(seq)) return false;
      // anything inside the window that was not accepted must be accepted
      if (verdict === 'too_old' && w.hi - seq < size) return false;
    }
    return true;
  }));
  t.pass('held');
});

t.test('out-of-order messages within the window are accepted once each, end to end', async (t) => {
  const h = harness();
  const sealed = Array.from({ length: 5 }, () => sealEnvelope({ type: 'offer', body: {} }, h.alice.signer, h.clock));
  for (const i of [4, 1, 3, 0, 2]) t.ok(openEnvelope(sealed[i]!.bytes, h.ctx).ok, `seq ${i + 1} first time`);
  for (const i of [0, 1, 2, 3, 4]) t.match(openEnvelope(sealed[i]!.bytes, h.ctx), { ok: false, reason: 'replay' }, `seq ${i + 1} again`);
  t.equal(h.rejections.get('replay', h.alice.peerId), 5);
});

t.test('a repeated message id is a replay even under a new seq', async (t) => {
  const h = harness();
  const store = ReplayStore.inMemory(h.clock);
  const msg = { from: h.alice.peerId, seq: 1, id: 'AAAAAAAAAAAAAAAAAAAAAA', ts: h.clock.now() };
  t.equal(store.check(msg), undefined);
  store.accept(msg);
  t.match(store.check({ ...msg, seq: 2 }), /message id/);
  t.equal(store.check({ ...msg, seq: 2, from: h.bob.peerId }), undefined, 'ids are per sender');
});

t.test('replay is refused after a restart: state reopened from disk', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'replay.json');
  const h = harness();
  const store = await ReplayStore.open(file, h.clock);
  const ctx = { ...h.ctx, replay: store };
  const msgs = Array.from({ length: 3 }, () => sealEnvelope({ type: 'offer', to: h.bob.peerId, body: { n: 1 } }, h.alice.signer, h.clock));
  const first = openEnvelope(msgs[0]!.bytes, ctx);
  t.match(first, { ok: true, dirty: true }, 'accepted, not yet durable');
  t.equal(store.dirty, true);
  await store.flush();
  t.equal(store.dirty, false);
  t.ok(openEnvelope(msgs[2]!.bytes, ctx).ok);
  await store.close();

  const reopened = await ReplayStore.open(file, h.clock);
  const ctx2 = { ...h.ctx, replay: reopened };
  t.match(openEnvelope(msgs[0]!.bytes, ctx2), { ok: false, reason: 'replay' }, 'seq 1 again after restart');
  t.match(openEnvelope(msgs[2]!.bytes, ctx2), { ok: false, reason: 'replay' }, 'seq 3 again after restart');
  t.ok(openEnvelope(msgs[1]!.bytes, ctx2).ok, 'seq 2, never seen, still accepted out of order');
  t.equal(reopened.highWater(h.alice.peerId), 3);
  await reopened.close();
  t.same(readdirSync(dir).sort(), ['replay.json'], 'no temporary files left');
});

t.test('writes are batched: by timer on the injected clock, or after N messages', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'replay.json');
  const clock = new ManualClock();
  const store = await ReplayStore.open(file, clock, { flushIntervalMs: 1000, flushEveryMessages: 3 });
  const peer = 'taaaaaaaaaaaaaaaaaaaaaa';
  const msg = (seq: number) => ({ from: peer, seq, id: Buffer.alloc(16, seq).toString('base64url'), ts: clock.now() });
  t.same(store.accept(msg(1)), { dirty: true });
  const onDisk = () => { try { return (JSON.parse(readFileSync(file, 'utf8')) as { senders: Record<string, { hi: number }> }).senders[peer]?.hi; } catch { return undefined; } };
  t.equal(onDisk(), undefined, 'not written at once');
  await clock.advance(999);
  t.equal(onDisk(), undefined);
  await clock.advance(1);
  await store.flush(); // wait for the timer's write
  t.equal(onDisk(), 1, 'written when the interval elapsed');
  store.accept(msg(2));
  store.accept(msg(3));
  t.equal(store.accept(msg(4)).dirty, true);
  await store.flush();
  t.equal(onDisk(), 4);
  t.equal(store.dirty, false);
  await store.close();
});

t.test('a corrupt state file is moved aside and messages from before the loss are refused', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'replay.json');
  writeFileSync(file, '{"v":1,"senders":');
  const h = harness();
  const old = sealEnvelope({ type: 'offer', body: {} }, h.alice.signer, h.clock);
  const store = await ReplayStore.open(file, h.clock);
  t.ok(readdirSync(dir).some((n) => n.startsWith('replay.json.corrupt-')), 'kept for inspection');
  const ctx = { ...h.ctx, replay: store };
  t.match(openEnvelope(old.bytes, ctx), { ok: false, reason: 'replay', detail: /replay state was lost/ });
  await h.clock.advance(119_000);
  t.match(openEnvelope(sealEnvelope({ type: 'offer', body: {} }, h.alice.signer, h.clock).bytes, ctx), { ok: false, reason: 'replay' });
  await h.clock.advance(2_000);
  t.ok(openEnvelope(sealEnvelope({ type: 'offer', body: {} }, h.alice.signer, h.clock).bytes, ctx).ok, 'new messages pass once stamped after the floor');
  await store.close();
  const again = await ReplayStore.open(file, h.clock);
  t.equal(again.highWater(h.alice.peerId), 3);
  await again.close();
});

t.test('rejected messages leave the persisted replay state untouched', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'replay.json');
  const h = harness();
  const store = await ReplayStore.open(file, h.clock);
  const ctx = { ...h.ctx, replay: store };
  const good = sealEnvelope({ type: 'offer', body: {} }, h.alice.signer, h.clock);
  t.ok(openEnvelope(good.bytes, ctx).ok);
  await store.flush();
  const before = readFileSync(file, 'utf8');
  const stale = sealEnvelope({ type: 'offer', body: {} }, h.alice.signer, { now: () => h.clock.now() - 200_000 } as ManualClock);
  const forged = Buffer.from(encodeEnvelope(good.envelope).toString().replace(/"seq":1/, '"seq":7'));
  const results = [
    openEnvelope(good.bytes, ctx),
    openEnvelope(stale.bytes, ctx),
    openEnvelope(forged, ctx),
    openEnvelope(sealEnvelope({ type: 'offer', body: {} }, h.mallory.signer, h.clock).bytes, ctx),
    openEnvelope(sealEnvelope({ type: 'offer', to: h.alice.peerId, body: {} }, h.alice.signer, h.clock).bytes, ctx),
  ];
  t.same(results.map((r) => (r.ok ? 'ok' : r.reason)), ['replay', 'stale', 'bad_sig', 'unknown_peer', 'wrong_recipient']);
  t.equal(store.dirty, false, 'nothing new to write');
  await store.flush();
  t.equal(readFileSync(file, 'utf8'), before, 'file unchanged');
  t.equal(store.highWater(h.alice.peerId), 1);
  await store.close();
});
