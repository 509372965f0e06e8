/**
 * The shape of the signed envelope every mesh message travels in (security.md MSG-1, MSG-4),
 * and its strict validation. Pure: no keys, clocks or state here.
 */
import { z } from 'zod';
import { PEER_ID_PATTERN } from '../identity/peer-id.js';
import { KIND_PATTERN } from './topics.js';

export const ENVELOPE_VERSION = 1;

export interface Envelope {
  /** Envelope format version; this code speaks only 1. */
  v: 1;
  /** Message kind, the last level of the topic it travels on (KIND_PATTERN). */
  type: string;
  /** Sender's peer id: peerIdOf(sender's Ed25519 public key). */
  from: string;
  /** Recipient's peer id, for messages addressed to one neighbour. */
  to?: string;
  /** Per-sender sequence number, strictly increasing across restarts. */
  seq: number;
  /** Sender's clock, integer milliseconds since the Unix epoch. */
  ts: number;
  /** 128 random bits, base64url without padding (22 characters). */
  id: string;
  /** Message-kind specific content, a JSON object. */
  body: Record<string, unknown>;
  /** Ed25519 signature over the signing bytes, base64url without padding (86 characters). */
  sig: string;
}

export type UnsignedEnvelope = Omit<Envelope, 'sig'>;

export interface EnvelopeLimits {
  /** Largest envelope accepted, in bytes on the wire. */
  maxBytes: number;
  /** Deepest nesting inside `body` (body itself is depth 1). */
  maxBodyDepth: number;
  /** Longest string value inside `body`, in UTF-16 code units. */
  maxStringLength: number;
  /** Longest object key inside `body`. */
  maxKeyLength: number;
}

export const DEFAULT_ENVELOPE_LIMITS: Readonly<EnvelopeLimits> = Object.freeze({
  maxBytes: 8 * 1024,
  maxBodyDepth: 8,
  maxStringLength: 1024,
  maxKeyLength: 64,
});

/** Keys refused anywhere in a body, so that no later `Object.assign` or lookup can reach a prototype. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const BASE64URL = /^[A-Za-z0-9_-]*$/;
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
export const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{86}$/;

/**
 * True when `text` is the one base64url spelling of its bytes: unused low bits of the
 * last character must be zero, so no two strings decode to the same id or signature.
 */
export function isCanonicalBase64url(text: string): boolean {
  return BASE64URL.test(text) && Buffer.from(text, 'base64url').toString('base64url') === text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

const peerId = z.string().max(23).regex(PEER_ID_PATTERN, 'not a peer id');

const envelopeSchema = z.strictObject({
  v: z.literal(ENVELOPE_VERSION, { error: 'unsupported envelope version' }),
  type: z.string().max(32).regex(KIND_PATTERN, 'not a message kind'),
  from: peerId,
  to: peerId.optional(),
  seq: z.number().int().min(1),
  ts: z.number().int().min(0),
  id: z.string().regex(MESSAGE_ID_PATTERN, 'not a 128-bit base64url id').refine(isCanonicalBase64url, 'non-canonical base64url'),
  body: z.custom<Record<string, unknown>>(isPlainObject, 'body must be an object'),
  sig: z.string().regex(SIGNATURE_PATTERN, 'not a base64url Ed25519 signature').refine(isCanonicalBase64url, 'non-canonical base64url'),
});

export type ParseResult = { ok: true; envelope: Envelope } | { ok: false; detail: string };

/** Validates a parsed JSON value as an envelope, strictly. Never throws. */
export function parseEnvelope(value: unknown, limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS): ParseResult {
  const result = envelopeSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'envelope';
    return { ok: false, detail: clip(`${where}: ${issue?.message ?? 'invalid'}`) };
  }
  const bodyProblem = checkBody(result.data.body, limits);
  if (bodyProblem) return { ok: false, detail: clip(`body${bodyProblem}`) };
  const { to, ...rest } = result.data;
  const envelope: Envelope = to === undefined ? { ...rest, v: 1 } : { ...rest, v: 1, to };
  return { ok: true, envelope };
}

/**
 * Generic limits on a body: JSON values only, finite numbers, bounded depth, string and
 * key lengths, no prototype-shaped keys. Returns the problem's path suffix and text, or
 * undefined. Kind-specific body schemas apply after this.
 */
export function checkBody(body: unknown, limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS): string | undefined {
  if (!isPlainObject(body)) return ': must be an object';
  return checkValue(body, 1, '', limits);
}

function checkValue(value: unknown, depth: number, path: string, limits: EnvelopeLimits): string | undefined {
  switch (typeof value) {
    case 'string':
      return value.length > limits.maxStringLength ? `${path}: string longer than ${limits.maxStringLength}` : undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path}: number is not finite`;
    case 'boolean':
      return undefined;
    case 'object': {
      if (value === null) return undefined;
      if (depth > limits.maxBodyDepth) return `${path}: nested deeper than ${limits.maxBodyDepth}`;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const problem = checkValue(value[i], depth + 1, `${path}[${i}]`, limits);
          if (problem) return problem;
        }
        return undefined;
      }
      if (!isPlainObject(value)) return `${path}: not a JSON object`;
      for (const key of Object.keys(value)) {
        if (key.length > limits.maxKeyLength) return `${path}: key longer than ${limits.maxKeyLength}`;
        if (FORBIDDEN_KEYS.has(key)) return `${path}: forbidden key ${key}`;
        const problem = checkValue(value[key], depth + 1, `${path}.${key}`, limits);
        if (problem) return problem;
      }
      return undefined;
    }
    default:
      return `${path}: ${typeof value} is not JSON`;
  }
}

/** Details may quote attacker-chosen text (unknown keys): keep them short for logs and counters. */
function clip(text: string): string {
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
