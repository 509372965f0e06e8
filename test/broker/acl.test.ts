import t from 'tap';
import {
  closed, collect, connectLocal, connectPacket, connectPeer, makeIdentity, rawTls, receivedAtLeast, startTestBroker,
  subscribeGranted, subscribePacket, until,
} from './helpers.js';

const owner = makeIdentity('owner');
const alice = makeIdentity('alice');
const bob = makeIdentity('bob');
const other = makeIdentity('other-owner');
const O = owner.peerId;

t.test('allowed subscriptions are granted and receive the owner\'s status (retained), public and direct messages', async (t) => {
  const tb = await startTestBroker(t, owner, [alice, bob]);
  await tb.broker.publish(`tonari/v1/${O}/status`, 'online', { qos: 1, retain: true });
  const client = await connectPeer(t, tb, alice);
  const seen = collect(client);
  t.equal(await subscribeGranted(client, `tonari/v1/${O}/status`, 1), 1);
  t.equal(await subscribeGranted(client, `tonari/v1/${O}/pub/#`, 1), 1);
  t.equal(await subscribeGranted(client, `tonari/v1/${O}/to/${alice.peerId}/#`, 2), 2);
  t.equal(await subscribeGranted(client, `tonari/v1/${O}/pub/offer`, 0), 0, 'a narrower filter of pub/#');
  await tb.broker.publish(`tonari/v1/${O}/pub/offer`, '{"w":1500}', { qos: 1 });
  await tb.broker.publish(`tonari/v1/${O}/to/${bob.peerId}/order`, 'for bob', { qos: 1 });
  await tb.broker.publish(`tonari/v1/${O}/to/${alice.peerId}/order`, 'for alice', { qos: 1 });
  await until(() => seen.some((m) => m.payload === 'for alice'), 'the direct message');
  t.same(seen.find((m) => m.topic.endsWith('/status')), { topic: `tonari/v1/${O}/status`, payload: 'online', retain: true }, 'retained status');
  // two overlapping subscriptions; aedes delivers once per client (MQTT 3.1.1 allows either)
  t.ok(seen.some((m) => m.topic === `tonari/v1/${O}/pub/offer` && m.payload === '{"w":1500}'), 'public message');
  t.notOk(seen.some((m) => m.payload === 'for bob'), 'nothing addressed to bob');
  t.equal(tb.broker.stats().rejected.acl, 0);
  t.ok(tb.broker.stats().published >= 4);
});

t.test('subscriptions outside the neighbour\'s scope get SUBACK 128 and are counted; the connection stays', async (t) => {
  const tb = await startTestBroker(t, owner, [alice, bob]);
  const client = await connectPeer(t, tb, alice);
  const seen = collect(client);
  const denied = [
    `tonari/v1/${O}/to/${bob.peerId}/#`, `tonari/v1/${O}/to/+/#`, 'tonari/v1/#', '#', '+/#', '$SYS/#',
    `tonari/v1/${other.peerId}/pub/#`, `tonari/v1/+/status`, `tonari/v1/${O}/#`,
  ];
  for (const filter of denied) t.equal(await subscribeGranted(client, filter, 1), 128, `denied: ${filter}`);
  t.equal(tb.broker.stats().rejected.acl, denied.length);
  t.ok(client.connected, 'still connected');
  await tb.broker.publish(`tonari/v1/${O}/to/${bob.peerId}/order`, 'for bob', { qos: 1 });
  t.equal(await subscribeGranted(client, `tonari/v1/${O}/status`, 0), 0, 'an allowed one still works afterwards');
  t.same(seen, [], 'nothing delivered through the refused filters');
});

t.test('a neighbour may not publish at all: the connection is closed and nothing is delivered', async (t) => {
  const tb = await startTestBroker(t, owner, [alice, bob]);
  const listener = await connectPeer(t, tb, bob);
  const heardByBob = collect(listener);
  t.equal(await subscribeGranted(listener, `tonari/v1/${O}/pub/#`, 1), 1);
  const local = await connectLocal(t, tb);
  const heardLocally = collect(local);
  t.equal(await subscribeGranted(local, 'tonari/v1/#', 1), 1);

  for (const [topic, qos] of [[`tonari/v1/${O}/pub/offer`, 1], [`tonari/v1/${alice.peerId}/pub/offer`, 0], ['$SYS/x/new/clients', 0]] as const) {
    const client = await connectPeer(t, tb, alice);
    const gone = closed(client);
    client.publish(topic, 'forged', { qos }); // the PUBACK never comes (MQTT 3.1.1 has no negative ack)
    await gone;
    t.pass(`closed after publishing to ${topic}`);
  }
  t.equal(tb.broker.stats().rejected.acl, 3);
  // a round trip through the broker so anything in flight would have arrived
  await tb.broker.publish(`tonari/v1/${O}/pub/offer`, 'genuine', { qos: 1 });
  await until(() => heardByBob.length > 0 && heardLocally.length > 0, 'the genuine message');
  t.same(heardByBob.map((m) => m.payload), ['genuine']);
  t.same(heardLocally.map((m) => m.payload), ['genuine']);
});

t.test('a neighbour\'s last will is not published here (aedes runs it through authorizePublish)', async (t) => {
  const tb = await startTestBroker(t, owner, [alice, bob]);
  const local = await connectLocal(t, tb);
  const heard = collect(local);
  t.equal(await subscribeGranted(local, 'tonari/v1/#', 1), 1);
  const client = await connectPeer(t, tb, alice, { will: { topic: `tonari/v1/${O}/status`, payload: Buffer.from('offline'), qos: 1, retain: true } });
  t.equal(tb.broker.stats().rejected.acl, 0);
  client.stream.destroy(); // unclean: the will would fire
  await until(() => tb.broker.stats().rejected.acl === 1, 'the will denial');
  t.match(tb.broker.stats().lastRejection, { reason: 'acl', detail: /^will to /});
  await tb.broker.publish(`tonari/v1/${O}/pub/x`, 'after', { qos: 1 });
  await until(() => heard.length > 0, 'the later message');
  t.same(heard.map((m) => m.payload), ['after'], 'no will delivered');
  const late = await connectLocal(t, tb);
  const retained = collect(late);
  t.equal(await subscribeGranted(late, `tonari/v1/${O}/status`, 1), 1);
  await tb.broker.publish(`tonari/v1/${O}/pub/x`, 'marker', { qos: 1 });
  t.same(retained, [], 'no retained will either');
});

t.test('topic filters with U+0000, invalid UTF-8 or control characters close the connection (MQ-7)', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const filters: [string, Buffer][] = [
    ['U+0000', Buffer.from(`tonari/v1/${O}/pub/a\u0000b`, 'utf8')],
    ['invalid UTF-8', Buffer.concat([Buffer.from(`tonari/v1/${O}/pub/a`), Buffer.from([0xc3, 0x28])])],
    ['encoded surrogate', Buffer.concat([Buffer.from(`tonari/v1/${O}/pub/a`), Buffer.from([0xed, 0xa0, 0x80])])],
    ['control character', Buffer.from(`tonari/v1/${O}/pub/a\u001bb`, 'utf8')],
  ];
  for (const [what, filter] of filters) {
    const raw = await rawTls(t, tb, alice);
    raw.socket.write(connectPacket(alice.peerId));
    const connack = await receivedAtLeast(raw, 4);
    t.same([...connack.subarray(0, 4)], [0x20, 0x02, 0x00, 0x00], 'connected');
    raw.socket.write(subscribePacket(7, filter));
    await raw.closed;
    t.equal(raw.received().length, 4, `${what}: closed without SUBACK`);
  }
  t.equal(tb.broker.stats().rejected.bad_topic, filters.length);
});

t.test('a filter deeper than 16 levels closes the connection', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const client = await connectPeer(t, tb, alice);
  const gone = closed(client);
  client.subscribe(`tonari/v1/${O}/pub/${'a/'.repeat(13)}b`, { qos: 0 }, () => {});
  await gone;
  t.pass('closed');
});
