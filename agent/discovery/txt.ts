/**
 * The `_tonari._tcp` advert: TXT encoding and strict validation. Pure.
 *
 * TXT keys: id (peer id, also the instance name), v (protocol version),
 * zone, port (broker TLS port, equal to the SRV port), fp (key fingerprint).
 */
import { FINGERPRINT_PATTERN, PEER_ID_PATTERN, peerIdFromFingerprint } from '../identity/peer-id.js';
import type { SelfAdvert } from './types.js';

export const SERVICE_TYPE = 'tonari';
export const SERVICE_PROTOCOL = 'tcp';
/** The DNS-SD service name browsed for: `_tonari._tcp.local`. */
export const SERVICE_FQDN = `_${SERVICE_TYPE}._${SERVICE_PROTOCOL}.local`;
export const PROTOCOL_VERSION = 1;

export const ZONE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const VERSION_PATTERN = /^[1-9][0-9]{0,3}$/;
const PORT_PATTERN = /^[1-9][0-9]{0,4}$/;

export type TxtRecord = Record<string, string>;

export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** The TXT key/values we publish. */
export function encodeAdvertTxt(self: SelfAdvert): TxtRecord {
  return { id: self.peerId, v: String(PROTOCOL_VERSION), zone: self.zone, port: String(self.port), fp: self.fingerprint };
}

/** Throws if our own advert would not pass a neighbour's validation. */
export function assertValidSelf(self: SelfAdvert): void {
  if (!PEER_ID_PATTERN.test(self.peerId)) throw new RangeError(`not a peer id: ${self.peerId}`);
  if (!FINGERPRINT_PATTERN.test(self.fingerprint)) throw new RangeError(`not a fingerprint: ${self.fingerprint}`);
  if (peerIdFromFingerprint(self.fingerprint) !== self.peerId) throw new RangeError('peer id does not derive from the fingerprint');
  if (!ZONE_PATTERN.test(self.zone)) throw new RangeError(`zone must match ${ZONE_PATTERN}: ${self.zone}`);
  if (!isValidPort(self.port)) throw new RangeError(`not a port: ${self.port}`);
}

/**
 * Decodes DNS TXT strings (RFC 6763 §6): keys are case-insensitive, the first
 * occurrence of a key wins, entries without '=' (boolean attributes) and
 * empty keys are dropped.
 */
export function decodeTxt(data: unknown): TxtRecord {
  const items = Array.isArray(data) ? data : data === undefined || data === null ? [] : [data];
  const out: TxtRecord = {};
  for (const item of items) {
    const text = Buffer.isBuffer(item) ? item.toString('utf8') : typeof item === 'string' ? item : undefined;
    if (text === undefined) continue;
    const eq = text.indexOf('=');
    if (eq <= 0) continue;
    const key = text.slice(0, eq).toLowerCase();
    if (!(key in out)) out[key] = text.slice(eq + 1);
  }
  return out;
}

/** What one response told about one instance of our service type. */
export interface AdvertFields {
  /** Instance label (the part before `._tonari._tcp.local`). */
  instance: string;
  txt: TxtRecord;
  /** SRV port and target. */
  port: number;
  host: string;
}

export interface ValidAdvert {
  peerId: string;
  fingerprint: string;
  zone: string;
  version: number;
  port: number;
  host: string;
}

export type AdvertCheck =
  | { ok: true; advert: ValidAdvert }
  /** Well-formed, but TXT fp does not hash to the id: an identity conflict, not garbage. */
  | { ok: false; reason: 'fingerprint-mismatch'; peerId: string; fingerprint: string }
  | { ok: false; reason: string };

/** Strict validation of one advert. */
export function validateAdvert(fields: AdvertFields): AdvertCheck {
  const { txt } = fields;
  const id = txt.id;
  const fp = txt.fp;
  if (id === undefined || !PEER_ID_PATTERN.test(id)) return { ok: false, reason: 'bad-id' };
  if (fields.instance !== id) return { ok: false, reason: 'instance-not-id' };
  if (fp === undefined || !FINGERPRINT_PATTERN.test(fp)) return { ok: false, reason: 'bad-fingerprint' };
  if (txt.v === undefined || !VERSION_PATTERN.test(txt.v)) return { ok: false, reason: 'bad-version' };
  if (txt.zone === undefined || !ZONE_PATTERN.test(txt.zone)) return { ok: false, reason: 'bad-zone' };
  if (txt.port === undefined || !PORT_PATTERN.test(txt.port)) return { ok: false, reason: 'bad-port' };
  const port = Number(txt.port);
  if (!isValidPort(port)) return { ok: false, reason: 'bad-port' };
  if (port !== fields.port) return { ok: false, reason: 'port-not-srv-port' };
  if (fields.host.length === 0 || fields.host.length > 253) return { ok: false, reason: 'bad-host' };
  if (peerIdFromFingerprint(fp) !== id) return { ok: false, reason: 'fingerprint-mismatch', peerId: id, fingerprint: fp };
  return { ok: true, advert: { peerId: id, fingerprint: fp, zone: txt.zone, version: Number(txt.v), port, host: fields.host } };
}
