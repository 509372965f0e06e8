/**
 * Guards for bonjour-service's responder, which answers every question of
 * every query by multicast (security.md F5) and checks no source addresses. Pure.
 *
 * - RFC 6762 §6: the answer to one question is multicast at most once per
 *   `minIntervalMs`; duplicate questions in a packet are collapsed; at most
 *   `maxQuestions` questions of a packet are answered.
 * - RFC 6762 §11: packets from sources outside every local subnet are ignored.
 */

export interface Question {
  name: string;
  type: string;
}

export interface QuestionLimiterOptions {
  minIntervalMs?: number;
  maxQuestions?: number;
  /** Bound on remembered question keys; the oldest are forgotten first. */
  maxKeys?: number;
}

export class QuestionLimiter {
  private readonly minIntervalMs: number;
  private readonly maxQuestions: number;
  private readonly maxKeys: number;
  private readonly lastAnswered = new Map<string, number>();

  constructor(options: QuestionLimiterOptions = {}) {
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    this.maxQuestions = options.maxQuestions ?? 8;
    this.maxKeys = options.maxKeys ?? 1024;
  }

  /** The questions that may be answered now; the rest are dropped. Records the answered ones. */
  admit<Q extends Question>(questions: readonly Q[], now: number): { admitted: Q[]; dropped: number } {
    const admitted: Q[] = [];
    const inPacket = new Set<string>();
    for (const q of questions) {
      if (admitted.length >= this.maxQuestions) break;
      const key = `${String(q.name).toLowerCase().replace(/\.$/, '')}|${String(q.type)}`;
      if (inPacket.has(key)) continue;
      inPacket.add(key);
      const last = this.lastAnswered.get(key);
      if (last !== undefined && now - last < this.minIntervalMs) continue;
      this.lastAnswered.delete(key);
      this.lastAnswered.set(key, now);
      admitted.push(q);
    }
    while (this.lastAnswered.size > this.maxKeys) {
      const oldest = this.lastAnswered.keys().next().value;
      if (oldest === undefined) break;
      this.lastAnswered.delete(oldest);
    }
    return { admitted, dropped: questions.length - admitted.length };
  }
}

export interface LocalInterfaceAddress {
  address: string;
  family: string | number;
  netmask: string;
  internal?: boolean;
}

function ipv4ToInt(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

/**
 * Whether an IPv4 source lies in one of the local subnets. IPv6 sources are
 * accepted only if link-local (fe80::/10) or one of our own addresses.
 */
export function isOnLink(source: string, interfaces: readonly LocalInterfaceAddress[]): boolean {
  const src = ipv4ToInt(source);
  if (src === undefined) {
    const lower = source.toLowerCase();
    return /^fe[89ab][0-9a-f]:/.test(lower) || interfaces.some((i) => i.address.toLowerCase() === lower);
  }
  for (const iface of interfaces) {
    if (iface.family !== 'IPv4' && iface.family !== 4) continue;
    const addr = ipv4ToInt(iface.address);
    const mask = ipv4ToInt(iface.netmask);
    if (addr === undefined || mask === undefined) continue;
    if (((addr & mask) >>> 0) === ((src & mask) >>> 0)) return true;
  }
  return false;
}
