/**
 * The worked example of docs/protocol.md, computed from the code: protocol-doc.test.ts
 * checks that every example block in the document still equals what this produces.
 */
import { fingerprintOf, peerIdOf, rawPublicKey } from '../../agent/identity/peer-id.js';
import { encodeEnvelope, signEnvelope, signingBytes } from '../../agent/mesh/envelope.js';
import type { UnsignedEnvelope } from '../../agent/mesh/envelope-schema.js';
import { keyFromSeed, RFC8032_TEST1_SEED } from './helpers.js';

/** RFC 8032 §7.1 TEST 2 secret key: the example's recipient. */
export const RFC8032_TEST2_SEED = Buffer.from('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', 'hex');

export const EXAMPLE_TS = Date.UTC(2026, 5, 21, 3, 0, 0);

function wrapHex(bytes: Buffer): string {
  return (bytes.toString('hex').match(/.{1,64}/g) ?? []).join('\n');
}

export function protocolExample() {
  const key = keyFromSeed(RFC8032_TEST1_SEED);
  const raw = rawPublicKey(key);
  const recipientRaw = rawPublicKey(keyFromSeed(RFC8032_TEST2_SEED));
  const unsigned: UnsignedEnvelope = {
    v: 1,
    type: 'example',
    from: peerIdOf(raw),
    to: peerIdOf(recipientRaw),
    seq: 1,
    ts: EXAMPLE_TS,
    id: Buffer.from(Array.from({ length: 16 }, (_, i) => i)).toString('base64url'),
    body: { text: 'こんにちは', n: 42 },
  };
  const envelope = signEnvelope(unsigned, key);
  const bytes = signingBytes(unsigned);
  return {
    raw,
    recipientRaw,
    envelope,
    blocks: {
      'seed': RFC8032_TEST1_SEED.toString('hex'),
      'public-key': raw.toString('hex'),
      'fingerprint': fingerprintOf(raw),
      'peer-id': peerIdOf(raw),
      'recipient-peer-id': peerIdOf(recipientRaw),
      'unsigned': JSON.stringify(unsigned, null, 2),
      'signing-bytes': bytes.toString('utf8'),
      'signing-bytes-hex': wrapHex(bytes),
      'signature-hex': wrapHex(Buffer.from(envelope.sig, 'base64url')),
      'signature': envelope.sig,
      'wire': encodeEnvelope(envelope).toString('utf8'),
    } as Record<string, string>,
  };
}
