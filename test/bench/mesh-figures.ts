/**
 * Pure parts of bench:mesh: the Mosquitto configuration and ACL, the raw MQTT
 * bytes the flood sends, source addresses, the figures' arithmetic, the
 * headline JSON and the table. No I/O, no timing: mesh-figures.test.ts checks them.
 */

/** MQTT control packet types used by the flood (MQTT 3.1.1 §2.2.1). */
export const PACKET_TYPE = { CONNECT: 1, PUBLISH: 3, SUBSCRIBE: 8, DISCONNECT: 14 } as const;

/** The largest remaining length MQTT can encode (4 varint bytes). */
export const MAX_REMAINING_LENGTH = 268_435_455;

/** MQTT's remaining-length varint (§2.2.3). */
export function encodeRemainingLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > MAX_REMAINING_LENGTH) throw new RangeError(`remaining length out of range: ${length}`);
  const bytes: number[] = [];
  let x = length;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    bytes.push(byte);
  } while (x > 0);
  return Buffer.from(bytes);
}

/** A fixed header announcing `remainingLength` bytes for a packet of `type` (flags as MQTT requires for SUBSCRIBE, 0 otherwise). */
export function fixedHeader(type: number, remainingLength: number, flags = type === PACKET_TYPE.SUBSCRIBE ? 0b0010 : 0): Buffer {
  return Buffer.concat([Buffer.from([(type << 4) | flags]), encodeRemainingLength(remainingLength)]);
}

function utf8Field(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** A complete MQTT 3.1.1 CONNECT with clean session and this client id. */
export function connectPacket(clientId: string, keepaliveSeconds = 30): Buffer {
  const variable = Buffer.concat([utf8Field('MQTT'), Buffer.from([4, 0b0000_0010, keepaliveSeconds >> 8, keepaliveSeconds & 0xff])]);
  const payload = utf8Field(clientId);
  return Buffer.concat([fixedHeader(PACKET_TYPE.CONNECT, variable.length + payload.length), variable, payload]);
}

/** A complete QoS 0 PUBLISH of `payloadBytes` filler bytes. */
export function publishPacket(topic: string, payloadBytes: number): Buffer {
  const variable = utf8Field(topic);
  return Buffer.concat([fixedHeader(PACKET_TYPE.PUBLISH, variable.length + payloadBytes), variable, Buffer.alloc(payloadBytes, 0x61)]);
}

/** DISCONNECT: a fixed header with nothing after it. */
export function disconnectPacket(): Buffer {
  return fixedHeader(PACKET_TYPE.DISCONNECT, 0);
}

/**
 * The kinds of flood attempt, in rotation:
 * - `connect-header`: before CONNECT, a CONNECT header announcing 256 MiB, then nothing;
 * - `publish-stream`: a proper CONNECT, then a PUBLISH header announcing 100 MB and a 1 MiB body streamed behind it;
 * - `near-limit`: a proper CONNECT, then PUBLISH packets just under the packet limit, streamed back to back
 *   (passes the size guard; the ACL refuses the first one and the broker closes the connection).
 */
export const FLOOD_KINDS = ['connect-header', 'publish-stream', 'near-limit'] as const;
export type FloodKind = (typeof FLOOD_KINDS)[number];

/** The control: a proper CONNECT, the CONNACK awaited, then DISCONNECT (the same connection churn, nothing oversized). */
export const CONTROL_KIND = 'well-behaved';
export type AttemptKind = FloodKind | typeof CONTROL_KIND;

/**
 * Distinct loopback source addresses, 127.0.0.(base+i): on a LAN every
 * neighbour connects from its own address, so binding one per flood client
 * keeps the broker's per-address limit what it is in the field.
 */
export function loopbackSource(index: number, base = 10): string {
  const host = base + index;
  if (!Number.isInteger(index) || index < 0 || host > 254) throw new RangeError(`no loopback source address for index ${index}`);
  return `127.0.0.${host}`;
}

export interface MosquittoFiles {
  port: number;
  /** Self-signed certificates of the clients, concatenated: require_certificate checks them against this. */
  cafile: string;
  certfile: string;
  keyfile: string;
  aclFile: string;
  /**
   * The user this process runs as. Run as root, Mosquitto otherwise drops to
   * the `mosquitto` user, which cannot read our private temporary directory;
   * naming ourselves keeps the files private (ignored when not root).
   */
  user: string;
  /**
   * TCP_NODELAY on client sockets (`set_tcp_nodelay`). Off is what the
   * embedded broker does (neither it nor aedes sets it); on is Mosquitto's fastest.
   */
  tcpNoDelay: boolean;
}

/**
 * Mosquitto 2.0 with a TLS 1.3 listener on 127.0.0.1 that requires a client
 * certificate (the CN, i.e. the peer id, becomes the user name), an ACL like
 * the hub's, no persistence, and queue limits high enough that QoS 1 is not
 * dropped within the benchmark's window. `max_inflight_messages 0` lifts
 * Mosquitto's default cap of 20 unacknowledged QoS 1 messages per client,
 * which aedes does not have: with it Mosquitto waits on PUBACKs and the
 * comparison would measure that default, not the broker.
 */
export function mosquittoConfig(files: MosquittoFiles): string {
  return [
    `user ${files.user}`,
    'per_listener_settings false',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'max_queued_messages 10000',
    'max_inflight_messages 0',
    `set_tcp_nodelay ${files.tcpNoDelay ? 'true' : 'false'}`,
    `acl_file ${files.aclFile}`,
    `listener ${files.port} 127.0.0.1`,
    'protocol mqtt',
    `cafile ${files.cafile}`,
    `certfile ${files.certfile}`,
    `keyfile ${files.keyfile}`,
    'tls_version tlsv1.3',
    'require_certificate true',
    'use_identity_as_username true',
    '',
  ].join('\n');
}

/** The per-client topic pattern of external-broker mode, as a Mosquitto ACL (%u = the certificate's CN = the peer id). */
export function mosquittoAcl(): string {
  return [
    'pattern write tonari/v1/%u/#',
    'pattern read tonari/v1/+/status',
    'pattern read tonari/v1/+/pub/#',
    'pattern read tonari/v1/+/to/%u/#',
    '',
  ].join('\n');
}

export const msgsPerSecond = (messages: number, ms: number): number => (ms > 0 ? (messages * 1000) / ms : NaN);

export function round(n: number, digits: number): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function ratio(a: number, b: number): number {
  return b > 0 && Number.isFinite(a) ? a / b : NaN;
}

/** Median of the finite values; NaN if there are none. */
export function median(values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** The three throughput setups: tonari's own use, and the like-for-like pair. */
export type Setup = 'agent' | 'hub' | 'mosquitto';

/** The best finite rate of one setup; NaN if it has none. */
export function bestRate(rows: readonly { setup: Setup; msgsPerSecond: number }[], setup: Setup): number {
  const rates = rows.filter((r) => r.setup === setup && Number.isFinite(r.msgsPerSecond)).map((r) => r.msgsPerSecond);
  return rates.length ? Math.max(...rates) : NaN;
}

/** The median finite broker CPU per message of one setup; NaN if it has none. */
export function medianCpu(rows: readonly { setup: Setup; brokerCpuUsPerMsg: number }[], setup: Setup): number {
  return median(rows.filter((r) => r.setup === setup).map((r) => r.brokerCpuUsPerMsg));
}

/** Like for like: the embedded broker in hub mode (every guard on) over Mosquitto, best run of each; NaN without both. */
export function throughputRatio(rows: readonly { setup: Setup; msgsPerSecond: number }[]): number {
  return ratio(bestRate(rows, 'hub'), bestRate(rows, 'mosquitto'));
}

/** RSS growth under the flood: the highest RSS seen during and just after it, over the baseline (never negative). */
export function rssGrowthMB(beforeMB: number, samplesMB: readonly number[]): number {
  const seen = samplesMB.filter(Number.isFinite);
  if (!Number.isFinite(beforeMB) || seen.length === 0) return NaN;
  return Math.max(0, Math.max(...seen) - beforeMB);
}

export interface Headline {
  meshSeconds3: number;
  meshSeconds10: number;
  throughputRatioVsMosquitto: number;
  floodRssGrowthMB: number;
}

/** The last stdout line. Non-finite figures (a part that failed) become null, which JSON can carry. */
export function headlineJson(h: Headline): string {
  const v = (n: number, digits: number) => (Number.isFinite(n) ? round(n, digits) : null);
  return JSON.stringify({
    meshSeconds3: v(h.meshSeconds3, 3),
    meshSeconds10: v(h.meshSeconds10, 3),
    throughputRatioVsMosquitto: v(h.throughputRatioVsMosquitto, 3),
    floodRssGrowthMB: v(h.floodRssGrowthMB, 2),
  });
}

/** Right-aligned columns after a left-aligned first one. */
export function table(header: string[], rows: (string | number)[][]): string[] {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
}
