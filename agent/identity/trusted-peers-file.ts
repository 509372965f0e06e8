/**
 * `trusted-peers.json`: the peers paired on this agent (the installer's allow-list lives in
 * the config instead). Written atomically with mode 0600; a file that is corrupt or
 * writable by others stops the agent rather than silently changing whom it trusts.
 *
 *   { "version": 1, "peers": [ { "fingerprint": "<64 hex>", "name": "Suzuki", "pairedAt": "2026-06-21T00:00:00.000Z" } ] }
 */
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { removeStrayTemps, writeFileAtomic, type AtomicFs } from './atomic-file.js';
import { FINGERPRINT_PATTERN } from './peer-id.js';

export const TRUST_FILE = 'trusted-peers.json';
const FILE_MODE = 0o600;
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_NAME_LENGTH = 64;

export interface PairedRecord {
  fingerprint: string;
  name?: string;
  /** Milliseconds since the epoch. */
  pairedAt: number;
}

export class TrustStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrustStoreError';
  }
}

/** Lowercase hex without separators, accepting "AB:CD:…" as printed by openssl; undefined if not a fingerprint. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.trim().replace(/[:\s]/g, '').toLowerCase();
  return FINGERPRINT_PATTERN.test(hex) ? hex : undefined;
}

/** A peer's display name: 1-64 characters, no control or format characters. */
export function validName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && !/[\p{Cc}\p{Cf}]/u.test(name);
}

export function parseTrustFile(text: string, file: string): PairedRecord[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new TrustStoreError(`${file} is not valid JSON (${(error as Error).message}); restore it or remove it and pair again`);
  }
  const doc = data as { version?: unknown; peers?: unknown };
  if (typeof data !== 'object' || data === null || doc.version !== 1 || !Array.isArray(doc.peers)) {
    throw new TrustStoreError(`${file}: expected {"version": 1, "peers": [...]}`);
  }
  const seen = new Set<string>();
  return doc.peers.map((entry: unknown, i): PairedRecord => {
    const peer = entry as { fingerprint?: unknown; name?: unknown; pairedAt?: unknown };
    const where = `${file}: peers[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new TrustStoreError(`${where} is not an object`);
    if (typeof peer.fingerprint !== 'string' || !FINGERPRINT_PATTERN.test(peer.fingerprint)) throw new TrustStoreError(`${where}.fingerprint is not 64 lowercase hex digits`);
    if (seen.has(peer.fingerprint)) throw new TrustStoreError(`${where}.fingerprint appears twice`);
    seen.add(peer.fingerprint);
    if (peer.name !== undefined && (typeof peer.name !== 'string' || !validName(peer.name))) throw new TrustStoreError(`${where}.name must be 1-${MAX_NAME_LENGTH} printable characters`);
    const pairedAt = typeof peer.pairedAt === 'string' ? Date.parse(peer.pairedAt) : Number.NaN;
    if (Number.isNaN(pairedAt)) throw new TrustStoreError(`${where}.pairedAt is not an ISO date`);
    return { fingerprint: peer.fingerprint, ...(peer.name !== undefined ? { name: peer.name } : {}), pairedAt };
  });
}

export function serializeTrustFile(peers: readonly PairedRecord[]): string {
  const sorted = [...peers].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint));
  const out = sorted.map((p) => ({ fingerprint: p.fingerprint, ...(p.name !== undefined ? { name: p.name } : {}), pairedAt: new Date(p.pairedAt).toISOString() }));
  return `${JSON.stringify({ version: 1, peers: out }, null, 2)}\n`;
}

/** Reads the paired peers; an absent file means none. */
export async function readTrustFile(stateDir: string, fs?: AtomicFs): Promise<PairedRecord[]> {
  const file = join(stateDir, TRUST_FILE);
  await removeStrayTemps(file, fs);
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new TrustStoreError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new TrustStoreError(`${file} is not a regular file`);
    if (info.mode & 0o022) throw new TrustStoreError(`${file} is writable by group or others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); run: chmod 600 ${file}`);
    if (info.size > MAX_FILE_BYTES) throw new TrustStoreError(`${file} is larger than ${MAX_FILE_BYTES} bytes`);
    return parseTrustFile(await handle.readFile('utf8'), file);
  } finally {
    await handle.close();
  }
}

export async function writeTrustFile(stateDir: string, peers: readonly PairedRecord[], fs?: AtomicFs): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(stateDir, TRUST_FILE), serializeTrustFile(peers), { mode: FILE_MODE, fs });
}
