import { execFile } from 'node:child_process';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ManualClock } from '../../agent/core/clock.js';
import { silentLogger, type Logger } from '../../agent/core/log.js';
import { peerIdOf, rawPublicKey } from '../../agent/identity/peer-id.js';
import { contractBody, signFill, type ContractBody } from '../../agent/ledger/fill-signature.js';
import { Ledger, type LedgerIo } from '../../agent/ledger/ledger.js';
import type { RecordSigner } from '../../agent/ledger/record.js';
import type { Fill } from '../../agent/market/types.js';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const bin = join(root, 'dist/agent/cli/bin.js');

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface TestSigner extends RecordSigner {
  pem: string;
}

/** A fixed Ed25519 identity from a one-byte seed. */
export function testSigner(seedByte: number): TestSigner {
  const privateKey: KeyObject = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.alloc(32, seedByte)]), format: 'der', type: 'pkcs8' });
  const raw = rawPublicKey(privateKey);
  return { peerId: peerIdOf(raw), privateKey, rawPublicKey: raw, pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

export const SLOT0 = Date.UTC(2026, 5, 21, 3, 0, 0);

/** The n-th fill between a seller and a buyer. */
export function sampleFill(n: number, seller: string, buyer: string): Fill {
  return {
    slot: SLOT0 + n * 1_800_000,
    zone: 'block-7',
    sellOrder: n.toString(16).padStart(64, 'a'),
    buyOrder: n.toString(16).padStart(64, 'b'),
    seller,
    buyer,
    energyWh: 500 + n,
    priceSenPerKWh: 1800,
    buyerPaysSenPerKWh: 1850,
    sellerGetsSenPerKWh: 1800,
  };
}

/** A contract body for the n-th fill, the owner selling to the counterpart, signed by both. */
export function sampleContract(n: number, owner: RecordSigner, counterpart: RecordSigner): ContractBody {
  const fill = sampleFill(n, owner.peerId, counterpart.peerId);
  return contractBody(fill, [signFill(fill, owner), signFill(fill, counterpart)], owner.peerId);
}

export interface OpenOptions {
  log?: Logger;
  clock?: ManualClock;
  io?: LedgerIo;
  signatures?: 'all' | 'tail';
}

export function openLedger(file: string, identity: RecordSigner, options: OpenOptions = {}): Promise<Ledger> {
  return Ledger.open(file, {
    identity,
    log: options.log ?? silentLogger(),
    clock: options.clock ?? new ManualClock(),
    ...(options.io ? { io: options.io } : {}),
    ...(options.signatures ? { signatures: options.signatures } : {}),
  });
}

/** A ledger file with `n` contracts (owner sells to counterpart), closed again. */
export async function writeContracts(file: string, owner: RecordSigner, counterpart: RecordSigner, n: number): Promise<void> {
  const clock = new ManualClock();
  const ledger = await openLedger(file, owner, { clock });
  for (let i = 1; i <= n; i++) {
    await ledger.append('contract', `contract:${i}`, sampleContract(i, owner, counterpart));
    await clock.advance(1000);
  }
  await ledger.close();
}

async function newest(dir: string): Promise<number> {
  let latest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, await newest(path));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

const exec = promisify(execFile);

/**
 * Makes sure dist/ holds the CLI and the ledger built from the current sources. `npm test`
 * builds first, so this normally does nothing. A build that reports errors elsewhere in the
 * tree (work in progress) still emits; what counts is that the outputs used here are fresh.
 */
export async function ensureBuilt(): Promise<void> {
  const outputs = [bin, join(root, 'dist/agent/cli/commands/ledger.js'), join(root, 'dist/agent/ledger/ledger.js')];
  const sources = Math.max(...(await Promise.all(['agent/ledger', 'agent/cli', 'agent/identity', 'agent/mesh', 'agent/core'].map((d) => newest(join(root, d))))));
  const fresh = (): boolean => outputs.every((o) => existsSync(o) && statSync(o).mtimeMs >= sources);
  if (fresh()) return;
  await exec('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, timeout: 180_000 }).catch(() => undefined);
  if (!fresh()) throw new Error('dist/ could not be built from the current sources: run `npm run build`');
}
