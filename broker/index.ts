export {
  startBroker, aedesOptions, DEFAULT_LIMITS, REJECTION_REASONS, TLS_REJECTION_REASONS,
  type BrokerHandle, type BrokerIdentity, type BrokerLimits, type BrokerMode, type BrokerOptions, type BrokerStats,
  type PublishOptions, type RejectionReason, type TlsRejectionReason, type TrustLookup,
} from './broker.js';
export { FixedHeaderScanner, GuardedConnection, type GuardViolation } from './packet-guard.js';
export { certificateFingerprint, peerCertificateFingerprint, type CertIdentity } from './cert-identity.js';
export * from './acl.js';
