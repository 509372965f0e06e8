/**
 * Signed market objects besides fills (agent/ledger/fill-signature.ts): an order and a
 * meter reading, signed by the agent that stands behind it, independently of the envelope
 * that carried it. So they can be relayed by anyone (a peer that missed an order fetches
 * it from another), kept in the ledger, and checked later with nothing but the public key.
 *
 * Like fills: Ed25519 over a domain prefix (`tonari/v1 order\n`) followed by the canonical
 * JSON of the value; the prefix keeps a signature made for one purpose from passing as another.
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalBytes } from '../mesh/canonical.js';
import { publicKeyObject } from '../mesh/envelope.js';

export type SignedDomain = 'order' | 'meter';

function signingBytes(domain: SignedDomain, value: unknown): Buffer {
  return Buffer.concat([Buffer.from(`tonari/v1 ${domain}\n`, 'utf8'), canonicalBytes(value)]);
}

export function signValue(domain: SignedDomain, value: unknown, privateKey: KeyObject): string {
  return sign(null, signingBytes(domain, value), privateKey).toString('base64url');
}

/**
 * Signatures already verified in this process, by a digest of (bytes, key, signature). One
 * order reaches an agent several times (its owner, relays, duplicates) and, in a community
 * simulation, every household of the process: verifying it once is enough. Bounded.
 */
const verified = new Set<string>();
const MAX_VERIFIED = 100_000;

/** True when `sig` is `rawKey`'s signature of `value` in `domain`. Never throws. */
export function verifyValue(domain: SignedDomain, value: unknown, sig: unknown, rawKey: Uint8Array): boolean {
  try {
    if (typeof sig !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(sig) || rawKey.length !== 32) return false;
    const bytes = signingBytes(domain, value);
    const memo = createHash('sha256').update(bytes).update(rawKey).update(sig).digest('base64');
    if (verified.has(memo)) return true;
    const ok = verify(null, bytes, publicKeyObject(rawKey), Buffer.from(sig, 'base64url'));
    if (ok) {
      if (verified.size >= MAX_VERIFIED) verified.clear();
      verified.add(memo);
    }
    return ok;
  } catch {
    return false;
  }
}
