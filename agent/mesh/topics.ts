/**
 * The topic namespace, identical on an agent's embedded broker and on a shared
 * MQTT cluster. Each agent publishes only under its own root:
 *
 *   tonari/v1/<owner>/status                 retained "online"/"offline" (last will)
 *   tonari/v1/<owner>/pub/<kind>             public messages (orders, adverts)
 *   tonari/v1/<owner>/to/<recipient>/<kind>  messages addressed to one neighbour
 *
 * A neighbour may subscribe to <owner>/status, <owner>/pub/# and
 * <owner>/to/<itself>/#, and to nothing else.
 */
export const TOPIC_ROOT = 'tonari/v1';
export const KIND_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

export function ownerRoot(owner: string): string {
  return `${TOPIC_ROOT}/${owner}`;
}

export function statusTopic(owner: string): string {
  return `${ownerRoot(owner)}/status`;
}

export function publicTopic(owner: string, kind: string): string {
  return `${ownerRoot(owner)}/pub/${kind}`;
}

export function directTopic(owner: string, recipient: string, kind: string): string {
  return `${ownerRoot(owner)}/to/${recipient}/${kind}`;
}

/** The subscriptions a neighbour makes to hear everything `owner` says to it (use '+' as owner on a shared broker). */
export function neighbourSubscriptions(owner: string, self: string): string[] {
  return [statusTopic(owner), `${ownerRoot(owner)}/pub/#`, `${ownerRoot(owner)}/to/${self}/#`];
}

export type ParsedTopic =
  | { owner: string; scope: 'status' }
  | { owner: string; scope: 'public'; kind: string }
  | { owner: string; scope: 'direct'; recipient: string; kind: string };

/** Parses a concrete (wildcard-free) topic of the namespace; undefined for anything else. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== 'tonari' || parts[1] !== 'v1' || !parts[2]) return undefined;
  const owner = parts[2];
  if (parts.length === 4 && parts[3] === 'status') return { owner, scope: 'status' };
  if (parts.length === 5 && parts[3] === 'pub' && KIND_PATTERN.test(parts[4]!)) return { owner, scope: 'public', kind: parts[4]! };
  if (parts.length === 6 && parts[3] === 'to' && parts[4] && KIND_PATTERN.test(parts[5]!)) {
    return { owner, scope: 'direct', recipient: parts[4], kind: parts[5]! };
  }
  return undefined;
}
