/** Identity and trust: the agent's key, its self-signed certificate, pinned TLS, and whom it trusts. */
export { FINGERPRINT_PATTERN, PEER_ID_PATTERN, fingerprintOf, peerIdFromFingerprint, peerIdOf, rawPublicKey } from './peer-id.js';
export { IdentityError, KEY_FILE, identityFromKey, loadOrCreateIdentity, type AgentIdentity, type IdentityErrorCode, type IdentityOptions } from './key-store.js';
export { checkCodeMatches, checkCodeOf, formatCheckCode, isValidCheckCode, normalizeCheckCode } from './check-code.js';
export { selfSignedCertificate, type Certificate, type CertificateOptions } from './certificate.js';
export {
  PinError, TLS_MIN_VERSION, authorizeClient, connectPinned, fingerprintOfCertificate, peerFingerprint, pinServer, tlsClientOptions, tlsServerOptions,
  type ClientCheck, type PinnedConnectOptions,
} from './tls.js';
export {
  MAX_CODE_ATTEMPTS, MAX_PENDING, TrustStore, TrustStoreError, normalizeFingerprint,
  type AllowListEntry, type ConfirmResult, type PendingPeer, type ProposeResult, type RejectionReason, type RemoveResult, type TrustChange, type TrustedPeer, type TrustStoreOptions,
} from './trust-store.js';
