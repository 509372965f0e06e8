import { createPrivateKey, type KeyObject } from 'node:crypto';
import { ManualClock } from '../../agent/core/clock.js';
import { peerIdOf, rawPublicKey } from '../../agent/identity/peer-id.js';
import { type OpenContext, type Signer } from '../../agent/mesh/envelope.js';
import { RateLimiter } from '../../agent/mesh/rate-limit.js';
import { Rejections } from '../../agent/mesh/rejections.js';
import { ReplayStore } from '../../agent/mesh/replay-store.js';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An Ed25519 private key from a 32-byte seed (RFC 8032 "secret key"). */
export function keyFromSeed(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** RFC 8032 §7.1 TEST 1 secret key: the fixed key of docs/protocol.md's example. */
export const RFC8032_TEST1_SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');

export interface TestPeer {
  peerId: string;
  privateKey: KeyObject;
  raw: Buffer;
  signer: Signer;
}

export function testPeer(seedByte: number): TestPeer {
  const privateKey = keyFromSeed(Buffer.alloc(32, seedByte));
  const raw = rawPublicKey(privateKey);
  const peerId = peerIdOf(raw);
  let seq = 0;
  return { peerId, privateKey, raw, signer: { peerId, privateKey, nextSeq: () => ++seq } };
}

export interface Harness {
  clock: ManualClock;
  alice: TestPeer;
  bob: TestPeer;
  mallory: TestPeer;
  replay: ReplayStore;
  rate: RateLimiter;
  rejections: Rejections;
  /** Bob's receiving context: trusts alice (and bob), not mallory. */
  ctx: OpenContext;
}

export function harness(): Harness {
  const clock = new ManualClock();
  const alice = testPeer(1);
  const bob = testPeer(2);
  const mallory = testPeer(3);
  const trusted = new Map([[alice.peerId, alice.raw], [bob.peerId, bob.raw]]);
  const replay = ReplayStore.inMemory(clock);
  const rate = new RateLimiter(clock);
  const rejections = new Rejections();
  const ctx: OpenContext = { self: bob.peerId, resolveKey: (id) => trusted.get(id), clock, replay, rate, rejections };
  return { clock, alice, bob, mallory, replay, rate, rejections, ctx };
}
