/**
 * A self-signed X.509 v3 certificate for an agent's Ed25519 key (RFC 5280, RFC 8410).
 * It exists only because TLS needs a certificate: trust is pinned to the key's
 * fingerprint, never to anything the certificate says.
 */
import { createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { bitString, boolean, explicit, generalizedTime, implicitPrimitive, integer, octetString, oid, sequence, set, utf8String, x509Time } from './der.js';

const OID = {
  ED25519: '1.3.101.112',
  COMMON_NAME: '2.5.4.3',
  BASIC_CONSTRAINTS: '2.5.29.19',
  KEY_USAGE: '2.5.29.15',
  EXT_KEY_USAGE: '2.5.29.37',
  SUBJECT_ALT_NAME: '2.5.29.17',
  SERVER_AUTH: '1.3.6.1.5.5.7.3.1',
  CLIENT_AUTH: '1.3.6.1.5.5.7.3.2',
} as const;

/** RFC 5280 4.1.2.5: 99991231235959Z means "no well-defined expiration date". */
export const NO_EXPIRY = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

/** Backdated so a neighbour whose clock runs a little behind still sees a valid certificate. */
export const BACKDATE_MS = 24 * 60 * 60 * 1000;

export interface CertificateOptions {
  /** Subject and issuer CN, and the SAN dNSName. */
  commonName: string;
  /** Milliseconds since the epoch; the certificate is valid from one day before. */
  now: number;
  /** Positive serial as unsigned big-endian bytes; 16 random bytes if omitted. */
  serial?: Uint8Array;
}

export interface Certificate {
  der: Buffer;
  pem: string;
}

/** 16 random bytes with the top bit clear and a non-zero first byte: positive, 16 octets, under the 20-octet limit. */
export function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01;
  return serial;
}

function name(commonName: string): Buffer {
  return sequence(set(sequence(oid(OID.COMMON_NAME), utf8String(commonName))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

function extensions(commonName: string): Buffer {
  return explicit(3, sequence(
    // cA defaults to FALSE, and DER omits defaults: an empty SEQUENCE.
    extension(OID.BASIC_CONSTRAINTS, true, sequence()),
    // digitalSignature is bit 0: 0x80 with 7 unused bits.
    extension(OID.KEY_USAGE, true, bitString(Buffer.from([0x80]), 7)),
    extension(OID.EXT_KEY_USAGE, false, sequence(oid(OID.SERVER_AUTH), oid(OID.CLIENT_AUTH))),
    extension(OID.SUBJECT_ALT_NAME, false, sequence(implicitPrimitive(2, Buffer.from(commonName, 'ascii')))),
  ));
}

export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Builds and signs the certificate with `privateKey` (Ed25519), which is also the subject key. */
export function selfSignedCertificate(privateKey: KeyObject, options: CertificateOptions): Certificate {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError('selfSignedCertificate needs an Ed25519 private key');
  if (!/^[a-z0-9-]{1,63}$/.test(options.commonName)) throw new RangeError(`common name must be a DNS label, got ${options.commonName}`);
  const algorithm = sequence(oid(OID.ED25519)); // RFC 8410 3: parameters MUST be absent
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const tbs = sequence(
    explicit(0, integer(2n)), // v3
    integer(options.serial ?? randomSerial()),
    algorithm,
    name(options.commonName),
    sequence(x509Time(new Date(options.now - BACKDATE_MS)), generalizedTime(NO_EXPIRY)),
    name(options.commonName),
    spki,
    extensions(options.commonName),
  );
  const signature = sign(null, tbs, privateKey);
  const der = sequence(tbs, algorithm, bitString(signature));
  return { der, pem: toPem(der) };
}
