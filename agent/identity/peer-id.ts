/**
 * Self-certifying names derived from an agent's Ed25519 public key.
 *
 * - fingerprint: SHA-256 of the raw 32-byte public key, 64 lowercase hex chars.
 *   This is what trust is pinned to (TLS, trust store).
 * - peer id: "t" + the first 22 characters of the lowercase RFC 4648 base32 of
 *   the same hash (110 bits); 23 characters, so it is a valid MQTT client id on
 *   every broker (MQTT 3.1.1 guarantees 23).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

export const PEER_ID_PATTERN = /^t[a-z2-7]{22}$/;
export const FINGERPRINT_PATTERN = /^[0-9a-f]{64}$/;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The raw 32-byte Ed25519 public key of a key object (public or private). */
export function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ed25519') throw new TypeError(`expected an Ed25519 key, got ${pub.asymmetricKeyType ?? 'none'}`);
  const jwk = pub.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new TypeError('Ed25519 key without x');
  return Buffer.from(jwk.x, 'base64url');
}

export function fingerprintOf(rawKey: Uint8Array): string {
  if (rawKey.length !== 32) throw new RangeError(`an Ed25519 public key has 32 bytes, got ${rawKey.length}`);
  return createHash('sha256').update(rawKey).digest('hex');
}

export function peerIdOf(rawKey: Uint8Array): string {
  const hash = createHash('sha256').update(rawKey).digest();
  return `t${base32(hash).slice(0, 22)}`;
}

/** Peer id from a fingerprint (the fingerprint is the same hash, in hex). */
export function peerIdFromFingerprint(fingerprint: string): string {
  if (!FINGERPRINT_PATTERN.test(fingerprint)) throw new RangeError(`not a fingerprint: ${fingerprint}`);
  return `t${base32(Buffer.from(fingerprint, 'hex')).slice(0, 22)}`;
}
