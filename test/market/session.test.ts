/**
 * The market protocol between several sessions over the in-memory bus, on a manual clock,
 * each with its own real ledger: orders, digests and fetches, replicated clearing,
 * countersigned contracts; lost and duplicated messages, a crash between gate closure and
 * signing, and forged countersignatures.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { ManualClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { identityFromKey, type AgentIdentity } from '../../agent/identity/key-store.js';
import { Ledger, verifyLedgerFile } from '../../agent/ledger/index.js';
import { MemoryBus } from '../../agent/market/bus.js';
import { FILL_SIGN_KIND, MarketSession, type ContractRecord, type SignedReading } from '../../agent/market/session.js';
import { settleSlot } from '../../agent/market/settlement.js';
import type { Side } from '../../agent/market/types.js';

const SLOT_MS = 30 * 60_000;
const GATE_MS = 5 * 60_000;
const RECONCILE_MS = 20_000;
const SLOT = Date.UTC(2026, 5, 21, 3, 0, 0); // 12:00 in Tokyo

function newIdentity(): AgentIdentity {
  const { privateKey } = generateKeyPairSync('ed25519');
  return identityFromKey(privateKey, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
}

interface Agent {
  identity: AgentIdentity;
  ledger: Ledger;
  session: MarketSession;
  file: string;
}

interface Delivered { slot: number; contracts: ContractRecord[]; readings: SignedReading[] }

async function community(n: number, options: { loss?: number; duplicate?: number; seed?: number; meters?: ({ exportedWh: number; importedWh: number } | undefined)[] } = {}) {
  const delivered = new Map<string, Delivered[]>();
  const dir = mkdtempSync(join(tmpdir(), 'tn-market-'));
  const clock = new ManualClock(SLOT - 60 * 60_000);
  let state = options.seed ?? 1;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const bus = new MemoryBus({ loss: options.loss ?? 0, duplicate: options.duplicate ?? 0, random });
  const identities = Array.from({ length: n }, newIdentity);
  const keys = new Map(identities.map((i) => [i.peerId, i.rawPublicKey]));
  const agents: Agent[] = [];
  for (const [i, identity] of identities.entries()) {
    const file = join(dir, `ledger-${i}.jsonl`);
    const ledger = await Ledger.open(file, { identity, log: silentLogger(), clock });
    let session!: MarketSession;
    const transport = bus.join(identity.peerId, (type, from, body) => session.receive(type, from, body));
    session = new MarketSession({
      identity, transport, keyOf: (id) => keys.get(id), ledger, clock, log: silentLogger(),
      slotMinutes: 30, gateMs: GATE_MS, reconcileMs: RECONCILE_MS, meterDelayMs: 60_000, resendMs: 10_000, readingTimeoutMs: 3_600_000,
      meterFor: () => options.meters?.[i],
      onDelivered: (slot, contracts, readings) => {
        delivered.set(identity.peerId, [...(delivered.get(identity.peerId) ?? []), { slot, contracts, readings }]);
      },
    });
    agents.push({ identity, ledger, session, file });
  }
  const dead = new Set<Agent>();
  /** The agent stops: it neither ticks nor receives any more. */
  const crash = (agent: Agent) => {
    dead.add(agent);
    bus.leave(agent.identity.peerId);
  };
  const step = async (ms: number) => {
    await clock.advance(ms);
    for (const a of agents) if (!dead.has(a)) await a.session.tick();
    await bus.deliver();
  };
  /** From before the gate to the start of the slot, in steps. */
  const runToSlot = async () => {
    await bus.deliver();
    while (clock.now() < SLOT) await step(Math.min(10_000, SLOT - clock.now()));
  };
  const cleanup = async () => {
    for (const a of agents) await a.ledger.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { agents, bus, clock, step, runToSlot, cleanup, keys, crash, delivered };
}

const order = (side: Side, energyWh: number, limitSenPerKWh: number) => ({ side, energyWh, limitSenPerKWh, feeSenPerKWh: 0, zone: 'default' });

t.test('three agents clear the same book and countersign their contracts', async (t) => {
  const c = await community(3);
  t.teardown(c.cleanup);
  const [a, b, d] = c.agents as [Agent, Agent, Agent];
  await a.session.placeOrder(SLOT, order('sell', 2000, 1000));
  await b.session.placeOrder(SLOT, order('buy', 1500, 2500));
  await d.session.placeOrder(SLOT, order('buy', 1000, 2000));
  await c.runToSlot();

  const results = c.agents.map((x) => JSON.stringify(x.session.result(SLOT)));
  t.equal(new Set(results).size, 1, 'byte-identical clearing results on every peer');
  const result = a.session.result(SLOT)!;
  t.equal(result.fills.length, 2);
  t.same(result.fills.map((f) => [f.buyer, f.energyWh]).sort(), [[b.identity.peerId, 1500], [d.identity.peerId, 500]].sort(), 'the higher bid is served first');
  t.equal(result.fills.reduce((s, f) => s + f.energyWh, 0), 2000, 'all the seller offered is sold');
  t.equal(a.session.contracts().length, 2, 'the seller holds two contracts');
  t.equal(b.session.contracts().length, 1);
  t.equal(d.session.contracts().length, 1);
  t.same(b.session.contracts()[0], a.session.contracts().find((x) => x.fill.buyer === b.identity.peerId), 'both sides hold the same contract');
  for (const x of c.agents) {
    const report = await verifyLedgerFile(x.file, { signatures: 'all' });
    t.notOk(report.damaged, `${x.file} verifies`);
  }
});

t.test('an order lost on the way is fetched after the digest round', async (t) => {
  const c = await community(2);
  t.teardown(c.cleanup);
  const [a, b] = c.agents as [Agent, Agent];
  c.bus.leave(b.identity.peerId); // b is away while a places its order
  await a.session.placeOrder(SLOT, order('sell', 1000, 900));
  await c.bus.deliver();
  c.bus.join(b.identity.peerId, (type, from, body) => b.session.receive(type, from, body));
  await b.session.placeOrder(SLOT, order('buy', 1000, 2000));
  t.equal(b.session.orderSet(SLOT).length, 1, 'b does not know a\'s order yet');
  await c.runToSlot();
  t.equal(b.session.orderSet(SLOT).length, 2, 'b fetched it');
  t.ok(b.session.counters.fetched >= 1);
  t.equal(a.session.contracts().length, 1);
  t.equal(b.session.contracts().length, 1);
});

t.test('duplicated deliveries create no second contract', async (t) => {
  const c = await community(3, { duplicate: 1 });
  t.teardown(c.cleanup);
  const [a, b, d] = c.agents as [Agent, Agent, Agent];
  await a.session.placeOrder(SLOT, order('sell', 3000, 800));
  await b.session.placeOrder(SLOT, order('buy', 1000, 2500));
  await d.session.placeOrder(SLOT, order('buy', 1000, 2500));
  await c.runToSlot();
  t.ok(c.bus.stats.duplicated > 0);
  t.equal(a.session.contracts().length, 2);
  const records = (await import('../../agent/ledger/index.js')).readLedgerFile;
  const { records: lines } = await records(a.file);
  t.equal(lines.filter((r) => r.kind === 'contract').length, 2, 'two contract records, not four');
});

t.test('a peer that crashes between gate closure and signing gets no contract, and commits nobody', async (t) => {
  const c = await community(3);
  t.teardown(c.cleanup);
  const [a, b, d] = c.agents as [Agent, Agent, Agent];
  await a.session.placeOrder(SLOT, order('sell', 2000, 1000));
  await b.session.placeOrder(SLOT, order('buy', 1000, 2500));
  await d.session.placeOrder(SLOT, order('buy', 1000, 2500));
  await c.bus.deliver();
  // d dies right after the gate closes: it never clears nor signs.
  while (c.clock.now() < SLOT - GATE_MS) await c.step(10_000);
  c.crash(d);
  await c.runToSlot();
  t.equal(a.session.contracts().length, 1, 'a contracts with b only');
  t.equal(a.session.contracts()[0]?.fill.buyer, b.identity.peerId);
  t.equal(d.session.contracts().length, 0);
});

t.test('forged or misaddressed countersignatures are ignored', async (t) => {
  const c = await community(2);
  t.teardown(c.cleanup);
  const [a, b] = c.agents as [Agent, Agent];
  await a.session.placeOrder(SLOT, order('sell', 1000, 1000));
  await b.session.placeOrder(SLOT, order('buy', 1000, 2000));
  c.bus.leave(b.identity.peerId); // b's own signature never reaches a
  await c.runToSlot();
  t.equal(a.session.contracts().length, 0);
  const fill = a.session.result(SLOT)!.fills[0]!;
  const mallory = newIdentity();
  const { signFill } = await import('../../agent/ledger/index.js');
  // Signed by a stranger claiming to be b.
  await a.session.receive(FILL_SIGN_KIND, b.identity.peerId, { fill, digest: '', signature: { ...signFill(fill, mallory), peerId: b.identity.peerId } });
  // b's real signature over a different fill.
  await a.session.receive(FILL_SIGN_KIND, b.identity.peerId, { fill: { ...fill, energyWh: 999 }, digest: '', signature: signFill({ ...fill, energyWh: 999 }, b.identity) });
  t.equal(a.session.contracts().length, 0, 'no contract from either');
  t.equal(a.session.counters.mismatches, 1, 'the different fill is counted as a mismatch');
  await a.session.receive(FILL_SIGN_KIND, b.identity.peerId, { fill, digest: '', signature: signFill(fill, b.identity) });
  t.equal(a.session.contracts().length, 1, 'the genuine one completes the contract');
});

t.test('under random books and message loss: no over-commitment, no duplicate, both sides agree', async (t) => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ side: fc.constantFrom<Side>('sell', 'buy'), energyWh: fc.integer({ min: 100, max: 5000 }), limit: fc.integer({ min: 500, max: 3000 }) }), { minLength: 2, maxLength: 6 }),
    fc.constantFrom(0, 0.05, 0.2),
    fc.integer({ min: 1, max: 1_000_000 }),
    async (books, loss, seed) => {
      const c = await community(books.length, { loss, seed, duplicate: 0.05 });
      try {
        for (const [i, o] of books.entries()) await c.agents[i]!.session.placeOrder(SLOT, order(o.side, o.energyWh, o.limit));
        await c.runToSlot();
        const byId = new Map<string, string>();
        for (const [i, agent] of c.agents.entries()) {
          const contracts = agent.session.contracts();
          const committed = contracts.reduce((s, k) => s + k.fill.energyWh, 0);
          if (committed > books[i]!.energyWh) return false;
          if (new Set(contracts.map((k) => k.id)).size !== contracts.length) return false;
          for (const k of contracts) {
            const other = byId.get(k.id);
            if (other !== undefined && other !== JSON.stringify(k)) return false;
            byId.set(k.id, JSON.stringify(k));
          }
        }
        // Every contract is held by both of its parties.
        for (const agent of c.agents) {
          for (const k of agent.session.contracts()) {
            const otherId = k.fill.seller === agent.identity.peerId ? k.fill.buyer : k.fill.seller;
            const other = c.agents.find((x) => x.identity.peerId === otherId)!;
            if (!other.session.contracts().some((x) => x.id === k.id) && loss === 0) return false;
          }
        }
        return true;
      } finally {
        await c.cleanup();
      }
    },
  ), { numRuns: 25 });
});

t.test('a seller lying about its meter: the contract is disputed and pays nothing beyond what the buyer\'s meter supports', async (t) => {
  // The seller signs a reading of full export; in truth the buyer imported nothing.
  const c = await community(2, { meters: [{ exportedWh: 1000, importedWh: 0 }, { exportedWh: 0, importedWh: 0 }] });
  t.teardown(c.cleanup);
  const [a, b] = c.agents as [Agent, Agent];
  await a.session.placeOrder(SLOT, order('sell', 1000, 1000));
  await b.session.placeOrder(SLOT, order('buy', 1000, 2000));
  await c.runToSlot();
  t.equal(a.session.contracts().length, 1);
  while (c.clock.now() < SLOT + SLOT_MS + 2 * 60_000) await c.step(10_000);
  const seen = c.delivered.get(b.identity.peerId)?.[0];
  t.ok(seen, 'the buyer has both readings');
  t.equal(seen!.readings.length, 2);
  const result = settleSlot({
    slot: SLOT, slotMinutes: 30, nowMs: c.clock.now(), tariff: { retailSenPerKWh: 3000, buybackSenPerKWh: 850 },
    contracts: seen!.contracts.map((k) => ({ ...k.fill, id: k.id })), readings: seen!.readings.map((r) => r.reading),
  });
  t.equal(result.contracts[0]?.status, 'disputed');
  t.equal(result.contracts[0]?.deliveredWh, 0);
  t.equal(result.contracts[0]?.paymentMillisen, 0, 'the buyer pays nothing for energy its meter never saw');
  for (const x of c.agents) t.notOk((await verifyLedgerFile(x.file, { signatures: 'all' })).damaged);
});

t.test('after a restart an agent continues its own revisions from the ledger (no second revision 1)', async (t) => {
  const c = await community(2);
  t.teardown(c.cleanup);
  const [a, b] = c.agents as [Agent, Agent];
  await a.session.placeOrder(SLOT, order('sell', 1000, 1000));
  await b.session.placeOrder(SLOT, order('buy', 2000, 2000));
  await c.bus.deliver();
  // a restarts: a new session on the same ledger and identity.
  const { readLedgerFile } = await import('../../agent/ledger/index.js');
  const { records } = await readLedgerFile(a.file);
  const restarted: MarketSession = new MarketSession({
    identity: a.identity, transport: c.bus.join(a.identity.peerId, (type, from, body): Promise<void> => restarted.receive(type, from, body)),
    keyOf: (id) => c.keys.get(id), ledger: a.ledger, clock: c.clock, log: silentLogger(),
    slotMinutes: 30, gateMs: GATE_MS, reconcileMs: RECONCILE_MS,
  });
  t.equal(restarted.restoreOwnOrders(records.filter((r) => r.kind === 'order').map((r) => r.body as never)), 1);
  a.session = restarted;
  const amended = await restarted.placeOrder(SLOT, order('sell', 1500, 1000));
  t.equal(amended.order.rev, 2, 'the amendment is revision 2');
  await c.runToSlot();
  t.same(b.session.orderSet(SLOT).find((o) => o.owner === a.identity.peerId)?.energyWh, 1500, 'the neighbour clears the amended order');
  t.equal(restarted.contracts()[0]?.fill.energyWh, 1500);
});
