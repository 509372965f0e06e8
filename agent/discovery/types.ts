/**
 * Shapes shared by the discovery modules. Everything learnt over mDNS is a
 * hint: a candidate tells where a neighbour's broker might be, never who it is.
 * Trust comes later from TLS pinning against the fingerprint.
 */

/** What this agent advertises about itself. */
export interface SelfAdvert {
  peerId: string;
  /** SHA-256 hex of the agent's Ed25519 public key (agent/identity/peer-id.ts). */
  fingerprint: string;
  zone: string;
  /** The embedded broker's TLS port; also the SRV port. */
  port: number;
  /** mDNS host name to advertise; default `<peerId>.local`. */
  host?: string;
}

/** A neighbour seen on the LAN: a candidate to connect to, not a trusted peer. */
export interface PeerCandidate {
  peerId: string;
  fingerprint: string;
  zone: string;
  /** SRV target host name. */
  host: string;
  /** A/AAAA addresses of `host` (IPv4 first), or the packet's source address when none were given. */
  addresses: string[];
  port: number;
  /** Protocol version from TXT `v`. */
  version: number;
  /** Source address of the last packet that carried the advert. */
  source: string;
}

export type LostReason = 'goodbye' | 'timeout';

export type ConflictKind =
  /** TXT `fp` does not hash to the advertised peer id: someone claims an id that is not theirs. */
  | 'fingerprint-mismatch'
  /** A known peer id now shows a different fingerprint (only possible with a hash collision or a bug). */
  | 'fingerprint-changed'
  /** Another host advertises our own peer id with different data. */
  | 'own-id-claimed';

export interface IdentityConflict {
  kind: ConflictKind;
  peerId: string;
  claimedFingerprint: string;
  /** The fingerprint we already know for this id, if any. */
  knownFingerprint?: string;
  source: string;
}

export interface DiscoveryCounters {
  /** Adverts for our service type that failed validation. */
  malformed: number;
  /** Our own adverts heard back (multicast loopback). */
  own: number;
  /** Packets ignored because their source is not on a local subnet (RFC 6762 §11). */
  offLink: number;
  conflicts: number;
  /** Our publish got no 'up' in time (bonjour-service only console.logs a probe conflict). */
  nameConflicts: number;
  bindFailures: number;
  /** Warnings from multicast-dns (interface churn, send errors). */
  warnings: number;
  queriesSeen: number;
  /** Questions dropped by the responder rate limit (RFC 6762 §6). */
  questionsDropped: number;
  responsesSeen: number;
  republishes: number;
}

export function zeroCounters(): DiscoveryCounters {
  return {
    malformed: 0, own: 0, offLink: 0, conflicts: 0, nameConflicts: 0, bindFailures: 0,
    warnings: 0, queriesSeen: 0, questionsDropped: 0, responsesSeen: 0, republishes: 0,
  };
}
