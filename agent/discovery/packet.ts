/**
 * Reads one decoded mDNS response (dns-packet shape, as multicast-dns emits
 * it) into per-instance observations of our service type. Pure.
 *
 * We parse responses ourselves instead of using bonjour-service's Browser:
 * its Browser never refreshes `lastSeen` for unchanged services, ignores
 * address changes and keeps SIGKILLed peers for the 8 h PTR TTL.
 */
import { decodeTxt, type TxtRecord } from './txt.js';

export interface DnsRecord {
  name: string;
  type: string;
  ttl?: number;
  data?: unknown;
}

export interface DnsPacket {
  answers?: DnsRecord[];
  additionals?: DnsRecord[];
}

export interface InstanceObservation {
  /** Instance label, e.g. the peer id. */
  instance: string;
  fqdn: string;
  /** A PTR or SRV with TTL 0 for this instance (a goodbye). */
  goodbye: boolean;
  srv?: { port: number; host: string };
  txt?: TxtRecord;
  /** A/AAAA addresses of the SRV target found in the same packet, IPv4 first. */
  addresses: string[];
}

/** DNS names compare case-insensitively and without a trailing dot. */
export function dnsName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function instanceLabel(fqdn: string, suffix: string): string | undefined {
  const name = dnsName(fqdn);
  if (!name.endsWith(`.${suffix}`)) return undefined;
  const label = fqdn.replace(/\.$/, '').slice(0, fqdn.replace(/\.$/, '').length - suffix.length - 1);
  return label.length > 0 ? label : undefined;
}

function srvData(data: unknown): { port: number; host: string } | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { port, target } = data as { port?: unknown; target?: unknown };
  if (typeof port !== 'number' || typeof target !== 'string') return undefined;
  return { port, host: target.replace(/\.$/, '') };
}

/** Observations of instances of `serviceFqdn` (e.g. `_tonari._tcp.local`) in one response. */
export function parseResponse(packet: DnsPacket, serviceFqdn: string): InstanceObservation[] {
  const suffix = dnsName(serviceFqdn);
  const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])].filter(
    (r): r is DnsRecord => typeof r === 'object' && r !== null && typeof r.name === 'string' && typeof r.type === 'string',
  );
  const byFqdn = new Map<string, InstanceObservation>();
  const entry = (fqdn: string): InstanceObservation | undefined => {
    const key = dnsName(fqdn);
    const existing = byFqdn.get(key);
    if (existing) return existing;
    const instance = instanceLabel(fqdn, suffix);
    if (instance === undefined) return undefined;
    const created: InstanceObservation = { instance, fqdn: key, goodbye: false, addresses: [] };
    byFqdn.set(key, created);
    return created;
  };

  for (const rr of records) {
    const ttl = rr.ttl ?? 0;
    if (rr.type === 'PTR' && dnsName(rr.name) === suffix && typeof rr.data === 'string') {
      const obs = entry(rr.data);
      if (obs && ttl === 0) obs.goodbye = true;
    } else if (rr.type === 'SRV') {
      const obs = entry(rr.name);
      if (!obs) continue;
      if (ttl === 0) obs.goodbye = true;
      else obs.srv ??= srvData(rr.data);
    } else if (rr.type === 'TXT') {
      const obs = entry(rr.name);
      if (obs && ttl > 0 && obs.txt === undefined) obs.txt = decodeTxt(rr.data);
    }
  }

  for (const obs of byFqdn.values()) {
    if (!obs.srv) continue;
    const host = dnsName(obs.srv.host);
    const v4: string[] = [];
    const v6: string[] = [];
    for (const rr of records) {
      if ((rr.ttl ?? 0) === 0 || typeof rr.data !== 'string' || dnsName(rr.name) !== host) continue;
      if (rr.type === 'A' && !v4.includes(rr.data)) v4.push(rr.data);
      if (rr.type === 'AAAA' && !v6.includes(rr.data)) v6.push(rr.data);
    }
    obs.addresses = [...v4, ...v6];
  }
  return [...byFqdn.values()];
}
