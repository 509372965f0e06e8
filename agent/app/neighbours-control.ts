/**
 * What the running neighbours offer to the control socket: identity, the
 * neighbour table for `tonari peers`, and the pairing window for `tonari pair`.
 */
import type { Clock } from '../core/clock.js';
import type { ControlTarget } from '../control/handler.js';
import type { IdentityResult, NeighbourRow, NeighbourState, PeersResult } from '../control/protocol.js';
import type { Discovery } from '../discovery/index.js';
import type { AgentIdentity } from '../identity/key-store.js';
import type { TrustStore } from '../identity/trust-store.js';
import type { Mesh, PeerStatus } from '../mesh/mesh.js';
import type { BrokerHandle } from '../../broker/index.js';
import type { Candidate, CandidateBook } from './candidates.js';

export interface ControlParts {
  identity: AgentIdentity;
  trust: TrustStore;
  /** Undefined in external-broker mode. */
  broker: BrokerHandle | undefined;
  mesh: Mesh;
  discovery: Discovery | undefined;
  candidates: CandidateBook;
  zone: string;
  clock: Clock;
  /** `tonari status`, when the agent has a read model (agent/api). */
  status?: ControlTarget['status'] | undefined;
}

const STATE_ORDER: NeighbourState[] = ['connected', 'connecting', 'waiting', 'stopped', 'unreachable', 'untrusted'];

function nonZero(counts: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter((e): e is [string, number] => (e[1] ?? 0) > 0));
}

/**
 * One row per neighbour we know of: every link of the mesh, every trusted key
 * without one, and every untrusted candidate (an advert, a static entry or a knock).
 */
export function neighbourRows(input: {
  now: number;
  links: PeerStatus[];
  candidates: Candidate[];
  trusted: { peerId: string; fingerprint: string; name?: string }[];
  isTrusted: (fingerprint: string) => boolean;
}): NeighbourRow[] {
  const { now } = input;
  const age = (at: number | null) => (at === null ? null : Math.max(0, now - at));
  const byPeer = new Map(input.candidates.map((c) => [c.peerId, c]));
  const rows = new Map<string, NeighbourRow>();
  for (const link of input.links) {
    const lastSeen = link.lastSeen ?? null;
    rows.set(link.peerId, {
      peerId: link.peerId, name: link.name ?? null, fingerprint: link.fingerprint, state: link.state,
      source: byPeer.get(link.peerId)?.source ?? null, address: link.address, lastSeen, lastSeenAgeMs: age(lastSeen),
      rttMs: link.rttMs ?? null, online: link.online ?? null, rejections: nonZero(link.rejections),
    });
  }
  for (const peer of input.trusted) {
    if (rows.has(peer.peerId)) continue;
    const candidate = byPeer.get(peer.peerId);
    const lastSeen = candidate?.lastSeen ?? null;
    rows.set(peer.peerId, {
      peerId: peer.peerId, name: peer.name ?? null, fingerprint: peer.fingerprint, state: 'unreachable',
      source: candidate?.source ?? null, address: candidate?.address ?? null, lastSeen, lastSeenAgeMs: age(lastSeen),
      rttMs: null, online: null, rejections: {},
    });
  }
  for (const candidate of input.candidates) {
    if (rows.has(candidate.peerId) || input.isTrusted(candidate.fingerprint)) continue;
    rows.set(candidate.peerId, {
      peerId: candidate.peerId, name: null, fingerprint: candidate.fingerprint, state: 'untrusted',
      source: candidate.source, address: candidate.address ?? null, lastSeen: candidate.lastSeen, lastSeenAgeMs: age(candidate.lastSeen),
      rttMs: null, online: null, rejections: {},
    });
  }
  return [...rows.values()].sort((a, b) => STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) || a.peerId.localeCompare(b.peerId));
}

export function controlTarget(parts: ControlParts): ControlTarget {
  const { identity, trust, broker, mesh, discovery, candidates, zone, clock } = parts;
  return {
    identity: () => ({
      peerId: identity.peerId, fingerprint: identity.fingerprint, checkCode: identity.checkCode, zone,
      broker: broker?.tlsAddress() ?? null, local: broker?.localAddress() ?? null, discovery: discovery?.state ?? 'off',
      cluster: clusterOf(mesh),
    }),
    peers: (): PeersResult => {
      const now = clock.now();
      const stats = broker?.stats() ?? { rejected: {}, tlsRejected: {} };
      return {
        now,
        self: { peerId: identity.peerId, fingerprint: identity.fingerprint, zone },
        cluster: clusterOf(mesh),
        peers: neighbourRows({
          now, links: mesh.peers(), candidates: candidates.list(), trusted: trust.list(), isTrusted: (fp) => trust.isTrusted(fp),
        }),
        candidates: (discovery?.peers() ?? []).map((c) => ({ peerId: c.peerId, fingerprint: c.fingerprint, zone: c.zone, addresses: c.addresses, port: c.port })),
        pairing: { open: trust.pairingOpen(), closesAt: trust.pairingClosesAt() ?? null, pending: trust.pending().length },
        refused: { broker: stats.rejected, tls: stats.tlsRejected, trust: trust.rejections(), mesh: mesh.rejections.snapshot().byReason },
      };
    },
    openPairingWindow: (ms) => {
      const opened = trust.openPairingWindow(ms);
      // Neighbours already seen but not trusted wait for their code as well.
      for (const candidate of candidates.list()) if (!trust.isTrusted(candidate.fingerprint)) trust.propose(candidate.fingerprint);
      return opened;
    },
    closePairingWindow: () => trust.closePairingWindow(),
    pending: () => ({
      open: trust.pairingOpen(),
      closesAt: trust.pairingClosesAt() ?? null,
      pending: trust.pending().map((p) => ({ peerId: p.peerId, fingerprint: p.fingerprint, name: p.name ?? null, proposedAt: p.proposedAt })),
    }),
    confirm: (fingerprint, code) => trust.confirm(fingerprint, code),
    add: (fingerprint, code, name) => trust.add(fingerprint, code, name),
    remove: (fingerprint) => trust.remove(fingerprint),
    ...(parts.status ? { status: parts.status } : {}),
  };
}

function clusterOf(mesh: Mesh): IdentityResult['cluster'] {
  const status = mesh.clusterStatus();
  return status ? { host: status.address.host, port: status.address.port, state: status.state } : null;
}
