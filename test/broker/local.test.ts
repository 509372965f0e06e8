import net from 'node:net';
import t from 'tap';
import {
  closed, collect, connectLocal, connectPacket, makeIdentity, rawTcp, receivedAtLeast, startTestBroker, subscribeGranted, until,
} from './helpers.js';

const owner = makeIdentity('owner');
const alice = makeIdentity('alice');
const O = owner.peerId;

t.test('the local listener binds 127.0.0.1 only, whatever the TLS host', async (t) => {
  const tb = await startTestBroker(t, owner, [alice], { host: '127.0.0.2' });
  t.equal(tb.broker.localAddress()?.host, '127.0.0.1');
  t.equal(tb.broker.tlsAddress().host, '127.0.0.2');
  const none = await startTestBroker(t, owner, [alice], { localPort: null });
  t.equal(none.broker.localAddress(), undefined);
});

t.test('a local tool may read the whole namespace, direct messages included', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  await tb.broker.publish(`tonari/v1/${O}/status`, 'online', { qos: 1, retain: true });
  const local = await connectLocal(t, tb);
  const seen = collect(local);
  t.equal(await subscribeGranted(local, 'tonari/v1/#', 1), 1);
  await tb.broker.publish(`tonari/v1/${O}/to/${alice.peerId}/order`, 'for alice', { qos: 1 });
  await until(() => seen.length === 2, 'two messages');
  t.same(seen.map((m) => [m.topic, m.payload, m.retain]), [
    [`tonari/v1/${O}/status`, 'online', true],
    [`tonari/v1/${O}/to/${alice.peerId}/order`, 'for alice', false],
  ]);
});

t.test('a local tool may not subscribe outside the namespace', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const local = await connectLocal(t, tb);
  for (const filter of ['#', '$SYS/#', 'tonari/#', 'elsewhere/x']) t.equal(await subscribeGranted(local, filter, 0), 128, `denied: ${filter}`);
  t.equal(tb.broker.stats().rejected.acl, 4);
});

t.test('a local tool may not publish: the connection is closed, nothing is delivered', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const reader = await connectLocal(t, tb);
  const seen = collect(reader);
  t.equal(await subscribeGranted(reader, 'tonari/v1/#', 1), 1);
  const writer = await connectLocal(t, tb);
  const gone = closed(writer);
  writer.publish(`tonari/v1/${O}/status`, 'forged', { qos: 1, retain: true });
  await gone;
  t.equal(tb.broker.stats().rejected.acl, 1);
  await tb.broker.publish(`tonari/v1/${O}/pub/x`, 'genuine', { qos: 1 });
  await until(() => seen.length > 0, 'the genuine message');
  t.same(seen.map((m) => m.payload), ['genuine']);
});

t.test('a local tool may not take a peer id (it would evict that neighbour)', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const err = await connectLocal(t, tb, { clientId: alice.peerId }).then(() => undefined, (e: Error & { code?: number }) => e);
  t.equal((err as { code?: number } | undefined)?.code, 5);
  t.equal(tb.broker.stats().rejected.not_authorized, 1);
});

t.test('local: zero-length client id needs CleanSession=1 (MQTT-3.1.3-8)', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const port = tb.broker.localAddress()!.port;
  const ok = await rawTcp(t, port);
  ok.socket.write(connectPacket('', true));
  t.same([...(await receivedAtLeast(ok, 4)).subarray(0, 4)], [0x20, 0x02, 0x00, 0x00]);
  const bad = await rawTcp(t, port);
  bad.socket.write(connectPacket('', false));
  t.same([...(await receivedAtLeast(bad, 4)).subarray(0, 4)], [0x20, 0x02, 0x00, 0x02]);
});

t.test('the local listener has the packet guard and its own connection limit', async (t) => {
  const tb = await startTestBroker(t, owner, [alice], { limits: { maxLocalConnections: 2 } });
  const port = tb.broker.localAddress()!.port;
  const raw = await rawTcp(t, port);
  raw.socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
  await raw.closed;
  t.equal(tb.broker.stats().rejected.too_big, 1);
  const a = await rawTcp(t, port);
  const b = await rawTcp(t, port);
  const c = await rawTcp(t, port);
  await c.closed;
  t.equal(tb.broker.stats().rejected.conn_limit, 1);
  t.notOk(a.socket.destroyed || b.socket.destroyed);
});

t.test('the owner publishes in-process under its own root only', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  await t.rejects(tb.broker.publish(`tonari/v1/${alice.peerId}/status`, 'x'), /not a topic under this owner's root/);
  await t.rejects(tb.broker.publish('$SYS/x', 'x'), RangeError);
  await t.rejects(tb.broker.publish(`tonari/v1/${O}/pub/Offer`, 'x'), RangeError, 'kind pattern');
  await tb.broker.publish(`tonari/v1/${O}/pub/offer`, new Uint8Array([1, 2, 3]));
  t.equal(tb.broker.stats().published, 1);
});

t.test('the TLS listener does not speak plaintext MQTT', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const socket = net.connect(tb.broker.tlsAddress().port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  socket.write(connectPacket('plain'));
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  t.notOk(Buffer.concat(chunks).subarray(0, 1).equals(Buffer.from([0x20])), 'no CONNACK');
  t.equal(tb.broker.stats().tlsRejected.handshake, 1);
});
