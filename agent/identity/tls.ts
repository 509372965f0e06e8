/**
 * Mutual TLS 1.3 between agents, pinned by key fingerprint (security.md F8, TLS-1, TLS-2).
 *
 * Agents' certificates are self-signed, so OpenSSL's chain check always fails and trust
 * comes only from comparing the peer's key fingerprint with a pin. Node has no verify
 * callback, and it calls `checkServerIdentity` ONLY when the chain check passed: with
 * `rejectUnauthorized: false` and a self-signed server it is silently skipped. So:
 *
 * - client: `connectPinned` (or `pinServer` on a socket made from `tlsClientOptions`)
 *   holds every write back (cork) until the server's key matches the pin, and destroys
 *   the socket otherwise, so not even an MQTT CONNECT reaches an impostor;
 * - server: `tlsServerOptions` requests a client certificate, and the connection handler
 *   must call `authorizeClient` before reading a byte (before `aedes.handle(socket)`).
 */
import { X509Certificate } from 'node:crypto';
import { connect, type ConnectionOptions, type PeerCertificate, type TLSSocket, type TlsOptions } from 'node:tls';
import { fingerprintOf, FINGERPRINT_PATTERN, rawPublicKey } from './peer-id.js';
import type { AgentIdentity } from './key-store.js';

type TlsIdentity = Pick<AgentIdentity, 'keyPem' | 'certPem'>;

export const TLS_MIN_VERSION = 'TLSv1.3';

export class PinError extends Error {
  readonly code = 'ERR_TONARI_PIN_MISMATCH';
  constructor(message: string, readonly expected: string, readonly actual: string | undefined) {
    super(message);
    this.name = 'PinError';
  }
}

/** Hex SHA-256 of the raw Ed25519 key in a certificate (X509Certificate, DER bytes or a PeerCertificate). Throws unless Ed25519. */
export function fingerprintOfCertificate(cert: X509Certificate | Uint8Array | Pick<PeerCertificate, 'raw'>): string {
  const x509 = cert instanceof X509Certificate ? cert : new X509Certificate(cert instanceof Uint8Array ? cert : cert.raw);
  return fingerprintOf(rawPublicKey(x509.publicKey));
}

function fingerprintOrUndefined(cert: PeerCertificate | undefined | null): string | undefined {
  if (!cert || !cert.raw || cert.raw.length === 0) return undefined;
  try {
    return fingerprintOfCertificate(cert.raw);
  } catch {
    return undefined; // not a certificate, or not an Ed25519 key: no identity
  }
}

/** The key fingerprint of the certificate the other side presented, or undefined if none (or not Ed25519). */
export function peerFingerprint(socket: TLSSocket): string | undefined {
  return fingerprintOrUndefined(socket.getPeerCertificate(true));
}

function checkPin(expected: string, actual: string | undefined): PinError | undefined {
  if (actual === expected) return undefined;
  return new PinError(`server fingerprint mismatch: expected ${expected}, got ${actual ?? 'no Ed25519 certificate'}`, expected, actual);
}

/** Options for the peer-facing listener; pair with `authorizeClient` in the connection handler. */
export function tlsServerOptions(identity: TlsIdentity): TlsOptions {
  return {
    key: identity.keyPem,
    cert: identity.certPem,
    minVersion: TLS_MIN_VERSION,
    requestCert: true,
    // Self-signed client certificates never pass the chain check; authorizeClient pins them.
    rejectUnauthorized: false,
  };
}

export type ClientCheck =
  | { ok: true; fingerprint: string }
  | { ok: false; reason: 'no_cert' | 'unknown_peer'; fingerprint?: string };

/**
 * Decides a freshly handshaken server-side socket; destroys it unless the client's key is trusted.
 * Call it first thing in the 'secureConnection' handler.
 */
export function authorizeClient(socket: TLSSocket, isTrusted: (fingerprint: string) => boolean): ClientCheck {
  const fingerprint = peerFingerprint(socket);
  if (fingerprint === undefined) {
    socket.destroy();
    return { ok: false, reason: 'no_cert' };
  }
  if (!isTrusted(fingerprint)) {
    socket.destroy();
    return { ok: false, reason: 'unknown_peer', fingerprint };
  }
  return { ok: true, fingerprint };
}

/**
 * Client options presenting our certificate. `checkServerIdentity` enforces the pin if the
 * chain check ever passes (e.g. a `ca` is added); for self-signed servers Node skips it,
 * so use these options only through `connectPinned` / `pinServer`.
 */
export function tlsClientOptions(identity: TlsIdentity, expectedFingerprint: string): ConnectionOptions {
  if (!FINGERPRINT_PATTERN.test(expectedFingerprint)) throw new RangeError(`not a fingerprint: ${expectedFingerprint}`);
  return {
    key: identity.keyPem,
    cert: identity.certPem,
    minVersion: TLS_MIN_VERSION,
    rejectUnauthorized: false,
    // Host names (from mDNS or config) are not identity; only the key is.
    checkServerIdentity: (_host, cert) => checkPin(expectedFingerprint, fingerprintOrUndefined(cert)),
  };
}

/**
 * Holds writes on a client socket until the server's key matches the pin; on a mismatch the
 * socket is destroyed with a PinError (its 'error' event). Call before anything is written.
 */
export function pinServer(socket: TLSSocket, expectedFingerprint: string): TLSSocket {
  socket.cork();
  socket.once('secureConnect', () => {
    const error = checkPin(expectedFingerprint, peerFingerprint(socket));
    if (error) socket.destroy(error);
    else socket.uncork();
  });
  return socket;
}

export interface PinnedConnectOptions {
  host: string;
  port: number;
  expectedFingerprint: string;
  /** Extra options (timeouts, signal, ALPN); key, cert and verification are not overridable. */
  extra?: Omit<ConnectionOptions, 'key' | 'cert' | 'rejectUnauthorized' | 'checkServerIdentity' | 'ca' | 'host' | 'port'>;
}

/** A TLS connection to a neighbour, pinned to its key fingerprint. Usable as an mqtt.js stream. */
export function connectPinned(identity: TlsIdentity, options: PinnedConnectOptions): TLSSocket {
  const socket = connect({ ...options.extra, ...tlsClientOptions(identity, options.expectedFingerprint), host: options.host, port: options.port });
  return pinServer(socket, options.expectedFingerprint);
}
