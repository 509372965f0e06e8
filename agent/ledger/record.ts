/**
 * One ledger record and its line (pure; docs/ledger.md).
 *
 * A ledger is a file of records, one canonical-JSON line each, '\n' terminated:
 *
 *   { v: 1, seq, prev, at, kind, key, body, signer, pub, sig }
 *
 * - `seq` is the record's line number (1, 2, 3, …), so a gap or a reordering shows at once;
 * - `prev` is the hex SHA-256 of the previous line's bytes (without its '\n'); 64 zeros for
 *   the first record. Changing any byte of a record breaks the link from the next one;
 * - `sig` is Ed25519 by the agent (`signer`, whose raw public key is `pub`) over
 *   RECORD_SIGNING_PREFIX followed by the canonical JSON of the record without `sig`.
 *   Carrying `pub` makes every record verifiable on its own, also by a counterpart or an
 *   auditor who only has an exported copy; `peerIdOf(pub)` must equal `signer`.
 * - `key` is the idempotency key (e.g. `contract:<fill id>`); a ledger holds each key once.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalBytes, CanonicalError } from '../mesh/canonical.js';
import { PEER_ID_PATTERN, peerIdOf } from '../identity/peer-id.js';

export const LEDGER_FORMAT_VERSION = 1;

/** Domain separation: a record signature can never pass for an envelope, a fill signature or a certificate. */
export const RECORD_SIGNING_PREFIX = 'tonari/v1 ledger record\n';

/** `prev` of the first record. */
export const GENESIS_PREV = '0'.repeat(64);

export const LEDGER_KINDS = ['order', 'cancel', 'fill-signed', 'contract', 'settlement', 'dispute', 'note'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/** Longest line (without '\n') written or accepted; a contract is about 1 KiB. */
export const MAX_LINE_BYTES = 64 * 1024;
/** Longest idempotency key, in UTF-16 code units. */
export const MAX_KEY_LENGTH = 256;

const HASH_PATTERN = /^[0-9a-f]{64}$/;
// Printable, no whitespace other than the plain space, no control characters.
const KEY_PATTERN = /^[\x21-\x7e][\x20-\x7e]*$/;
const PUB_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const SIG_PATTERN = /^[A-Za-z0-9_-]{86}$/;
const RECORD_FIELDS = ['at', 'body', 'key', 'kind', 'prev', 'pub', 'seq', 'sig', 'signer', 'v'];

export type JsonObject = { [key: string]: unknown };

export interface LedgerRecord {
  v: 1;
  seq: number;
  prev: string;
  /** When it was written, ms since the epoch (the agent's clock). */
  at: number;
  kind: LedgerKind;
  key: string;
  body: JsonObject;
  /** Peer id of the agent that wrote and signed the record. */
  signer: string;
  /** The signer's raw Ed25519 public key, base64url (43 characters). */
  pub: string;
  /** Ed25519 signature, base64url (86 characters). */
  sig: string;
}

export type UnsignedRecord = Omit<LedgerRecord, 'sig'>;

/** What signs records: an AgentIdentity has all three. */
export interface RecordSigner {
  peerId: string;
  privateKey: KeyObject;
  rawPublicKey: Buffer;
}

/** A record the caller asked for cannot be written (bad kind, key or body); the ledger is unchanged. */
export class LedgerRecordError extends Error {
  override readonly name = 'LedgerRecordError';
}

/** Undefined when `key` can be an idempotency key, else why not. */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'key is not a string';
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) return `key must have 1..${MAX_KEY_LENGTH} characters`;
  if (!KEY_PATTERN.test(key)) return 'key must be printable ASCII and must not start with a space';
  return undefined;
}

export function isLedgerKind(kind: unknown): kind is LedgerKind {
  return typeof kind === 'string' && (LEDGER_KINDS as readonly string[]).includes(kind);
}

export function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The bytes a record's signature covers. Throws CanonicalError for a body that is not plain JSON. */
export function recordSigningBytes(record: UnsignedRecord | LedgerRecord): Buffer {
  const { sig: _ignored, ...rest } = record as LedgerRecord;
  return Buffer.concat([Buffer.from(RECORD_SIGNING_PREFIX, 'utf8'), canonicalBytes(rest)]);
}

export function signRecord(unsigned: UnsignedRecord, privateKey: KeyObject): LedgerRecord {
  const sig = sign(null, recordSigningBytes(unsigned), privateKey).toString('base64url');
  return { ...unsigned, sig };
}

/** The line of a record: its canonical JSON, UTF-8, without the '\n'. */
export function encodeRecord(record: LedgerRecord): Buffer {
  return canonicalBytes(record);
}

/** What the next record links to: hex SHA-256 of a line's bytes (without '\n'). */
export function lineHash(line: Uint8Array): string {
  return createHash('sha256').update(line).digest('hex');
}

const keyCache = new Map<string, KeyObject>();

/** The public key object of a base64url raw Ed25519 key (cached; callers check the form first). */
export function publicKeyOf(pub: string): KeyObject {
  let key = keyCache.get(pub);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub }, format: 'jwk' });
    if (keyCache.size >= 256) keyCache.clear();
    keyCache.set(pub, key);
  }
  return key;
}

/** True when `text` is the canonical base64url spelling of exactly `bytes` bytes. */
export function isCanonicalBase64url(text: string, bytes: number): boolean {
  const decoded = Buffer.from(text, 'base64url');
  return decoded.length === bytes && decoded.toString('base64url') === text;
}

/** Undefined when the signature of `record` verifies with its `pub`, else why not. Checks `peerIdOf(pub)` too. */
export function recordSignatureProblem(record: LedgerRecord): string | undefined {
  if (!isCanonicalBase64url(record.pub, 32)) return 'pub is not a raw Ed25519 key';
  if (peerIdOf(Buffer.from(record.pub, 'base64url')) !== record.signer) return `pub is not the key of signer ${record.signer}`;
  if (!isCanonicalBase64url(record.sig, 64)) return 'sig is not a 64-byte signature';
  let ok: boolean;
  try {
    ok = verify(null, recordSigningBytes(record), publicKeyOf(record.pub), Buffer.from(record.sig, 'base64url'));
  } catch {
    ok = false;
  }
  return ok ? undefined : `signature of ${record.signer} does not verify`;
}

export type ParsedLine =
  | { ok: true; record: LedgerRecord }
  /** `json` false: the line is not JSON at all (what a torn write leaves). */
  | { ok: false; json: boolean; problem: string };

/**
 * Parses one line: JSON, the exact record shape, and canonical form (the bytes must be
 * exactly what encodeRecord writes, so no byte can change without changing the content).
 * Does not check seq, prev, signer or signature.
 */
export function parseRecordLine(line: Uint8Array): ParsedLine {
  const bytes = Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, json: false, problem: 'not JSON' };
  }
  const problem = shapeProblem(value);
  if (problem !== undefined) return { ok: false, json: true, problem };
  const record = value as LedgerRecord;
  let canonical: Buffer;
  try {
    canonical = encodeRecord(record);
  } catch (error) {
    return { ok: false, json: true, problem: error instanceof CanonicalError ? error.message : 'not canonical JSON' };
  }
  if (!canonical.equals(bytes)) return { ok: false, json: true, problem: 'not in canonical form' };
  return { ok: true, record };
}

function shapeProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'not a JSON object';
  const fields = Object.keys(value).sort();
  if (fields.length !== RECORD_FIELDS.length || fields.some((f, i) => f !== RECORD_FIELDS[i])) {
    return `fields must be exactly ${RECORD_FIELDS.join(', ')}`;
  }
  const r = value as Record<string, unknown>;
  if (r.v !== LEDGER_FORMAT_VERSION) return `unknown format version ${JSON.stringify(r.v)}`;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return 'seq is not a positive integer';
  if (typeof r.prev !== 'string' || !HASH_PATTERN.test(r.prev)) return 'prev is not a hex SHA-256';
  if (!Number.isSafeInteger(r.at) || (r.at as number) < 0) return 'at is not a time in ms';
  if (!isLedgerKind(r.kind)) return `unknown kind ${JSON.stringify(r.kind)}`;
  const keyIssue = keyProblem(r.key);
  if (keyIssue !== undefined) return keyIssue;
  if (!isPlainObject(r.body)) return 'body is not a JSON object';
  if (typeof r.signer !== 'string' || !PEER_ID_PATTERN.test(r.signer)) return 'signer is not a peer id';
  if (typeof r.pub !== 'string' || !PUB_PATTERN.test(r.pub)) return 'pub is not a base64url Ed25519 key';
  if (typeof r.sig !== 'string' || !SIG_PATTERN.test(r.sig)) return 'sig is not a base64url Ed25519 signature';
  return undefined;
}
