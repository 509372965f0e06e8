/**
 * Pure access rules of the embedded broker (MQ-4, MQ-5, MQ-7).
 *
 * On an agent's own broker only the owner publishes (in-process). A neighbour
 * may subscribe to what the owner says publicly and to what the owner says to
 * it; a local anonymous tool may read the whole namespace and write nothing.
 */
import { PEER_ID_PATTERN } from '../agent/identity/peer-id.js';
import { parseTopic, TOPIC_ROOT } from '../agent/mesh/topics.js';

/**
 * Why a topic, topic filter, client id or user name is not acceptable text
 * (MQTT-1.5.3): U+0000, C0/C1 control characters and DEL, U+FFFD (what
 * mqtt-packet decodes invalid UTF-8 to, so the wire bytes were malformed),
 * lone surrogates and the noncharacters U+FFFE/U+FFFF. Undefined when fine.
 */
export function textProblem(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) return 'contains U+0000';
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return `contains control character U+${c.toString(16).padStart(4, '0').toUpperCase()}`;
    if (c === 0xfffd) return 'contains U+FFFD (invalid UTF-8 on the wire)';
    if (c === 0xfffe || c === 0xffff) return 'contains a noncharacter';
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) { i++; continue; }
      return 'contains a lone surrogate';
    }
    if (c >= 0xdc00 && c <= 0xdfff) return 'contains a lone surrogate';
  }
  return undefined;
}

/** Splits a topic filter into levels; undefined when wildcards are misplaced. */
export function filterLevels(filter: string): string[] | undefined {
  if (filter.length === 0) return undefined;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level === '#') { if (i !== levels.length - 1) return undefined; continue; }
    if (level === '+') continue;
    if (level.includes('#') || level.includes('+')) return undefined;
  }
  return levels;
}

const ROOT_LEVELS = TOPIC_ROOT.split('/');

/** True when `levels` begins with exactly these literal levels (no wildcard may stand in for them). */
function startsWithLiterals(levels: string[], prefix: string[]): boolean {
  if (levels.length < prefix.length) return false;
  return prefix.every((p, i) => levels[i] === p);
}

/**
 * Whether a neighbour `peer` may subscribe to `filter` on `owner`'s broker:
 * `tonari/v1/<owner>/status`, `tonari/v1/<owner>/pub/#` or any narrower filter
 * below `pub/`, `tonari/v1/<owner>/to/<peer>/#` or any narrower filter below
 * it. Wildcards may only narrow within those subtrees, never widen the owner,
 * the scope or the recipient level.
 */
export function neighbourMaySubscribe(owner: string, peer: string, filter: string): boolean {
  const levels = filterLevels(filter);
  if (!levels) return false;
  const root = [...ROOT_LEVELS, owner];
  if (levels.length === root.length + 1 && startsWithLiterals(levels, [...root, 'status'])) return true;
  if (levels.length > root.length + 1 && startsWithLiterals(levels, [...root, 'pub'])) return true;
  if (levels.length > root.length + 2 && startsWithLiterals(levels, [...root, 'to', peer])) return true;
  return false;
}

/**
 * Local read-only tools may subscribe to `tonari/v1/#` or anything narrower inside the
 * namespace, and to `<root>/#` or anything narrower below one of `localRoots`: topic
 * roots the owner publishes for local tools only (Home Assistant discovery and state).
 */
export function localMaySubscribe(filter: string, localRoots: readonly string[] = []): boolean {
  const levels = filterLevels(filter);
  if (!levels) return false;
  if (levels.length > ROOT_LEVELS.length && startsWithLiterals(levels, ROOT_LEVELS)) return true;
  return localRoots.some((root) => {
    const rootLevels = root.split('/');
    return levels.length > rootLevels.length && startsWithLiterals(levels, rootLevels);
  });
}

/** Whether a concrete topic lies below one of `localRoots` (never a neighbour's business). */
export function isLocalOnlyTopic(topic: string, localRoots: readonly string[]): boolean {
  return localRoots.some((root) => root.length > 0 && topic.startsWith(`${root}/`) && topic.length > root.length + 1);
}

/** Whether a concrete topic may be forwarded to neighbour `peer` (defence in depth behind the subscription rules). */
export function neighbourMayReceive(owner: string, peer: string, topic: string): boolean {
  const parsed = parseTopic(topic);
  if (!parsed || parsed.owner !== owner) return false;
  return parsed.scope !== 'direct' || parsed.recipient === peer;
}

/** Whether a concrete topic may be forwarded to a local read-only tool. */
export function localMayReceive(topic: string, localRoots: readonly string[] = []): boolean {
  return topic.startsWith(`${TOPIC_ROOT}/`) || isLocalOnlyTopic(topic, localRoots);
}

/**
 * Whether the owner may publish `topic` on its own broker: a well-formed topic under its
 * own root, or a concrete topic (no wildcard) below one of `localRoots`, which only local
 * tools receive (neighbourMayReceive refuses anything outside the namespace).
 */
export function ownerMayPublish(owner: string, topic: string, localRoots: readonly string[] = []): boolean {
  if (textProblem(topic) !== undefined) return false;
  const parsed = parseTopic(topic);
  if (parsed !== undefined) return parsed.owner === owner;
  return isLocalOnlyTopic(topic, localRoots) && !topic.startsWith(`${TOPIC_ROOT}/`) && !/[#+$]/.test(topic);
}

/** Client ids local tools may use: printable ASCII without spaces, at most 64 characters, and never a peer id. */
export const LOCAL_CLIENT_ID_PATTERN = /^[\x21-\x7e]{1,64}$/;

export type ClientIdVerdict =
  | { ok: true }
  | { ok: false; returnCode: 2 | 4 | 5; reason: 'bad_client_id' | 'bad_username' | 'not_authorized'; detail: string };

/**
 * CONNECT checks (TLS-3, MQ-4). `clientId` is the id as sent on the wire
 * (empty if none); `peerId` is the identity pinned by TLS, undefined for the
 * local plaintext listener.
 */
export function checkConnect(clientId: string, clean: boolean, username: string | undefined, peerId: string | undefined): ClientIdVerdict {
  if (username !== undefined) {
    const problem = textProblem(username);
    if (problem) return { ok: false, returnCode: 4, reason: 'bad_username', detail: `user name ${problem}` };
  }
  const idProblem = textProblem(clientId);
  if (idProblem) return { ok: false, returnCode: 2, reason: 'bad_client_id', detail: `client id ${idProblem}` };
  if (peerId !== undefined) {
    if (clientId.length === 0) return { ok: false, returnCode: 2, reason: 'bad_client_id', detail: 'empty client id' };
    if (!PEER_ID_PATTERN.test(clientId)) return { ok: false, returnCode: 2, reason: 'bad_client_id', detail: 'client id is not a peer id' };
    if (clientId !== peerId) return { ok: false, returnCode: 5, reason: 'not_authorized', detail: 'client id is not the peer id of the certificate' };
    return { ok: true };
  }
  if (clientId.length === 0) {
    // MQTT-3.1.3-8: a zero-length id needs CleanSession=1 (aedes accepts it either way).
    return clean ? { ok: true } : { ok: false, returnCode: 2, reason: 'bad_client_id', detail: 'empty client id with CleanSession=0' };
  }
  if (!LOCAL_CLIENT_ID_PATTERN.test(clientId)) return { ok: false, returnCode: 2, reason: 'bad_client_id', detail: 'client id is not printable ASCII of at most 64 characters' };
  // A local client using a peer id would take over that neighbour's session.
  if (PEER_ID_PATTERN.test(clientId)) return { ok: false, returnCode: 5, reason: 'not_authorized', detail: 'peer ids need a pinned certificate' };
  return { ok: true };
}

/*
 * Hub mode (a standalone community broker, `tonari broker`): every member
 * publishes under its own root only and reads what the others say publicly or
 * to it, as on a shared MQTT cluster (agent/mesh/topics.ts uses '+' as owner).
 */

/** A hub member may subscribe as a neighbour of any one owner, or of all owners with '+'. */
export function hubMaySubscribe(peer: string, filter: string): boolean {
  const levels = filterLevels(filter);
  const owner = levels?.[ROOT_LEVELS.length];
  if (owner === undefined || (owner !== '+' && !PEER_ID_PATTERN.test(owner))) return false;
  return neighbourMaySubscribe(owner, peer, filter);
}

/** A hub member may publish (and leave a will) only under its own root. */
export function hubMayPublish(peer: string, topic: string): boolean {
  return ownerMayPublish(peer, topic, []);
}

/** Whether a concrete topic may be forwarded to hub member `peer`. */
export function hubMayReceive(peer: string, topic: string): boolean {
  const parsed = parseTopic(topic);
  if (!parsed) return false;
  return parsed.scope !== 'direct' || parsed.recipient === peer;
}
