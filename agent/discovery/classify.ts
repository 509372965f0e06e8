/**
 * What to do with one instance observation from a response. Pure: the
 * decisions (own advert, identity conflict, malformed, candidate) are made
 * here; discovery.ts only carries them out.
 */
import type { InstanceObservation } from './packet.js';
import { validateAdvert, type ValidAdvert } from './txt.js';
import type { IdentityConflict, SelfAdvert } from './types.js';

export type Verdict =
  | { action: 'goodbye'; peerId: string }
  /** Incomplete record (no SRV or TXT): counts as liveness of a known peer only. */
  | { action: 'touch'; peerId: string }
  /** Our own advert, heard back. */
  | { action: 'own' }
  | { action: 'conflict'; conflict: IdentityConflict }
  | { action: 'malformed'; reason: string }
  | { action: 'observe'; advert: ValidAdvert };

/**
 * @param knownFingerprint fingerprint already known for a peer id, if any
 */
export function classifyObservation(
  obs: InstanceObservation,
  source: string,
  self: SelfAdvert | undefined,
  knownFingerprint: (peerId: string) => string | undefined,
): Verdict {
  const isSelfName = self !== undefined && (obs.instance === self.peerId || obs.txt?.id === self.peerId);
  if (obs.goodbye) return isSelfName ? { action: 'own' } : { action: 'goodbye', peerId: obs.instance };
  if (!obs.srv || !obs.txt) return { action: 'touch', peerId: obs.instance };
  const check = validateAdvert({ instance: obs.instance, txt: obs.txt, port: obs.srv.port, host: obs.srv.host });
  if (self && isSelfName) {
    const a = check.ok ? check.advert : undefined;
    const mine = a !== undefined && a.fingerprint === self.fingerprint && a.port === self.port && a.zone === self.zone
      && a.host.toLowerCase() === (self.host ?? `${self.peerId}.local`).toLowerCase();
    if (mine) return { action: 'own' };
    return { action: 'conflict', conflict: { kind: 'own-id-claimed', peerId: self.peerId, claimedFingerprint: obs.txt.fp ?? '', knownFingerprint: self.fingerprint, source } };
  }
  if (check.ok) return { action: 'observe', advert: check.advert };
  if ('peerId' in check) {
    const known = knownFingerprint(check.peerId);
    return { action: 'conflict', conflict: { kind: 'fingerprint-mismatch', peerId: check.peerId, claimedFingerprint: check.fingerprint, ...(known ? { knownFingerprint: known } : {}), source } };
  }
  return { action: 'malformed', reason: check.reason };
}
