/**
 * Signatures over a fill, and the contract a ledger records (pure; docs/ledger.md).
 *
 * A trade becomes a contract only when both counterparties have signed the same fill. Each
 * party signs FILL_SIGNING_PREFIX followed by the canonical JSON of the fill (the whole
 * object as the market defines it; at least `seller` and `buyer` peer ids). A signature
 * carries the signer's peer id and raw public key, so anyone holding the contract can check
 * it without a trust store: `peerIdOf(publicKey)` must equal `peerId`, and the peer id must
 * be the fill's seller or buyer.
 *
 * A contract record's body is `{ fill, signatures }` with exactly one signature per party,
 * sorted by peer id (contractBody builds it), so a duplicate delivery yields the same bytes.
 */
import { sign, verify } from 'node:crypto';
import { canonicalBytes, CanonicalError } from '../mesh/canonical.js';
import { PEER_ID_PATTERN, peerIdOf } from '../identity/peer-id.js';
import { isCanonicalBase64url, isPlainObject, LedgerRecordError, publicKeyOf, type JsonObject, type RecordSigner } from './record.js';

/** Domain separation from envelopes and ledger records signed with the same key. */
export const FILL_SIGNING_PREFIX = 'tonari/v1 fill\n';

export type FillSignature = {
  /** Peer id of the party that signed. */
  peerId: string;
  /** Its raw Ed25519 public key, base64url (43 characters). */
  publicKey: string;
  /** Ed25519 over FILL_SIGNING_PREFIX || canonicalJson(fill), base64url (86 characters). */
  sig: string;
};

/** A type, not an interface, so that it is a JsonObject (Ledger.append takes it as is). */
export type ContractBody = {
  fill: JsonObject;
  /** One per party (seller and buyer), sorted by peer id. */
  signatures: FillSignature[];
};

const SIGNATURE_FIELDS = ['peerId', 'publicKey', 'sig'];

/** The bytes a fill signature covers. Throws CanonicalError when the fill is not plain JSON. */
export function fillSigningBytes(fill: object): Buffer {
  return Buffer.concat([Buffer.from(FILL_SIGNING_PREFIX, 'utf8'), canonicalBytes(fill)]);
}

/** Signs a fill as `signer` (an AgentIdentity will do). */
export function signFill(fill: object, signer: RecordSigner): FillSignature {
  return {
    peerId: signer.peerId,
    publicKey: signer.rawPublicKey.toString('base64url'),
    sig: sign(null, fillSigningBytes(fill), signer.privateKey).toString('base64url'),
  };
}

/** Undefined when `signature` is a valid signature over `fill` by the peer it names, else why not. */
export function fillSignatureProblem(fill: object, signature: unknown): string | undefined {
  if (!isPlainObject(signature)) return 'signature is not an object';
  const fields = Object.keys(signature).sort();
  if (fields.length !== SIGNATURE_FIELDS.length || fields.some((f, i) => f !== SIGNATURE_FIELDS[i])) {
    return `signature fields must be exactly ${SIGNATURE_FIELDS.join(', ')}`;
  }
  const { peerId, publicKey, sig } = signature;
  if (typeof peerId !== 'string' || !PEER_ID_PATTERN.test(peerId)) return 'signature peerId is not a peer id';
  if (typeof publicKey !== 'string' || !isCanonicalBase64url(publicKey, 32)) return `publicKey of ${peerId} is not a raw Ed25519 key`;
  if (peerIdOf(Buffer.from(publicKey, 'base64url')) !== peerId) return `publicKey is not the key of ${peerId}`;
  if (typeof sig !== 'string' || !isCanonicalBase64url(sig, 64)) return `sig of ${peerId} is not a 64-byte signature`;
  let bytes: Buffer;
  try {
    bytes = fillSigningBytes(fill);
  } catch (error) {
    return `fill is not plain JSON: ${error instanceof CanonicalError ? error.message : String(error)}`;
  }
  let ok: boolean;
  try {
    ok = verify(null, bytes, publicKeyOf(publicKey), Buffer.from(sig, 'base64url'));
  } catch {
    ok = false;
  }
  return ok ? undefined : `fill signature of ${peerId} does not verify`;
}

export function verifyFillSignature(fill: object, signature: FillSignature): boolean {
  return fillSignatureProblem(fill, signature) === undefined;
}

/** The parties of a fill, or why it has none. */
export function fillParties(fill: unknown): { seller: string; buyer: string } | string {
  if (!isPlainObject(fill)) return 'fill is not a JSON object';
  const { seller, buyer } = fill;
  if (typeof seller !== 'string' || !PEER_ID_PATTERN.test(seller)) return 'fill.seller is not a peer id';
  if (typeof buyer !== 'string' || !PEER_ID_PATTERN.test(buyer)) return 'fill.buyer is not a peer id';
  if (seller === buyer) return 'fill.seller and fill.buyer are the same peer';
  return { seller, buyer };
}

/**
 * Everything wrong with a contract body; empty when it is a fill signed by both parties.
 * With `owner`, the ledger's agent must be one of the two parties.
 */
export function contractProblems(body: unknown, owner?: string): string[] {
  if (!isPlainObject(body)) return ['contract body is not a JSON object'];
  const parties = fillParties(body.fill);
  if (typeof parties === 'string') return [parties];
  const fill = body.fill as JsonObject;
  const problems: string[] = [];
  if (owner !== undefined && owner !== parties.seller && owner !== parties.buyer) {
    problems.push(`${owner} is neither the seller nor the buyer of the fill`);
  }
  const signatures = body.signatures;
  if (!Array.isArray(signatures)) return [...problems, 'signatures is not an array'];
  const seen = new Set<string>();
  /** Peers some signature claims to be from, valid or not (a bad one is reported once, as bad). */
  const claimed = new Set<unknown>();
  for (const signature of signatures as unknown[]) {
    if (isPlainObject(signature)) claimed.add(signature.peerId);
    const problem = fillSignatureProblem(fill, signature);
    if (problem !== undefined) {
      problems.push(problem);
      continue;
    }
    const { peerId } = signature as FillSignature;
    if (peerId !== parties.seller && peerId !== parties.buyer) problems.push(`signature by ${peerId}, who is not a party of the fill`);
    else if (seen.has(peerId)) problems.push(`two signatures by ${peerId}`);
    seen.add(peerId);
  }
  for (const party of [parties.seller, parties.buyer]) {
    if (!claimed.has(party)) problems.push(`no signature by ${party === parties.seller ? 'the seller' : 'the buyer'} ${party}`);
  }
  return problems;
}

/**
 * The body of a contract record: the fill and both parties' signatures, sorted by peer id.
 * Throws LedgerRecordError when the signatures do not make a contract.
 */
export function contractBody(fill: object, signatures: readonly FillSignature[], owner?: string): ContractBody {
  const sorted = [...signatures].sort((a, b) => (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0)).map((s) => ({ peerId: s.peerId, publicKey: s.publicKey, sig: s.sig }));
  const body = { fill: fill as JsonObject, signatures: sorted };
  const problems = contractProblems(body, owner);
  if (problems.length > 0) throw new LedgerRecordError(`not a contract: ${problems.join('; ')}`);
  return body;
}
