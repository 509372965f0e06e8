import t from 'tap';
import { connectPacket, connectPeer, makeIdentity, rawTls, receivedAtLeast, startTestBroker } from './helpers.js';

const owner = makeIdentity('owner');
const alice = makeIdentity('alice');
const bob = makeIdentity('bob');
const mallory = makeIdentity('mallory');
const rsaLike = makeIdentity('p256', 'ec');

t.test('a trusted neighbour connects over mutual TLS with its peer id as client id', async (t) => {
  const tb = await startTestBroker(t, owner, [alice, bob]);
  const client = await connectPeer(t, tb, alice);
  t.ok(client.connected, 'CONNACK 0');
  t.same(tb.broker.stats().peers, [alice.peerId]);
  t.equal(tb.broker.stats().clients, 1);
  t.equal(tb.broker.stats().rejected.tls_rejected, 0);
});

t.test('the client side can pin the broker key: a broker with another key is refused', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  // pretend we expected mallory's key at this address
  const err = await connectPeer(t, { ...tb, owner: mallory }, alice).then(() => undefined, (e: Error) => e);
  t.match(err?.message, /server fingerprint mismatch|closed before CONNACK/);
});

t.test('a foreign client id with a trusted certificate gets CONNACK rc 5 (TLS-3)', async (t) => {
  const tb = await startTestBroker(t, owner, [alice, bob]);
  const err = await connectPeer(t, tb, alice, { clientId: bob.peerId }).then(() => undefined, (e: Error & { code?: number }) => e);
  t.equal((err as { code?: number } | undefined)?.code, 5, 'not authorized');
  t.equal(tb.broker.stats().rejected.not_authorized, 1);
  t.equal(tb.broker.stats().clients, 0);
});

t.test('client id hygiene: not a peer id, empty, control characters → CONNACK rc 2', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  for (const clientId of ['alice', `${alice.peerId}x`, `${alice.peerId.slice(0, 22)}\u0001`]) {
    const err = await connectPeer(t, tb, alice, { clientId }).then(() => undefined, (e: Error) => e);
    t.equal((err as { code?: number } | undefined)?.code, 2, `${JSON.stringify(clientId)} rejected`);
  }
  // zero-length id, sent raw (mqtt.js would invent one)
  const raw = await rawTls(t, tb, alice);
  raw.socket.write(connectPacket('', false));
  const got = await receivedAtLeast(raw, 4);
  t.same([...got.subarray(0, 4)], [0x20, 0x02, 0x00, 0x02], 'CONNACK identifier rejected for an empty id with CleanSession=0');
  // U+0000 inside the id
  const raw2 = await rawTls(t, tb, alice);
  raw2.socket.write(connectPacket(Buffer.from(`${alice.peerId.slice(0, 10)}\u0000${alice.peerId.slice(11)}`)));
  const got2 = await receivedAtLeast(raw2, 4);
  t.same([...got2.subarray(0, 4)], [0x20, 0x02, 0x00, 0x02], 'CONNACK identifier rejected for U+0000');
  t.equal(tb.broker.stats().rejected.bad_client_id, 5);
});

t.test('no client certificate → closed before any MQTT byte is read, counted', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const err = await connectPeer(t, tb, undefined, { clientId: alice.peerId }).then(() => undefined, (e: Error) => e);
  t.ok(err, `refused: ${err?.message}`);
  // raw: send a CONNECT right after the handshake; nothing comes back
  // TLS 1.3: the client finishes its side of the handshake before the server has seen
  // (the absence of) its certificate, so it gets to write a CONNECT; nobody reads it.
  const raw = await rawTls(t, tb, undefined);
  raw.socket.write(connectPacket(alice.peerId));
  await raw.closed;
  t.equal(raw.received().length, 0, 'no CONNACK');
  t.equal(tb.broker.stats().tlsRejected.no_cert, 2, 'counted as no_cert');
  t.equal(tb.broker.stats().rejected.tls_rejected, 2);
  t.equal(tb.broker.stats().clients, 0);
});

t.test('an unknown certificate → closed, counted, reported to onUnknownPeer', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const err = await connectPeer(t, tb, mallory).then(() => undefined, (e: Error) => e);
  t.ok(err, `refused: ${err?.message}`);
  const raw = await rawTls(t, tb, mallory);
  raw.socket.write(connectPacket(mallory.peerId));
  await raw.closed;
  t.equal(raw.received().length, 0, 'no CONNACK');
  t.equal(tb.broker.stats().tlsRejected.unknown_peer, 2);
  t.same(tb.unknown, [mallory.fingerprint, mallory.fingerprint]);
  t.equal(tb.broker.stats().clients, 0);
});

t.test('a certificate without an Ed25519 key is refused (not_ed25519)', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  t.equal(rsaLike.fingerprint, '', 'no Ed25519 fingerprint');
  const err = await connectPeer(t, tb, rsaLike, { clientId: alice.peerId }).then(() => undefined, (e: Error) => e);
  t.ok(err);
  t.equal(tb.broker.stats().tlsRejected.not_ed25519, 1);
});

t.test('a trust store entry with a peer id that does not match the key is refused', async (t) => {
  const tb = await startTestBroker(t, owner, [{ ...alice, peerId: bob.peerId }]);
  const err = await connectPeer(t, tb, alice).then(() => undefined, (e: Error) => e);
  t.ok(err);
  t.equal(tb.broker.stats().tlsRejected.trust_mismatch, 1);
});

t.test('disconnect(peerId) closes that peer and only that peer', async (t) => {
  const tb = await startTestBroker(t, owner, [alice, bob]);
  const a = await connectPeer(t, tb, alice);
  const b = await connectPeer(t, tb, bob);
  const aClosed = new Promise<void>((resolve) => a.once('close', () => resolve()));
  t.equal(tb.broker.disconnect(alice.peerId), 1);
  await aClosed;
  t.ok(b.connected, 'bob still connected');
  t.equal(tb.broker.disconnect('tnobodyaaaaaaaaaaaaaaaaa'), 0);
});

t.test('startBroker refuses an identity whose peer id does not match its certificate', async (t) => {
  await t.rejects(startTestBroker(t, { ...owner, peerId: alice.peerId }, []), /does not match/);
});

t.test('TLS below 1.3 is refused', async (t) => {
  const tb = await startTestBroker(t, owner, [alice]);
  const tls = await import('node:tls');
  const err = await new Promise<Error | undefined>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: tb.broker.tlsAddress().port, key: alice.keyPem, cert: alice.certPem, rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
    s.once('secureConnect', () => { s.destroy(); resolve(undefined); });
    s.once('error', (e) => resolve(e));
  });
  t.ok(err, `TLS 1.2 handshake failed: ${err?.message}`);
  t.equal(tb.broker.stats().tlsRejected.handshake, 1);
});
