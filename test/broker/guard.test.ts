import v8 from 'node:v8';
import vm from 'node:vm';
import t from 'tap';
import {
  closed, connectPacket, connectPeer, makeIdentity, rawTcp, rawTls, receivedAtLeast, startTestBroker, until, type RawSocket,
} from './helpers.js';

const owner = makeIdentity('owner');
const alice = makeIdentity('alice');
const O = owner.peerId;

// A real garbage collection around the memory measurement (tap gives no --expose-gc).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** A raw TLS socket of a trusted peer, past CONNACK (the CONNACK is the first 4 bytes received). */
async function connectedRaw(t: Parameters<typeof rawTls>[0], tb: Parameters<typeof rawTls>[1]): Promise<RawSocket> {
  const raw = await rawTls(t, tb, alice);
  raw.socket.write(connectPacket(alice.peerId));
  const connack = await receivedAtLeast(raw, 4);
  if (!connack.subarray(0, 4).equals(Buffer.from([0x20, 0x02, 0x00, 0x00]))) throw new Error(`not connected: ${connack.toString('hex')}`);
  return raw;
}

t.test('a 2 MB PUBLISH closes the connection (too_big)', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const client = await connectPeer(t, tb, alice);
  const gone = closed(client);
  client.publish(`tonari/v1/${alice.peerId}/pub/blob`, Buffer.alloc(2 * 1024 * 1024, 0x61), { qos: 0 });
  await gone;
  t.equal(tb.broker.stats().rejected.too_big, 1);
  t.equal(tb.broker.stats().rejected.acl, 0, 'refused by the guard, before aedes saw a PUBLISH');
  t.equal(tb.broker.stats().clients, 0);
});

t.test('a 150 MB remaining length is refused at the header; memory stays flat while the sender keeps pushing', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const raw = await connectedRaw(t, tb);
  gc();
  const before = process.memoryUsage();
  // PUBLISH, QoS 0, remaining length 157 286 400 (0x80 0x80 0x80 0x4b), then body bytes with backpressure.
  // Without the guard aedes's parser buffers everything written here (32 MiB) and the socket stays open.
  const header = Buffer.from([0x30, 0x80, 0x80, 0x80, 0x4b]);
  const body = Buffer.alloc(64 * 1024, 0x61);
  const limit = 512; // 32 MiB
  let isClosed = false;
  void raw.closed.then(() => { isClosed = true; });
  raw.socket.write(header);
  const deadline = Date.now() + 20_000;
  let chunks = 0;
  while (chunks < limit && !isClosed && Date.now() < deadline) {
    chunks++;
    if (!raw.socket.write(body)) {
      await Promise.race([new Promise((r) => raw.socket.once('drain', r)), raw.closed, new Promise((r) => setTimeout(r, 1000))]);
    }
  }
  await Promise.race([raw.closed, new Promise((r) => setTimeout(r, 2000))]);
  gc();
  const after = process.memoryUsage();
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  t.comment(`wrote ${mib(chunks * body.length)} of body; rss ${mib(after.rss - before.rss)}, heapUsed ${mib(after.heapUsed - before.heapUsed)}, arrayBuffers ${mib(after.arrayBuffers - before.arrayBuffers)}`);
  t.ok(isClosed, 'the broker closed the connection');
  t.ok(chunks < limit, 'the sender was cut off before it could push 32 MiB');
  t.ok(after.rss - before.rss < 10 * 1024 * 1024, 'rss grew less than 10 MB');
  t.ok(after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers < 10 * 1024 * 1024, 'heap + buffers grew less than 10 MB');
  t.equal(raw.received().length, 4, 'nothing after the CONNACK');
  t.equal(tb.broker.stats().rejected.too_big, 1);
  t.match(tb.broker.stats().lastRejection, { reason: 'too_big', detail: /remaining length \d+ > 65536 \(packet type 3\)/ });
});

t.test('an oversized header split across writes is still refused', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const raw = await connectedRaw(t, tb);
  for (const byte of [0x30, 0xff, 0xff]) {
    raw.socket.write(Buffer.from([byte]));
    await new Promise((r) => setTimeout(r, 20));
  }
  raw.socket.write(Buffer.from([0x7f]));
  await raw.closed;
  t.equal(tb.broker.stats().rejected.too_big, 1);
});

t.test('a malformed remaining length (5 bytes) closes the connection', async (t) => {
  const tb = await startTestBroker(t, owner, [alice], { limits: { maxPacketBytes: 268_435_455 } });
  const raw = await connectedRaw(t, tb);
  raw.socket.write(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]));
  await raw.closed;
  t.equal(tb.broker.stats().rejected.malformed, 1);
  t.equal(raw.received().length, 4);
});

t.test('a packet of a reserved type closes the connection', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const raw = await connectedRaw(t, tb);
  raw.socket.write(Buffer.from([0xf0, 0x00]));
  await raw.closed;
  t.equal(tb.broker.stats().rejected.malformed, 1);
});

t.test('packets up to the limit pass the guard', async (t) => {
  const tb = await startTestBroker(t, owner, [alice], { limits: { maxPacketBytes: 1024 } });
  const client = await connectPeer(t, tb, alice);
  // a SUBSCRIBE of ~900 bytes (deep in the allowed subtree) is under the limit and gets its SUBACK
  const filter = `tonari/v1/${O}/pub/${'k'.repeat(850)}`;
  const granted = await new Promise<number | undefined>((resolve) => client.subscribe(filter, { qos: 0 }, (_e, g) => resolve(g?.[0]?.qos)));
  t.equal(granted, 0);
  t.equal(tb.broker.stats().rejected.too_big, 0);
  const gone = closed(client);
  client.subscribe(`tonari/v1/${O}/pub/${'k'.repeat(1100)}`, { qos: 0 }, () => {});
  await gone;
  t.equal(tb.broker.stats().rejected.too_big, 1, 'and one over it does not');
});

t.test('more than 4 connections from one address: the extras are closed at once and counted (MQ-6)', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const { port } = tb.broker.tlsAddress();
  const sockets: RawSocket[] = [];
  for (let i = 0; i < 7; i++) sockets.push(await rawTcp(t, port));
  await until(() => tb.broker.stats().rejected.conn_limit === 3, '3 refusals');
  const open = () => sockets.filter((s) => !s.socket.destroyed && !s.socket.closed).length;
  await Promise.all(sockets.slice(4).map((s) => s.closed));
  t.equal(open(), 4, 'the first four stay (handshaking)');
  t.equal(tb.broker.stats().connections.tls, 4);
  // a trusted peer can connect once they are gone
  for (const s of sockets) s.socket.destroy();
  await until(() => tb.broker.stats().connections.tls === 0, 'slots freed');
  const client = await connectPeer(t, tb, alice);
  t.ok(client.connected);
});

t.test('the total connection limit holds across addresses', async (t) => {
  const tb = await startTestBroker(t, owner, [alice], { limits: { maxConnections: 2, maxConnectionsPerAddress: 10 } });
  const { port } = tb.broker.tlsAddress();
  const a = await rawTcp(t, port);
  const b = await rawTcp(t, port);
  const c = await rawTcp(t, port);
  await c.closed;
  t.equal(tb.broker.stats().rejected.conn_limit, 1);
  t.notOk(a.socket.destroyed || b.socket.destroyed);
});

t.test('a handshake that never starts is dropped after handshakeTimeoutMs', async (t) => {
  const tb = await startTestBroker(t, owner, [alice], { limits: { handshakeTimeoutMs: 200 } });
  const raw = await rawTcp(t, tb.broker.tlsAddress().port);
  await raw.closed;
  t.equal(tb.broker.stats().tlsRejected.handshake, 1);
});

t.test('close() ends every connection and frees the ports', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const client = await connectPeer(t, tb, alice);
  const idle = await rawTcp(t, tb.broker.tlsAddress().port);
  const gone = closed(client);
  await tb.broker.close();
  await gone;
  await idle.closed;
  await t.rejects(tb.broker.publish(`tonari/v1/${O}/status`, 'x'), /closed/);
  await tb.broker.close(); // idempotent
});
