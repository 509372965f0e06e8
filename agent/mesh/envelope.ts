/**
 * Sealing and opening signed envelopes (security.md MSG-1..MSG-4, MSG-6).
 *
 * Wire form: the canonical JSON (canonical.ts) of the whole envelope, UTF-8. The signature
 * is Ed25519 over SIGNING_PREFIX followed by the canonical JSON of the envelope without
 * `sig`. Opening checks, in this order, and stops at the first failure:
 *
 *   size → JSON and schema (and canonical form) → recipient → topic → known sender
 *   → signature → timestamp window → replay → rate
 *
 * A rejected message changes nothing but the rejection counters; only a message that
 * passed every check is recorded by the replay guard and charged to the rate limiter.
 */
import { createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { PEER_ID_PATTERN, peerIdOf, rawPublicKey } from '../identity/peer-id.js';
import { canonicalBytes } from './canonical.js';
import {
  DEFAULT_ENVELOPE_LIMITS,
  ENVELOPE_VERSION,
  checkBody,
  parseEnvelope,
  type Envelope,
  type EnvelopeLimits,
  type UnsignedEnvelope,
} from './envelope-schema.js';
import type { RateLimiter } from './rate-limit.js';
import type { RejectReason, Rejections } from './rejections.js';
import { DEFAULT_REPLAY_OPTIONS, type ReplayGuard } from './replay-store.js';
import { KIND_PATTERN, parseTopic } from './topics.js';

/** Domain separation: these signatures can never be mistaken for any other tonari signature. */
export const SIGNING_PREFIX = 'tonari/v1 envelope\n';

/** Default accepted difference between a message's `ts` and our clock, either way. */
export const DEFAULT_TIME_WINDOW_MS = DEFAULT_REPLAY_OPTIONS.timeWindowMs;

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

export interface Signer {
  peerId: string;
  privateKey: KeyObject;
  /** Strictly increasing across restarts: SequenceAllocator.nextSeq. */
  nextSeq(): number;
}

export interface SealInput {
  type: string;
  to?: string;
  body: Record<string, unknown>;
}

export interface Sealed {
  envelope: Envelope;
  /** The bytes to publish. */
  bytes: Buffer;
}

/** The exact bytes an envelope's signature covers. Throws CanonicalError on non-JSON content. */
export function signingBytes(unsigned: UnsignedEnvelope): Buffer {
  const { sig: _ignored, ...rest } = unsigned as UnsignedEnvelope & { sig?: unknown };
  return Buffer.concat([Buffer.from(SIGNING_PREFIX, 'utf8'), canonicalBytes(rest)]);
}

/** Signs an unsigned envelope as is (no checks; sealEnvelope is the checked way). */
export function signEnvelope(unsigned: UnsignedEnvelope, privateKey: KeyObject): Envelope {
  const sig = sign(null, signingBytes(unsigned), privateKey).toString('base64url');
  return { ...unsigned, sig };
}

/** The wire form of an envelope: its canonical JSON. */
export function encodeEnvelope(envelope: Envelope): Buffer {
  return canonicalBytes(envelope);
}

/** 128 random bits, base64url (22 characters). */
export function newMessageId(): string {
  return randomBytes(16).toString('base64url');
}

const peerIdOfKey = new WeakMap<KeyObject, string>();

/**
 * Builds, signs and encodes a message. Throws EnvelopeError when the input could never be
 * accepted by a peer (bad kind or recipient, body over the limits, too big, wrong key).
 */
export function sealEnvelope(input: SealInput, signer: Signer, clock: Clock, limits: Partial<EnvelopeLimits> = {}): Sealed {
  const lim = { ...DEFAULT_ENVELOPE_LIMITS, ...limits };
  if (!KIND_PATTERN.test(input.type)) throw new EnvelopeError(`not a message kind: ${input.type}`);
  if (input.to !== undefined && !PEER_ID_PATTERN.test(input.to)) throw new EnvelopeError(`not a peer id: ${input.to}`);
  const bodyProblem = checkBody(input.body, lim);
  if (bodyProblem) throw new EnvelopeError(`body${bodyProblem}`);
  let keyPeer = peerIdOfKey.get(signer.privateKey);
  if (keyPeer === undefined) {
    keyPeer = peerIdOf(rawPublicKey(signer.privateKey));
    peerIdOfKey.set(signer.privateKey, keyPeer);
  }
  if (keyPeer !== signer.peerId) throw new EnvelopeError(`signer ${signer.peerId} does not hold the key of ${keyPeer}`);
  const seq = signer.nextSeq();
  if (!Number.isSafeInteger(seq) || seq < 1) throw new EnvelopeError(`sequence number ${seq} is not a positive safe integer`);
  const unsigned: UnsignedEnvelope = {
    v: ENVELOPE_VERSION,
    type: input.type,
    from: signer.peerId,
    ...(input.to === undefined ? {} : { to: input.to }),
    seq,
    ts: Math.floor(clock.now()),
    id: newMessageId(),
    body: input.body,
  };
  const envelope = signEnvelope(unsigned, signer.privateKey);
  const bytes = encodeEnvelope(envelope);
  if (bytes.length > lim.maxBytes) throw new EnvelopeError(`envelope of ${bytes.length} bytes exceeds ${lim.maxBytes}`);
  return { envelope, bytes };
}

/**
 * Why an envelope does not belong on `topic`, or undefined when it does: the topic's owner
 * must be the sender, its kind the envelope's type, a public topic carries no recipient,
 * and a direct topic is addressed to `self` and matches the envelope's recipient.
 */
export function checkTopic(topic: string, envelope: Pick<Envelope, 'from' | 'to' | 'type'>, self: string): string | undefined {
  const parsed = parseTopic(topic);
  if (!parsed) return 'not a topic of the tonari/v1 namespace';
  if (parsed.scope === 'status') return 'envelopes do not travel on status topics';
  if (parsed.owner !== envelope.from) return `sender ${envelope.from} does not own topic of ${parsed.owner}`;
  if (parsed.kind !== envelope.type) return `type ${envelope.type} on a topic for ${parsed.kind}`;
  if (parsed.scope === 'public') return envelope.to === undefined ? undefined : 'addressed message on a public topic';
  if (parsed.recipient !== self) return `topic addressed to ${parsed.recipient}, not to us`;
  if (envelope.to !== parsed.recipient) return 'recipient differs from the topic';
  return undefined;
}

export interface OpenContext {
  /** Our own peer id. */
  self: string;
  /** The raw Ed25519 public key of a trusted peer (trust store), undefined for strangers. */
  resolveKey(peerId: string): Uint8Array | undefined;
  clock: Clock;
  replay: ReplayGuard;
  rate: Pick<RateLimiter, 'allows' | 'take'>;
  /** Counted into when given. */
  rejections?: Rejections;
  /** The MQTT topic the message arrived on; checked with checkTopic when given. */
  topic?: string;
  /** Peer id of the neighbour whose (mutually authenticated) link delivered the bytes: rejections are charged to it. */
  source?: string;
  limits?: Partial<EnvelopeLimits>;
  /** Accepted |ts - now|; keep it no larger than the replay store's timeWindowMs. */
  timeWindowMs?: number;
  log?: Logger;
}

export type OpenResult =
  | { ok: true; envelope: Envelope; /** Replay state not yet durable: `await flush()` before acting on a state-changing message. */ dirty: boolean }
  | { ok: false; reason: RejectReason; detail: string; /** The peer the rejection was charged to, if attributable. */ peer?: string };

type Verdict = { ok: true; envelope: Envelope; dirty: boolean } | { ok: false; reason: RejectReason; detail: string; verified?: string };

/** Checks and decodes one received message. Never throws; counts rejections into ctx.rejections. */
export function openEnvelope(bytes: Buffer, ctx: OpenContext): OpenResult {
  let verdict: Verdict;
  try {
    verdict = check(bytes, ctx);
  } catch (error) {
    verdict = { ok: false, reason: 'malformed', detail: `internal error: ${error instanceof Error ? error.message : String(error)}`.slice(0, 160) };
  }
  if (verdict.ok) return verdict;
  const peer = ctx.source ?? verdict.verified;
  try {
    ctx.rejections?.count(verdict.reason, peer);
    ctx.log?.debug({ reason: verdict.reason, detail: verdict.detail, peer }, 'message rejected');
  } catch {
    // counting must not turn a rejection into an exception
  }
  return peer === undefined
    ? { ok: false, reason: verdict.reason, detail: verdict.detail }
    : { ok: false, reason: verdict.reason, detail: verdict.detail, peer };
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function check(bytes: Buffer, ctx: OpenContext): Verdict {
  const limits = { ...DEFAULT_ENVELOPE_LIMITS, ...ctx.limits };
  if (!(bytes instanceof Uint8Array)) return reject('malformed', 'payload is not bytes');
  if (bytes.length > limits.maxBytes) return reject('too_big', `${bytes.length} bytes exceeds ${limits.maxBytes}`);

  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    return reject('malformed', error instanceof TypeError ? 'not UTF-8' : 'not JSON');
  }
  const parsed = parseEnvelope(value, limits);
  if (!parsed.ok) return reject('malformed', parsed.detail);
  const envelope = parsed.envelope;
  if (!Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).equals(encodeEnvelope(envelope))) {
    return reject('malformed', 'not in canonical form');
  }

  if (envelope.to !== undefined && envelope.to !== ctx.self) return reject('wrong_recipient', `addressed to ${envelope.to}`);
  if (ctx.topic !== undefined) {
    const problem = checkTopic(ctx.topic, envelope, ctx.self);
    if (problem) return reject('acl', problem);
  }

  const key = ctx.resolveKey(envelope.from);
  if (!key) return reject('unknown_peer', `${envelope.from} is not trusted`);
  if (key.length !== 32 || peerIdOf(key) !== envelope.from) return reject('unknown_peer', `trusted key does not match ${envelope.from}`);
  const signature = Buffer.from(envelope.sig, 'base64url');
  if (!verify(null, signingBytes(envelope), publicKeyObject(key), signature)) return reject('bad_sig', `signature of ${envelope.from} does not verify`);

  const verified = envelope.from;
  const now = ctx.clock.now();
  const window = ctx.timeWindowMs ?? DEFAULT_TIME_WINDOW_MS;
  if (Math.abs(envelope.ts - now) > window) return reject('stale', `ts ${envelope.ts} is ${envelope.ts - now} ms from our clock`, verified);

  const replay = ctx.replay.check(envelope);
  if (replay !== undefined) return reject('replay', replay, verified);
  if (!ctx.rate.allows(verified)) return reject('rate', `${verified} is over its rate limit`, verified);

  ctx.rate.take(verified);
  const { dirty } = ctx.replay.accept(envelope);
  return { ok: true, envelope, dirty };
}

function reject(reason: RejectReason, detail: string, verified?: string): Verdict {
  return verified === undefined ? { ok: false, reason, detail } : { ok: false, reason, detail, verified };
}

const keyCache = new Map<string, KeyObject>();

/** The KeyObject of a raw Ed25519 public key (cached: verification is the hot path). */
export function publicKeyObject(raw: Uint8Array): KeyObject {
  const x = Buffer.from(raw).toString('base64url');
  let key = keyCache.get(x);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (keyCache.size >= 256) keyCache.clear();
    keyCache.set(x, key);
  }
  return key;
}
