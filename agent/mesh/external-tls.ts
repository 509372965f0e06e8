/**
 * TLS to a shared MQTT cluster (external-broker mode). The cluster is not an agent: its
 * certificate may carry any key type (RSA, ECDSA, Ed25519) and may be CA-signed. It is
 * authenticated by one or both of:
 *
 * - `brokerFingerprint`: SHA-256 (hex) of the server certificate's SubjectPublicKeyInfo
 *   (DER), the usual "SPKI pin". Checked by hand on 'secureConnect' while every write is
 *   held back (cork), because Node calls `checkServerIdentity` only after a passing chain
 *   check, and a self-signed cluster never passes one (see agent/identity/tls.ts);
 * - `caPem`: the CA that signed the cluster's certificate; Node then verifies the chain
 *   and the host name (or `servername`) as for any TLS server.
 *
 * Our own certificate (the agent's self-signed identity certificate) is the client
 * certificate; the cluster derives the MQTT user name from its CN (the peer id).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { FINGERPRINT_PATTERN } from '../identity/peer-id.js';
import { TLS_MIN_VERSION } from '../identity/tls.js';

export const DEFAULT_CLUSTER_PORT = 8883;

export interface ClusterTlsOptions {
  /** `mqtts://host[:port]`; plaintext `mqtt://` and WebSockets are refused. */
  url: string;
  /** SPKI SHA-256 pin of the cluster's server certificate, 64 hex characters. */
  brokerFingerprint?: string;
  /** CA certificate(s) of a CA-signed cluster, PEM. */
  caPem?: string;
  /** Name to verify the CA-signed certificate against (and SNI) when it differs from the URL's host. */
  servername?: string;
}

export interface ClusterAddress {
  host: string;
  port: number;
}

export class ClusterConfigError extends Error {
  override readonly name = 'ClusterConfigError';
}

export class ClusterPinError extends Error {
  readonly code = 'ERR_TONARI_CLUSTER_PIN_MISMATCH';
  constructor(readonly expected: string, readonly actual: string | undefined) {
    super(`cluster certificate key ${actual ?? '(none)'} does not match the pin ${expected}`);
    this.name = 'ClusterPinError';
  }
}

/** Parses and checks the cluster URL and pins; throws ClusterConfigError. */
export function parseClusterUrl(options: ClusterTlsOptions): ClusterAddress {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new ClusterConfigError(`not a URL: ${options.url}`);
  }
  if (url.protocol !== 'mqtts:') throw new ClusterConfigError(`the cluster URL must be mqtts:// (TLS), got ${url.protocol}//`);
  if (url.username || url.password) throw new ClusterConfigError('the cluster URL must not carry credentials: the client certificate is the credential');
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) throw new ClusterConfigError('the cluster URL has no path, query or fragment');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new ClusterConfigError('the cluster URL has no host');
  if (options.brokerFingerprint === undefined && options.caPem === undefined) {
    throw new ClusterConfigError('pin the cluster (brokerFingerprint) or give its CA (caPem): an unauthenticated cluster is refused');
  }
  if (options.brokerFingerprint !== undefined && !FINGERPRINT_PATTERN.test(options.brokerFingerprint)) {
    throw new ClusterConfigError(`brokerFingerprint must be 64 lowercase hex characters, got ${options.brokerFingerprint}`);
  }
  return { host, port: url.port ? Number(url.port) : DEFAULT_CLUSTER_PORT };
}

/** SHA-256 (hex) of a certificate's SubjectPublicKeyInfo, DER: `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum`. */
export function spkiFingerprint(cert: X509Certificate | Uint8Array): string {
  const x509 = cert instanceof X509Certificate ? cert : new X509Certificate(cert);
  return createHash('sha256').update(x509.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Opens the TLS connection to the cluster; on a pin mismatch the socket is destroyed with a ClusterPinError before anything was written. */
export function connectCluster(identity: { keyPem: string; certPem: string }, address: ClusterAddress, options: ClusterTlsOptions): TLSSocket {
  const servername = options.servername ?? (isIP(address.host) ? undefined : address.host);
  const tlsOptions: ConnectionOptions = {
    host: address.host,
    port: address.port,
    key: identity.keyPem,
    cert: identity.certPem,
    minVersion: TLS_MIN_VERSION,
    ...(servername !== undefined ? { servername } : {}),
    ...(options.caPem !== undefined
      ? { ca: options.caPem, rejectUnauthorized: true }
      : { rejectUnauthorized: false, checkServerIdentity: () => undefined }),
  };
  const socket = connect(tlsOptions);
  const pin = options.brokerFingerprint;
  if (pin !== undefined) {
    socket.cork();
    socket.once('secureConnect', () => {
      let actual: string | undefined;
      try {
        const raw = socket.getPeerCertificate(false)?.raw;
        actual = raw && raw.length > 0 ? spkiFingerprint(raw) : undefined;
      } catch {
        actual = undefined;
      }
      if (actual !== pin) socket.destroy(new ClusterPinError(pin, actual));
      else socket.uncork();
    });
  }
  return socket;
}
