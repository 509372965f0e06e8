/**
 * The pinned identity of a TLS peer: the SHA-256 fingerprint of the raw
 * 32-byte Ed25519 public key in its certificate's SPKI (the same hash the
 * peer id is derived from). Nothing else in the certificate is trusted.
 */
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { fingerprintOfCertificate } from '../agent/identity/tls.js';

export type CertIdentity =
  | { ok: true; fingerprint: string }
  | { ok: false; reason: 'no_cert' | 'not_ed25519' | 'bad_cert'; detail: string };

/** Fingerprint of the Ed25519 key in a DER or PEM certificate. */
export function certificateFingerprint(certificate: Buffer | string): CertIdentity {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certificate);
  } catch (error) {
    return { ok: false, reason: 'bad_cert', detail: (error as Error).message };
  }
  const key = x509.publicKey;
  if (key.asymmetricKeyType !== 'ed25519') return { ok: false, reason: 'not_ed25519', detail: `certificate key is ${key.asymmetricKeyType ?? 'unknown'}` };
  try {
    return { ok: true, fingerprint: fingerprintOfCertificate(x509) };
  } catch (error) {
    return { ok: false, reason: 'bad_cert', detail: (error as Error).message };
  }
}

/** Fingerprint of the certificate a TLS peer presented (its CertificateVerify was checked by the handshake). */
export function peerCertificateFingerprint(socket: TLSSocket): CertIdentity {
  const cert = socket.getPeerCertificate(true);
  // Without a client certificate Node returns an empty object (or null once destroyed).
  if (!cert || !cert.raw || cert.raw.length === 0) return { ok: false, reason: 'no_cert', detail: 'no client certificate' };
  return certificateFingerprint(cert.raw);
}
