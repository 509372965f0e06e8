/**
 * Test helpers for the embedded broker: Ed25519 identities made by openssl,
 * a broker with an in-memory trust list, mqtt.js clients over mutual TLS that
 * pin the server key themselves, and raw TLS sockets for hand-made packets.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { peerIdFromFingerprint } from '../../agent/identity/peer-id.js';
import { startBroker, type BrokerHandle, type BrokerOptions } from '../../broker/index.js';
import { certificateFingerprint, peerCertificateFingerprint } from '../../broker/cert-identity.js';

export interface TestIdentity {
  name: string;
  keyPem: string;
  certPem: string;
  keyFile: string;
  certFile: string;
  fingerprint: string;
  peerId: string;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

let scratch: string | undefined;
function scratchDir(): string {
  if (!scratch) {
    scratch = mkdtempSync(join(tmpdir(), 'tonari-broker-test-'));
    const dir = scratch;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

function openssl(args: string[]): void {
  const res = spawnSync('openssl', args, { encoding: 'utf8', timeout: 20_000 });
  if (res.error || res.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${res.error?.message ?? res.stderr}`);
}

/** A self-signed Ed25519 certificate made by openssl (as a neighbour's would be). */
export function makeIdentity(name: string, algorithm: 'ed25519' | 'ec' = 'ed25519'): TestIdentity {
  const dir = scratchDir();
  const keyFile = join(dir, `${name}.key.pem`);
  const certFile = join(dir, `${name}.cert.pem`);
  if (algorithm === 'ed25519') openssl(['genpkey', '-algorithm', 'ed25519', '-out', keyFile]);
  else openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
  openssl(['req', '-x509', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-days', '2', '-out', certFile]);
  const certPem = readFileSync(certFile, 'utf8');
  const id = certificateFingerprint(certPem);
  const fingerprint = id.ok ? id.fingerprint : '';
  return { name, keyPem: readFileSync(keyFile, 'utf8'), certPem, keyFile, certFile, fingerprint, peerId: fingerprint ? peerIdFromFingerprint(fingerprint) : '' };
}

export interface TestBroker {
  broker: BrokerHandle;
  owner: TestIdentity;
  unknown: string[];
}

/** Starts a broker owned by `owner` that trusts `trusted`, on 127.0.0.1, closed at teardown. */
export async function startTestBroker(t: Teardown, owner: TestIdentity, trusted: TestIdentity[], extra: Partial<BrokerOptions> = {}): Promise<TestBroker> {
  const byFingerprint = new Map(trusted.map((i) => [i.fingerprint, { peerId: i.peerId }]));
  const unknown: string[] = [];
  const broker = await startBroker({
    identity: { peerId: owner.peerId, keyPem: owner.keyPem, certPem: owner.certPem },
    trust: { lookup: (fp) => byFingerprint.get(fp) },
    onUnknownPeer: (fp) => unknown.push(fp),
    host: '127.0.0.1',
    port: 0,
    localPort: 0,
    ...extra,
  });
  t.teardown(() => broker.close());
  return { broker, owner, unknown };
}

/** TLS options of a client that presents `self` (if any) and pins the server key to `server` itself. */
function tlsConnect(port: number, self: TestIdentity | undefined, serverFingerprint: string): tls.TLSSocket {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ...(self ? { key: self.keyPem, cert: self.certPem } : {}),
    rejectUnauthorized: false, // self-signed; pinned below instead
    minVersion: 'TLSv1.3',
  });
  socket.once('secureConnect', () => {
    const id = peerCertificateFingerprint(socket);
    if (!id.ok || id.fingerprint !== serverFingerprint) socket.destroy(new Error('server fingerprint mismatch'));
  });
  return socket;
}

/** An mqtt.js client (MQTT 3.1.1) over mutual TLS; resolves on CONNACK, rejects on refusal. */
export function connectPeer(t: Teardown, tb: TestBroker, self: TestIdentity | undefined, options: IClientOptions = {}): Promise<MqttClient> {
  return connectPeerTo(t, tb.broker.tlsAddress().port, tb.owner.fingerprint, self, options);
}

/** The same, to any port whose server key has `serverFingerprint`. */
export function connectPeerTo(t: Teardown, port: number, serverFingerprint: string, self: TestIdentity | undefined, options: IClientOptions = {}): Promise<MqttClient> {
  const client = new mqtt.MqttClient(() => tlsConnect(port, self, serverFingerprint), {
    clientId: self?.peerId ?? 'nobody',
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...options,
  });
  t.teardown(() => client.end(true));
  return settleConnect(client);
}

/** An mqtt.js client on the local plaintext listener. */
export function connectLocal(t: Teardown, tb: TestBroker, options: IClientOptions = {}): Promise<MqttClient> {
  const address = tb.broker.localAddress();
  if (!address) throw new Error('no local listener');
  return connectLocalTo(t, address.port, options);
}

export function connectLocalTo(t: Teardown, port: number, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect({ host: '127.0.0.1', port, protocol: 'mqtt', protocolVersion: 4, reconnectPeriod: 0, ...options });
  t.teardown(() => client.end(true));
  return settleConnect(client);
}

function settleConnect(client: MqttClient): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    // After CONNACK, errors (ECONNRESET when the broker drops us) are expected in these tests; closes are what they check.
    const onConnect = () => { cleanup(); client.on('error', () => {}); resolve(client); };
    const onError = (err: Error) => { cleanup(); reject(err); };
    const onClose = () => { cleanup(); reject(new Error('closed before CONNACK')); };
    const cleanup = () => { client.off('connect', onConnect); client.off('error', onError); client.off('close', onClose); };
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
  });
}

/** Resolves when the client's connection closes (or immediately if it already has). */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected && !client.reconnecting && (client.stream?.destroyed ?? true)) return resolve();
    client.once('close', () => resolve());
  });
}

/** SUBACK granted codes for one subscription; never rejects on 128 (mqtt.js would). */
export function subscribeGranted(client: MqttClient, topic: string, qos: 0 | 1 | 2 = 1): Promise<number> {
  return new Promise((resolve, reject) => {
    client.subscribe(topic, { qos }, (err, granted) => {
      // On a refusal mqtt.js calls back with an error carrying the SUBACK (and the *requested* QoS in `granted`).
      const packet = (err as Error & { packet?: { granted?: number[] } } | null)?.packet;
      if (packet?.granted?.[0] !== undefined) return resolve(packet.granted[0]);
      if (!err && granted && granted[0]) return resolve(granted[0].qos);
      reject(err ?? new Error('no SUBACK'));
    });
  });
}

/** Collects messages arriving on a client. */
export function collect(client: MqttClient): { topic: string; payload: string; retain: boolean }[] {
  const seen: { topic: string; payload: string; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => seen.push({ topic, payload: payload.toString('utf8'), retain: packet.retain }));
  return seen;
}

/** Waits until `predicate` holds, polling; fails after `ms` (a liveness bound, not a timing assertion). */
export async function until(predicate: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface RawSocket {
  socket: net.Socket;
  /** Bytes received so far. */
  received(): Buffer;
  /** Resolves when the socket has closed. */
  closed: Promise<void>;
}

function wrapRaw(socket: net.Socket): RawSocket {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  const closedP = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => Buffer.concat(chunks), closed: closedP };
}

/** A raw TLS socket presenting `self`, resolved after the handshake (the server may still close it right after). */
export function rawTls(t: Teardown, tb: TestBroker, self: TestIdentity | undefined): Promise<RawSocket> {
  const socket = tlsConnect(tb.broker.tlsAddress().port, self, tb.owner.fingerprint);
  t.teardown(() => socket.destroy());
  const raw = wrapRaw(socket);
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', () => resolve(raw));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed during handshake')));
  });
}

/** A raw TCP socket, resolved once connected (it may be closed right after). */
export function rawTcp(t: Teardown, port: number): Promise<RawSocket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  t.teardown(() => socket.destroy());
  const raw = wrapRaw(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(raw));
    socket.once('error', reject);
  });
}

// ---- hand-made MQTT 3.1.1 packets ----

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

function str(bytes: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

export function packet(typeAndFlags: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([typeAndFlags]), varint(body.length), body]);
}

/** CONNECT, MQTT 3.1.1, clean session, keepalive 60. `clientId` as raw bytes so tests can send invalid UTF-8. */
export function connectPacket(clientId: Buffer | string, clean = true): Buffer {
  const id = typeof clientId === 'string' ? Buffer.from(clientId, 'utf8') : clientId;
  const variable = Buffer.concat([str(Buffer.from('MQTT')), Buffer.from([4, clean ? 0x02 : 0x00, 0, 60])]);
  return packet(0x10, Buffer.concat([variable, str(id)]));
}

/** SUBSCRIBE with one filter (raw bytes) at QoS 0. */
export function subscribePacket(messageId: number, filter: Buffer | string): Buffer {
  const f = typeof filter === 'string' ? Buffer.from(filter, 'utf8') : filter;
  const id = Buffer.alloc(2);
  id.writeUInt16BE(messageId);
  return packet(0x82, Buffer.concat([id, str(f), Buffer.from([0])]));
}

/** Waits for `n` bytes (or close) on a raw socket. */
export async function receivedAtLeast(raw: RawSocket, n: number): Promise<Buffer> {
  await Promise.race([until(() => raw.received().length >= n, `${n} bytes`), raw.closed]);
  return raw.received();
}
