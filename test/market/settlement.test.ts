import t from 'tap';
import fc from 'fast-check';
import {
  DEFAULT_SETTLEMENT_TIMEOUT_MS,
  SettlementError,
  detectEquivocation,
  proRataShares,
  settleSlot,
  settlementRecord,
  type Contract,
  type ContractSettlement,
  type HouseholdSettlement,
  type MeterReading,
  type SettleSlotInput,
  type SlotSettlement,
  type Tariff,
} from '../../agent/market/settlement.js';
import { canonicalJson } from '../../agent/mesh/canonical.js';

const RUNS = { numRuns: 200 };

/** 12:00 JST on 2026-06-21; a 30-minute slot. */
const SLOT = Date.UTC(2026, 5, 21, 3, 0);
const END = SLOT + 30 * 60_000;
const DEADLINE = END + DEFAULT_SETTLEMENT_TIMEOUT_MS;
/** 30 円/kWh retail, 8 円/kWh buyback. */
const TARIFF: Tariff = { retailSenPerKWh: 3000, buybackSenPerKWh: 800 };

interface ContractSpec {
  id: string;
  seller: string;
  buyer: string;
  energyWh: number;
  price?: number;
  buyerFee?: number;
  sellerFee?: number;
}

function contract(spec: ContractSpec): Contract {
  const price = spec.price ?? 2000;
  return {
    id: spec.id,
    slot: SLOT,
    zone: 'default',
    sellOrder: `sell-${spec.seller}`,
    buyOrder: `buy-${spec.buyer}`,
    seller: spec.seller,
    buyer: spec.buyer,
    energyWh: spec.energyWh,
    priceSenPerKWh: price,
    buyerPaysSenPerKWh: price + (spec.buyerFee ?? 0),
    sellerGetsSenPerKWh: price - (spec.sellerFee ?? 0),
  };
}

function reading(peerId: string, exportedWh: number, importedWh: number, at = END + 60_000): MeterReading {
  return { peerId, slot: SLOT, exportedWh, importedWh, at };
}

function settle(contracts: Contract[], readings: MeterReading[], extra: Partial<SettleSlotInput> = {}): SlotSettlement {
  return settleSlot({ slot: SLOT, slotMinutes: 30, contracts, readings, nowMs: END + 120_000, tariff: TARIFF, ...extra });
}

function byId(result: SlotSettlement, id: string): ContractSettlement {
  const c = result.contracts.find((x) => x.id === id);
  if (!c) throw new Error(`no contract ${id}`);
  return c;
}

function home(result: SlotSettlement, peerId: string): HouseholdSettlement {
  const h = result.households.find((x) => x.peerId === peerId);
  if (!h) throw new Error(`no household ${peerId}`);
  return h;
}

t.test('full delivery: money, fees, utility remainder and baseline worked by hand', async (t) => {
  const c = contract({ id: 'c1', seller: 's', buyer: 'b', energyWh: 1000, price: 2000, buyerFee: 200, sellerFee: 100 });
  const readings = [reading('s', 1200, 0), reading('b', 0, 1500)];
  const result = settle([c], readings);
  t.same(result.contracts, [
    {
      id: 'c1', slot: SLOT, zone: 'default', seller: 's', buyer: 'b', contractedWh: 1000,
      priceSenPerKWh: 2000, buyerPaysSenPerKWh: 2200, sellerGetsSenPerKWh: 1900,
      status: 'settled', sellerReading: 'metered', buyerReading: 'metered',
      sellerExportedWh: 1200, buyerImportedWh: 1500, sellerShareWh: 1000, buyerShareWh: 1000,
      deliveredWh: 1000,
      paymentMillisen: 2_000_000, // 1000 Wh × 2000 sen/kWh = 20 円
      buyerFeeMillisen: 200_000,
      sellerFeeMillisen: 100_000,
    },
  ]);
  t.same(home(result, 'b'), {
    peerId: 'b', reading: 'metered', status: 'settled',
    importedWh: 1500, exportedWh: 0, p2pBoughtWh: 1000, p2pSoldWh: 0, utilityImportWh: 500, utilityExportWh: 0,
    p2pPaidMillisen: 2_000_000, p2pReceivedMillisen: 0, feesMillisen: 200_000,
    utilityCostMillisen: 1_500_000, // 500 × 3000
    costMillisen: 3_700_000,
    baselineCostMillisen: 4_500_000, // 1500 × 3000
    savingsMillisen: 800_000,
  });
  t.same(home(result, 's'), {
    peerId: 's', reading: 'metered', status: 'settled',
    importedWh: 0, exportedWh: 1200, p2pBoughtWh: 0, p2pSoldWh: 1000, utilityImportWh: 0, utilityExportWh: 200,
    p2pPaidMillisen: 0, p2pReceivedMillisen: 2_000_000, feesMillisen: 100_000,
    utilityCostMillisen: -160_000, // −200 × 800
    costMillisen: -2_060_000, // −160 000 − 2 000 000 + 100 000
    baselineCostMillisen: -960_000, // −1200 × 800
    savingsMillisen: 1_100_000,
  });
  t.same(result.equivocations, []);
  t.equal(result.deadlineMs, DEADLINE);

  const record = settlementRecord(c, readings, result.contracts[0]!);
  t.same(record, {
    type: 'tonari/settlement', version: 1, contract: 'c1', slot: SLOT, zone: 'default', seller: 's', buyer: 'b',
    sellOrder: 'sell-s', buyOrder: 'buy-b', contractedWh: 1000,
    priceSenPerKWh: 2000, buyerPaysSenPerKWh: 2200, sellerGetsSenPerKWh: 1900,
    status: 'settled', disputed: false, final: true, sellerReading: 'metered', buyerReading: 'metered',
    deliveredWh: 1000, paymentMillisen: 2_000_000, buyerFeeMillisen: 200_000, sellerFeeMillisen: 100_000,
    sellerExportedWh: 1200, sellerImportedWh: 0, sellerReadingAt: END + 60_000,
    buyerExportedWh: 0, buyerImportedWh: 1500, buyerReadingAt: END + 60_000,
    sellerShareWh: 1000, buyerShareWh: 1000,
  });
  for (const v of Object.values(record)) t.ok(typeof v === 'string' || typeof v === 'boolean' || Number.isSafeInteger(v));
  t.doesNotThrow(() => canonicalJson(record));
  t.throws(() => settlementRecord({ ...c, id: 'c2' }, readings, result.contracts[0]!), SettlementError);
  t.throws(() => settlementRecord(c, [readings[0]!], result.contracts[0]!), SettlementError, 'buyer reading absent');
});

t.test('seller shortfall is shared pro rata among 3 buyers, largest remainder first', async (t) => {
  const cs = [
    contract({ id: 'c-a', seller: 's', buyer: 'b1', energyWh: 500 }),
    contract({ id: 'c-b', seller: 's', buyer: 'b2', energyWh: 300 }),
    contract({ id: 'c-c', seller: 's', buyer: 'b3', energyWh: 200 }),
  ];
  const readings = [reading('s', 701, 0), reading('b1', 0, 1000), reading('b2', 0, 1000), reading('b3', 0, 1000)];
  // 701 × 500/1000 = 350.5, × 300/1000 = 210.3, × 200/1000 = 140.2: floors 350 + 210 + 140 = 700,
  // the one Wh left goes to the largest remainder (c-a, .5).
  const result = settle(cs, readings);
  t.same(result.contracts.map((c) => [c.id, c.sellerShareWh, c.buyerShareWh, c.deliveredWh, c.status]), [
    ['c-a', 351, 500, 351, 'settled'],
    ['c-b', 210, 300, 210, 'settled'],
    ['c-c', 140, 200, 140, 'settled'],
  ]);
  t.equal(home(result, 's').p2pSoldWh, 701);
  t.equal(home(result, 's').utilityExportWh, 0);
  t.same([home(result, 'b1'), home(result, 'b2'), home(result, 'b3')].map((h) => [h.p2pBoughtWh, h.utilityImportWh]), [
    [351, 649],
    [210, 790],
    [140, 860],
  ]);
  // Where both meters measure the same flow, the same gap is a dispute when beyond tolerance:
  // c-a 149 > max(100, 50); c-b 90 <= 100; c-c 60 <= 100.
  const strict = settle(cs, readings, { disputeRule: 'any-gap' });
  t.same(strict.contracts.map((c) => [c.id, c.deliveredWh, c.status]), [
    ['c-a', 351, 'disputed'],
    ['c-b', 210, 'settled'],
    ['c-c', 140, 'settled'],
  ]);

  // Equal remainders: ties go to the lowest contract id.
  t.same([...proRataShares(1000, [{ id: 'z', energyWh: 1000 }, { id: 'a', energyWh: 1000 }, { id: 'm', energyWh: 1000 }])], [
    ['a', 334],
    ['m', 333],
    ['z', 333],
  ]);
  t.same([...proRataShares(5000, [{ id: 'x', energyWh: 10 }, { id: 'y', energyWh: 0 }])], [['x', 10], ['y', 0]]);
  t.same([...proRataShares(0, [{ id: 'x', energyWh: 10 }])], [['x', 0]]);
});

t.test('buyer under-import: small gaps settle at the buyer share, large ones are disputed at the min', async (t) => {
  const cs = [
    contract({ id: 'c1', seller: 's1', buyer: 'b', energyWh: 600 }),
    contract({ id: 'c2', seller: 's2', buyer: 'b', energyWh: 400 }),
  ];
  // b imported 950 of the 1000 Wh it bought: shares 570 and 380, gaps 30 and 20 within 100 Wh.
  const small = settle(cs, [reading('s1', 600, 0), reading('s2', 400, 0), reading('b', 0, 950)]);
  t.same(small.contracts.map((c) => [c.id, c.sellerShareWh, c.buyerShareWh, c.deliveredWh, c.status]), [
    ['c1', 600, 570, 570, 'settled'],
    ['c2', 400, 380, 380, 'settled'],
  ]);
  t.same([home(small, 'b').p2pBoughtWh, home(small, 'b').utilityImportWh], [950, 0]);
  t.same([home(small, 's1').p2pSoldWh, home(small, 's1').utilityExportWh], [570, 30]);
  t.same([home(small, 's2').p2pSoldWh, home(small, 's2').utilityExportWh], [380, 20]);

  // b imported 200: shares 120 and 80, gaps 480 and 320, beyond max(100, 10 %).
  const large = settle(cs, [reading('s1', 600, 0), reading('s2', 400, 0), reading('b', 0, 200)]);
  t.same(large.contracts.map((c) => [c.id, c.sellerShareWh, c.buyerShareWh, c.deliveredWh, c.status, c.paymentMillisen]), [
    ['c1', 600, 120, 120, 'disputed', 240_000],
    ['c2', 400, 80, 80, 'disputed', 160_000],
  ]);
  t.equal(home(large, 'b').status, 'disputed');
  t.same([home(large, 's1').utilityExportWh, home(large, 's2').utilityExportWh], [480, 320]);
});

t.test('missing reading: provisional until the timeout, then settled by the reported side', async (t) => {
  const c = contract({ id: 'c1', seller: 's', buyer: 'b', energyWh: 800 });
  const sOnly = [reading('s', 1000, 0)];

  const early = settle([c], sOnly, { nowMs: DEADLINE - 1 });
  t.match(byId(early, 'c1'), { status: 'provisional', sellerReading: 'metered', buyerReading: 'missing', sellerShareWh: 800, deliveredWh: 800 });
  t.notOk('buyerShareWh' in byId(early, 'c1'));
  t.notOk('buyerImportedWh' in byId(early, 'c1'));
  t.match(home(early, 'b'), { reading: 'missing', status: 'provisional', importedWh: 800, p2pBoughtWh: 800, utilityImportWh: 0 });
  t.match(home(early, 's'), { status: 'provisional', p2pSoldWh: 800, utilityExportWh: 200 });
  const earlyRecord = settlementRecord(c, sOnly, byId(early, 'c1'));
  t.match(earlyRecord, { status: 'provisional', final: false, buyerReading: 'missing' });
  t.notOk('buyerImportedWh' in earlyRecord);
  t.doesNotThrow(() => canonicalJson(earlyRecord));

  // The silent buyer bears it: it pays for what the seller's meter shows.
  const late = settle([c], sOnly, { nowMs: DEADLINE });
  t.match(byId(late, 'c1'), { status: 'settled-by-timeout', deliveredWh: 800, paymentMillisen: 1_600_000 });
  t.equal(home(late, 'b').status, 'settled');

  // A reading signed after the deadline is ignored, so the timeout result stands.
  const ignored = settle([c], [...sOnly, reading('b', 0, 100, DEADLINE + 1)], { nowMs: DEADLINE + 10 });
  t.same(canonicalJson(ignored.contracts), canonicalJson(late.contracts));
  // One signed on time (even if received later) counts.
  const onTime = settle([c], [...sOnly, reading('b', 0, 780, DEADLINE)], { nowMs: DEADLINE + 10 });
  t.match(byId(onTime, 'c1'), { status: 'settled', buyerShareWh: 780, deliveredWh: 780 });

  // A silent seller is paid only for what the buyer's meter shows.
  const bOnly = settle([c], [reading('b', 0, 500)], { nowMs: DEADLINE });
  t.match(byId(bOnly, 'c1'), { status: 'settled-by-timeout', sellerReading: 'missing', deliveredWh: 500 });
  t.match(home(bOnly, 's'), { reading: 'missing', exportedWh: 500, p2pSoldWh: 500, utilityExportWh: 0 });

  // Neither reported: nothing delivered.
  const none = settle([c], [], { nowMs: DEADLINE });
  t.match(byId(none, 'c1'), { status: 'settled-by-timeout', deliveredWh: 0, paymentMillisen: 0 });
  t.match(byId(settle([c], [], { nowMs: END }), 'c1'), { status: 'provisional', deliveredWh: 0 });
});

t.test('dispute: both figures kept, settled at the lower one', async (t) => {
  const c = contract({ id: 'c1', seller: 's', buyer: 'b', energyWh: 1000 });
  const readings = [reading('s', 1000, 0), reading('b', 0, 700)];
  const result = settle([c], readings);
  t.match(byId(result, 'c1'), { status: 'disputed', sellerShareWh: 1000, buyerShareWh: 700, deliveredWh: 700, paymentMillisen: 1_400_000 });
  const record = settlementRecord(c, readings, byId(result, 'c1'));
  t.match(record, { status: 'disputed', disputed: true, final: false, sellerShareWh: 1000, buyerShareWh: 700, deliveredWh: 700 });
  // Tolerances are parameters: a 30 % allowance accepts the same gap.
  t.equal(byId(settle([c], readings, { tolerancePct: 30 }), 'c1').status, 'settled');
  t.equal(byId(settle([c], readings, { toleranceWh: 300 }), 'c1').status, 'settled');
  t.equal(byId(settle([c], readings, { toleranceWh: 299, tolerancePct: 0 }), 'c1').status, 'disputed');
});

t.test('a seller lying about its meter: dispute flagged, nothing paid beyond delivered', async (t) => {
  const c = contract({ id: 'c1', seller: 'liar', buyer: 'b', energyWh: 1000, buyerFee: 300 });
  const readings = [reading('liar', 1000, 0), reading('b', 0, 0)];
  const result = settle([c], readings);
  t.match(byId(result, 'c1'), {
    status: 'disputed', sellerShareWh: 1000, buyerShareWh: 0, deliveredWh: 0,
    paymentMillisen: 0, buyerFeeMillisen: 0, sellerFeeMillisen: 0,
  });
  t.match(home(result, 'b'), { costMillisen: 0, p2pPaidMillisen: 0, feesMillisen: 0, status: 'disputed' });
  t.match(home(result, 'liar'), { p2pReceivedMillisen: 0, p2pSoldWh: 0, utilityExportWh: 1000 });

  // Equivocation: two signed readings for the slot void both; settled at once by the buyer's meter.
  const twoFaced = [reading('liar', 1000, 0), reading('liar', 400, 0, END + 5000), reading('b', 0, 600)];
  const eq = detectEquivocation(twoFaced);
  t.same(eq, [{ peerId: 'liar', slot: SLOT, a: reading('liar', 400, 0, END + 5000), b: reading('liar', 1000, 0) }]);
  const settled = settle([c], twoFaced);
  t.match(byId(settled, 'c1'), { status: 'disputed', sellerReading: 'equivocated', buyerReading: 'metered', deliveredWh: 600 });
  t.notOk('sellerShareWh' in byId(settled, 'c1'));
  t.same(settled.equivocations, eq);
  t.match(home(settled, 'liar'), { reading: 'equivocated', status: 'disputed', exportedWh: 600, utilityExportWh: 0 });
  t.doesNotThrow(() => canonicalJson(settlementRecord(c, twoFaced, byId(settled, 'c1'))));
  // Copies with the same figures (even signed again later) are not equivocation; the earliest counts.
  t.same(detectEquivocation([reading('s', 5, 5), reading('s', 5, 5, END + 9), reading('s', 5, 5)]), []);
  t.same(detectEquivocation([reading('s', 5, 5), { ...reading('s', 6, 5), slot: SLOT + 1_800_000 }]), []);
});

t.test('no duplicate contract, no over-commitment, malformed input refused', async (t) => {
  const c = contract({ id: 'c1', seller: 's', buyer: 'b', energyWh: 1000 });
  const readings = [reading('s', 3000, 0), reading('b', 0, 3000)];
  const once = settle([c], readings);
  const thrice = settle([c, { ...c }, { ...c }], readings);
  t.same(thrice, once, 'copies of one contract count once');
  t.equal(home(thrice, 'b').p2pBoughtWh, 1000);
  t.throws(() => settle([c, { ...c, energyWh: 999 }], readings), SettlementError, 'two contracts under one id');
  t.throws(() => settle([{ ...c, slot: SLOT + 1 }], readings), SettlementError);
  t.throws(() => settle([{ ...c, buyer: 's' }], readings), SettlementError);
  t.throws(() => settle([{ ...c, energyWh: 1.5 }], readings), SettlementError);
  t.throws(() => settle([{ ...c, sellerGetsSenPerKWh: 2100 }], readings), SettlementError);
  t.throws(() => settle([c], [reading('s', -1, 0)]), SettlementError);
  t.throws(() => settle([c], [reading('s', 1e12, 0)]), SettlementError);
  t.throws(() => settle([c], readings, { tariff: { retailSenPerKWh: 30.5, buybackSenPerKWh: 0 } }), SettlementError);
  // Two sellers over-claiming against one buyer are capped by the buyer's import.
  const two = settle(
    [c, contract({ id: 'c2', seller: 't', buyer: 'b', energyWh: 1000 })],
    [reading('s', 1000, 0), reading('t', 1000, 0), reading('b', 0, 1000)],
  );
  t.equal(home(two, 'b').p2pBoughtWh, 1000);
  t.equal(home(two, 'b').utilityImportWh, 0);
  // Per-household tariffs.
  const own = settle([], [reading('x', 0, 1000)], { tariffs: new Map([['x', { retailSenPerKWh: 2500, buybackSenPerKWh: 0 }]]) });
  t.match(home(own, 'x'), { costMillisen: 2_500_000, baselineCostMillisen: 2_500_000, savingsMillisen: 0, status: 'settled' });
});

// ---------------------------------------------------------------- properties

const PEERS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];

interface World {
  contracts: Contract[];
  readings: MeterReading[];
  nowMs: number;
  tariffs: [string, Tariff][];
  toleranceWh: number;
  tolerancePct: number;
  disputeRule: 'seller-excess' | 'any-gap';
}

const arbTariff = fc.record({ retailSenPerKWh: fc.integer({ min: 0, max: 6000 }), buybackSenPerKWh: fc.integer({ min: 0, max: 3000 }) });

const arbWorld: fc.Arbitrary<World> = fc
  .record({
    pairs: fc.array(
      fc.record({
        seller: fc.constantFrom(...PEERS),
        buyer: fc.constantFrom(...PEERS),
        energyWh: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2000 })),
        price: fc.integer({ min: 0, max: 5000 }),
        buyerFee: fc.integer({ min: 0, max: 1000 }),
        sellerFee: fc.integer({ min: 0, max: 1000 }),
      }),
      { maxLength: 10 },
    ),
    // Per peer: no reading, one, or a second one (a copy or an equivocation), some late or of another slot.
    meters: fc.tuple(
      ...PEERS.map(() =>
        fc.array(
          fc.record({
            exportedWh: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4000 })),
            importedWh: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4000 })),
            at: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(END, END + 60_000, DEADLINE) }, { weight: 1, arbitrary: fc.constant(DEADLINE + 1) }),
            otherSlot: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
            copy: fc.oneof({ weight: 1, arbitrary: fc.constant(false) }, { weight: 2, arbitrary: fc.constant(true) }),
          }),
          { minLength: 0, maxLength: 2 },
        ),
      ),
    ),
    nowMs: fc.constantFrom(END, DEADLINE - 1, DEADLINE, DEADLINE + 3_600_000),
    tariffs: fc.array(fc.tuple(fc.constantFrom(...PEERS), arbTariff), { maxLength: 3 }),
    toleranceWh: fc.integer({ min: 0, max: 300 }),
    tolerancePct: fc.integer({ min: 0, max: 20 }),
    disputeRule: fc.constantFrom<'seller-excess' | 'any-gap'>('seller-excess', 'any-gap'),
  })
  .map(({ pairs, meters, nowMs, tariffs, toleranceWh, tolerancePct, disputeRule }) => ({
    contracts: pairs
      .filter((p) => p.seller !== p.buyer)
      .map((p, i) => contract({ id: `c${String(i).padStart(2, '0')}`, ...p, sellerFee: Math.min(p.sellerFee, p.price) })),
    readings: meters.flatMap((list, i) =>
      list.map((m, j) => {
        const first = list[0]!;
        const figures = j > 0 && m.copy ? first : m; // a copy repeats the figures, signed at its own instant
        return { peerId: PEERS[i]!, slot: m.otherSlot ? SLOT + 1_800_000 : SLOT, exportedWh: figures.exportedWh, importedWh: figures.importedWh, at: m.at };
      }),
    ),
    nowMs,
    tariffs: [...new Map(tariffs)],
    toleranceWh,
    tolerancePct,
    disputeRule,
  }));

function run(w: World, contracts = w.contracts, readings = w.readings): SlotSettlement {
  return settleSlot({
    slot: SLOT, slotMinutes: 30, contracts, readings, nowMs: w.nowMs, tariff: TARIFF, tariffs: new Map(w.tariffs),
    toleranceWh: w.toleranceWh, tolerancePct: w.tolerancePct, disputeRule: w.disputeRule,
  });
}

function allIntegers(value: unknown): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value);
  if (Array.isArray(value)) return value.every(allIntegers);
  if (typeof value === 'object' && value !== null) return Object.values(value).every(allIntegers);
  return true;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

t.test('property: settlement conserves energy and money', async (t) => {
  fc.assert(
    fc.property(arbWorld, (w) => {
      const r = run(w);
      const metered = new Map<string, MeterReading>();
      for (const x of r.households) {
        // Conservation per household, every household.
        if (x.p2pBoughtWh + x.utilityImportWh !== x.importedWh) return false;
        if (x.p2pSoldWh + x.utilityExportWh !== x.exportedWh) return false;
        if (x.utilityImportWh < 0 || x.utilityExportWh < 0) return false;
        if (x.reading !== 'metered' && (x.utilityImportWh !== 0 || x.utilityExportWh !== 0)) return false;
        const tariff = new Map(w.tariffs).get(x.peerId) ?? TARIFF;
        if (x.utilityCostMillisen !== x.utilityImportWh * tariff.retailSenPerKWh - x.utilityExportWh * tariff.buybackSenPerKWh) return false;
        if (x.baselineCostMillisen !== x.importedWh * tariff.retailSenPerKWh - x.exportedWh * tariff.buybackSenPerKWh) return false;
        if (x.costMillisen !== x.utilityCostMillisen + x.p2pPaidMillisen - x.p2pReceivedMillisen + x.feesMillisen) return false;
        if (x.savingsMillisen !== x.baselineCostMillisen - x.costMillisen) return false;
        if (x.reading === 'metered') metered.set(x.peerId, { peerId: x.peerId, slot: SLOT, exportedWh: x.exportedWh, importedWh: x.importedWh, at: 0 });
      }
      // Delivered energy: counted once on each side, within contract and both shares.
      const delivered = sum(r.contracts.map((c) => c.deliveredWh));
      if (sum(r.households.map((x) => x.p2pBoughtWh)) !== delivered) return false;
      if (sum(r.households.map((x) => x.p2pSoldWh)) !== delivered) return false;
      for (const c of r.contracts) {
        if (c.deliveredWh < 0 || c.deliveredWh > c.contractedWh) return false;
        if (c.sellerShareWh !== undefined && (c.deliveredWh > c.sellerShareWh || c.sellerShareWh > c.contractedWh)) return false;
        if (c.buyerShareWh !== undefined && (c.deliveredWh > c.buyerShareWh || c.buyerShareWh > c.contractedWh)) return false;
        if (c.sellerShareWh !== undefined && c.buyerShareWh !== undefined && c.deliveredWh !== Math.min(c.sellerShareWh, c.buyerShareWh)) return false;
        if ((c.sellerReading === 'metered') !== (c.sellerShareWh !== undefined)) return false;
        if ((c.buyerReading === 'metered') !== (c.buyerShareWh !== undefined)) return false;
        if (c.paymentMillisen !== c.deliveredWh * c.priceSenPerKWh) return false;
        if (c.status === 'provisional' && w.nowMs >= r.deadlineMs) return false;
        if (c.status === 'settled-by-timeout' && w.nowMs < r.deadlineMs) return false;
      }
      // No over-commitment: a metered seller never delivers more than it exported in all, a buyer than it imported.
      for (const [peerId, m] of metered) {
        if (sum(r.contracts.filter((c) => c.seller === peerId).map((c) => c.deliveredWh)) > m.exportedWh) return false;
        if (sum(r.contracts.filter((c) => c.buyer === peerId).map((c) => c.deliveredWh)) > m.importedWh) return false;
      }
      // Money balances: what buyers pay in p2p is what sellers receive.
      const paid = sum(r.households.map((x) => x.p2pPaidMillisen));
      if (paid !== sum(r.households.map((x) => x.p2pReceivedMillisen))) return false;
      if (paid !== sum(r.contracts.map((c) => c.paymentMillisen))) return false;
      const fees = sum(r.contracts.map((c) => c.buyerFeeMillisen + c.sellerFeeMillisen));
      if (sum(r.households.map((x) => x.feesMillisen)) !== fees) return false;
      if (sum(r.households.map((x) => x.costMillisen)) !== sum(r.households.map((x) => x.utilityCostMillisen)) + fees) return false;
      return allIntegers(r);
    }),
    RUNS,
  );
});

t.test('property: same input in any order, with copies, gives the same bytes; records are canonical', async (t) => {
  fc.assert(
    fc.property(
      arbWorld.chain((w) =>
        fc.tuple(
          fc.constant(w),
          fc.shuffledSubarray([...w.contracts, ...w.contracts.slice(0, 2)], { minLength: w.contracts.length + Math.min(2, w.contracts.length), maxLength: w.contracts.length + Math.min(2, w.contracts.length) }),
          fc.shuffledSubarray([...w.readings, ...w.readings.slice(0, 2).map((x) => ({ ...x }))], { minLength: w.readings.length + Math.min(2, w.readings.length), maxLength: w.readings.length + Math.min(2, w.readings.length) }),
        ),
      ),
      ([w, contracts, readings]) => {
        const a = run(w);
        const b = run(w, contracts, readings);
        if (canonicalJson(a) !== canonicalJson(b)) return false;
        const ids = a.contracts.map((c) => c.id);
        if (ids.join() !== [...ids].sort().join()) return false;
        const peers = a.households.map((x) => x.peerId);
        if (peers.join() !== [...peers].sort().join()) return false;
        for (const c of a.contracts) {
          const contractOf = w.contracts.find((x) => x.id === c.id)!;
          const r1 = settlementRecord(contractOf, w.readings, c);
          const r2 = settlementRecord(contractOf, readings, byId(b, c.id));
          if (canonicalJson(r1) !== canonicalJson(r2)) return false;
          if (!Object.values(r1).every((v) => typeof v === 'string' || typeof v === 'boolean' || Number.isSafeInteger(v))) return false;
        }
        return true;
      },
    ),
    RUNS,
  );
});

t.test('property: pro-rata shares sum to min(available, contracted), capped, within one Wh of exact', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 10_000 }),
      fc.uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 4 }), energyWh: fc.integer({ min: 0, max: 3000 }) }), { selector: (x) => x.id, maxLength: 8 }),
      (available, items) => {
        const shares = proRataShares(available, items);
        const total = sum(items.map((i) => i.energyWh));
        if (sum([...shares.values()]) !== Math.min(available, total)) return false;
        for (const i of items) {
          const s = shares.get(i.id)!;
          if (!Number.isSafeInteger(s) || s < 0 || s > i.energyWh) return false;
          if (available < total) {
            const exact = Math.floor((available * i.energyWh) / total);
            if (s !== exact && s !== exact + 1) return false;
          }
        }
        const reversed = proRataShares(available, [...items].reverse());
        return [...shares].join() === [...reversed].join();
      },
    ),
    RUNS,
  );
});

t.test('property: a lying meter earns nothing beyond what the other meter supports', async (t) => {
  // Whatever a seller claims to have exported, each of its metered buyers pays for at most
  // that buyer's own import share, the same as without the lie.
  fc.assert(
    fc.property(arbWorld, fc.integer({ min: 0, max: 1_000_000 }), (w, claim) => {
      const liar = w.contracts[0]?.seller;
      if (liar === undefined) return true;
      const honest = run(w);
      const lied = w.readings.filter((x) => x.peerId !== liar).concat([{ peerId: liar, slot: SLOT, exportedWh: claim, importedWh: 0, at: END }]);
      const r = run(w, w.contracts, lied);
      for (const c of r.contracts) {
        if (c.seller !== liar || c.buyerReading !== 'metered') continue;
        const before = byId(honest, c.id);
        if (before.buyerShareWh !== c.buyerShareWh) return false;
        if (c.deliveredWh > c.buyerShareWh!) return false;
        if (c.paymentMillisen > c.buyerShareWh! * c.priceSenPerKWh) return false;
        // A claim above the buyer's share by more than the tolerance is flagged.
        const gap = c.sellerShareWh! - c.buyerShareWh!;
        if (gap > w.toleranceWh && gap * 100 > w.tolerancePct * c.contractedWh && c.status !== 'disputed') return false;
      }
      return true;
    }),
    RUNS,
  );
});
