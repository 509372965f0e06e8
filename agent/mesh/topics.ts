/**
 * The topic namespace, identical on an agent's embedded broker and on a shared
 * MQTT cluster. Each agent publishes only under its own root:
 *
 *   tonari/v1/<owner>/status                 retained {"state","key","at"} JSON (last will: offline)
 *   tonari/v1/<owner>/pub/<kind>             public messages (orders, adverts)
 *   tonari/v1/<owner>/to/<recipient>/<kind>  messages addressed to one neighbour
 *
 * A neighbour may subscribe to <owner>/status, <owner>/pub/# and
 * <owner>/to/<itself>/#, and to nothing else.
 */
export const TOPIC_ROOT = 'tonari/v1';
export const KIND_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

export function ownerRoot(owner: string): string {
  return `${TOPIC_ROOT}/${owner}`;
}

export function statusTopic(owner: string): string {
  return `${ownerRoot(owner)}/status`;
}

export function publicTopic(owner: string, kind: string): string {
  return `${ownerRoot(owner)}/pub/${kind}`;
}

export function directTopic(owner: string, recipient: string, kind: string): string {
  return `${ownerRoot(owner)}/to/${recipient}/${kind}`;
}

/** The subscriptions a neighbour makes to hear everything `owner` says to it (on a shared broker: clusterSubscriptions). */
export function neighbourSubscriptions(owner: string, self: string): string[] {
  return [statusTopic(owner), `${ownerRoot(owner)}/pub/#`, `${ownerRoot(owner)}/to/${self}/#`];
}

export type ParsedTopic =
  | { owner: string; scope: 'status' }
  | { owner: string; scope: 'public'; kind: string }
  | { owner: string; scope: 'direct'; recipient: string; kind: string };

/** Parses a concrete (wildcard-free) topic of the namespace; undefined for anything else. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== 'tonari' || parts[1] !== 'v1' || !parts[2]) return undefined;
  const owner = parts[2];
  if (parts.length === 4 && parts[3] === 'status') return { owner, scope: 'status' };
  if (parts.length === 5 && parts[3] === 'pub' && KIND_PATTERN.test(parts[4]!)) return { owner, scope: 'public', kind: parts[4]! };
  if (parts.length === 6 && parts[3] === 'to' && parts[4] && KIND_PATTERN.test(parts[5]!)) {
    return { owner, scope: 'direct', recipient: parts[4], kind: parts[5]! };
  }
  return undefined;
}

/** What an agent subscribes to on a shared cluster: every status, every public message, everything addressed to it. Status first. */
export function clusterSubscriptions(self: string): string[] {
  return [`${TOPIC_ROOT}/+/status`, `${TOPIC_ROOT}/+/pub/#`, `${TOPIC_ROOT}/+/to/${self}/#`];
}

export type StatusState = 'online' | 'offline';

/**
 * The retained status payload (not an envelope, not signed): liveness, and the owner's raw
 * Ed25519 public key so a receiver that never saw the owner's certificate (shared cluster)
 * can verify its envelopes. The key is self-certifying: a receiver uses it only if
 * peerIdOf(key) is the topic's owner and fingerprintOf(key) is trusted.
 */
export interface StatusPayload {
  state: StatusState;
  /** Raw 32-byte Ed25519 public key, unpadded base64url (43 characters). */
  key: string;
  /** Sender's clock when it wrote the status (for a last will: when it connected), ms since the epoch. */
  at: number;
}

export const MAX_STATUS_BYTES = 512;

export function encodeStatus(state: StatusState, rawKey: Uint8Array, at: number): string {
  const payload: StatusPayload = { state, key: Buffer.from(rawKey).toString('base64url'), at: Math.floor(at) };
  return JSON.stringify(payload);
}

export interface DecodedStatus {
  state: StatusState;
  /** Present when the payload carried a well-formed 32-byte key. */
  key?: Buffer;
  at?: number;
}

/**
 * Reads a status payload. Accepts the JSON form and, from agents of before the key was
 * added, the bare text `online` / `offline` (no key). Undefined for anything else.
 */
export function decodeStatus(payload: Uint8Array): DecodedStatus | undefined {
  if (payload.length > MAX_STATUS_BYTES) return undefined;
  const text = Buffer.from(payload).toString('utf8');
  if (text === 'online' || text === 'offline') return { state: text };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { state, key, at } = value as Record<string, unknown>;
  if (state !== 'online' && state !== 'offline') return undefined;
  const decoded: DecodedStatus = { state };
  if (typeof at === 'number' && Number.isSafeInteger(at) && at >= 0) decoded.at = at;
  if (key !== undefined) {
    if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(key)) return undefined;
    const raw = Buffer.from(key, 'base64url');
    if (raw.length !== 32 || raw.toString('base64url') !== key) return undefined;
    decoded.key = raw;
  }
  return decoded;
}
