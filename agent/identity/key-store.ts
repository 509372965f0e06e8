/**
 * The agent's one Ed25519 key (security.md ID-1, ID-6): created on first start as
 * `identity.key` (PKCS#8 PEM, mode 0600) in the state directory, reused afterwards,
 * and never replaced: a key with loose permissions, of the wrong type or unreadable
 * stops the agent with a message saying what to do.
 *
 * The TLS certificate is not stored: it is rebuilt from the key on every start, since
 * peers pin the key, not the certificate.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { removeStrayTemps, writeFileAtomic, type AtomicFs } from './atomic-file.js';
import { selfSignedCertificate } from './certificate.js';
import { checkCodeOf } from './check-code.js';
import { fingerprintOf, peerIdOf, rawPublicKey } from './peer-id.js';

export const KEY_FILE = 'identity.key';
const KEY_MODE = 0o600;
const DIR_MODE = 0o700;
/** A key file is a few hundred bytes; refuse to read anything large. */
const MAX_KEY_BYTES = 16 * 1024;

export interface AgentIdentity {
  peerId: string;
  /** Hex SHA-256 of the raw public key: what peers pin. */
  fingerprint: string;
  /** 1234-5678-901, for people to compare. */
  checkCode: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
  rawPublicKey: Buffer;
  keyPem: string;
  certPem: string;
  certDer: Buffer;
}

export type IdentityErrorCode = 'key_permissions' | 'key_corrupt' | 'key_not_ed25519' | 'key_unreadable' | 'state_dir';

export class IdentityError extends Error {
  constructor(readonly code: IdentityErrorCode, message: string) {
    super(message);
    this.name = 'IdentityError';
  }
}

export interface IdentityOptions {
  clock: Clock;
  log: Logger;
  fs?: AtomicFs;
}

/**
 * When every identity certificate becomes valid (plus the one-day backdate). Fixed, so that
 * the certificate is a pure function of the key.
 */
export const IDENTITY_CERT_EPOCH = Date.UTC(2024, 0, 2);

/** The certificate serial of a key: the first 16 bytes of SHA-256 over "tonari-serial" and the raw key, made positive. */
export function identitySerial(rawKey: Uint8Array): Buffer {
  const serial = createHash('sha256').update('tonari-serial').update(rawKey).digest().subarray(0, 16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01;
  return serial;
}

/**
 * Builds the identity (names, certificate) of a private key. Pure: the same key always gives
 * the byte-identical certificate (fixed validity, serial from the key, deterministic Ed25519),
 * so a shared broker's CA file can list it once (external-broker mode).
 */
export function identityFromKey(privateKey: KeyObject, keyPem: string): AgentIdentity {
  const raw = rawPublicKey(privateKey);
  const fingerprint = fingerprintOf(raw);
  const peerId = peerIdOf(raw);
  const cert = selfSignedCertificate(privateKey, { commonName: peerId, now: IDENTITY_CERT_EPOCH, serial: identitySerial(raw) });
  const identity = {
    peerId,
    fingerprint,
    checkCode: checkCodeOf(fingerprint),
    publicKey: createPublicKey(privateKey),
    privateKey,
    rawPublicKey: raw,
    certPem: cert.pem,
    certDer: cert.der,
  } as AgentIdentity;
  // Not enumerable, so logging or serialising the identity object cannot leak the key.
  Object.defineProperty(identity, 'keyPem', { value: keyPem, enumerable: false });
  return identity;
}

/** Parses a PEM private key and insists on Ed25519. */
export function parseKeyPem(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new IdentityError('key_corrupt', `${file} is not a readable private key; restore it from a backup, or move it away to create a new identity (neighbours must then pair again)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new IdentityError('key_not_ed25519', `${file} holds a ${key.asymmetricKeyType ?? 'unknown'} key, but tonari needs Ed25519; move it away to create a new identity`);
  }
  return key;
}

async function ensureStateDir(stateDir: string, log: Logger): Promise<void> {
  try {
    await mkdir(stateDir, { recursive: true, mode: DIR_MODE });
    const info = await stat(stateDir);
    if (!info.isDirectory()) throw new IdentityError('state_dir', `${stateDir} is not a directory`);
    if (info.mode & 0o022) log.warn({ stateDir, mode: (info.mode & 0o777).toString(8) }, 'state directory is writable by group or others');
  } catch (error) {
    if (error instanceof IdentityError) throw error;
    throw new IdentityError('state_dir', `cannot use state directory ${stateDir}: ${(error as Error).message}`);
  }
}

/** Reads the key file; undefined if it does not exist. */
async function readKeyFile(file: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new IdentityError('key_unreadable', `${file} is a symbolic link; keep the key itself in the state directory`);
    throw new IdentityError('key_unreadable', `cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new IdentityError('key_unreadable', `${file} is not a regular file`);
    if (info.mode & 0o077) {
      throw new IdentityError('key_permissions', `${file} is accessible by group or others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); run: chmod 600 ${file}`);
    }
    if (info.size > MAX_KEY_BYTES) throw new IdentityError('key_corrupt', `${file} is ${info.size} bytes, too large for a key`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Loads the agent's identity from `stateDir`, creating the key on first start. */
export async function loadOrCreateIdentity(stateDir: string, options: IdentityOptions): Promise<AgentIdentity> {
  const { clock, log } = options;
  await ensureStateDir(stateDir, log);
  const file = join(stateDir, KEY_FILE);
  const stray = await removeStrayTemps(file, options.fs);
  if (stray.length > 0) log.warn({ files: stray }, 'removed temporary key files left by an interrupted write');

  const existing = await readKeyFile(file);
  if (existing !== undefined) {
    const identity = identityFromKey(parseKeyPem(existing, file), existing);
    log.info({ peerId: identity.peerId, fingerprint: identity.fingerprint }, 'identity loaded');
    return identity;
  }

  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  try {
    await writeFileAtomic(file, pem, { mode: KEY_MODE, exclusive: true, fs: options.fs });
  } catch (error) {
    // Another process created the key meanwhile: use that one, never overwrite it.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateIdentity(stateDir, options);
    throw new IdentityError('key_unreadable', `cannot write ${file}: ${(error as Error).message}`);
  }
  const identity = identityFromKey(privateKey, pem);
  log.info({ peerId: identity.peerId, fingerprint: identity.fingerprint, file }, 'identity created');
  return identity;
}
