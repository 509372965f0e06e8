import t from 'tap';
import { csvField, exportRow, formatYen, ledgerCsv } from '../../agent/ledger/export.js';
import { GENESIS_PREV, signRecord, type JsonObject, type LedgerKind, type LedgerRecord } from '../../agent/ledger/record.js';
import { sampleContract, SLOT0, testSigner } from './helpers.js';

const alice = testSigner(1);
const bob = testSigner(2);

function record(signer: typeof alice, kind: LedgerKind, key: string, body: JsonObject, seq = 1): LedgerRecord {
  return signRecord({ v: 1, seq, prev: GENESIS_PREV, at: Date.UTC(2026, 5, 21, 9, 30, 15, 250), kind, key, body, signer: signer.peerId, pub: signer.rawPublicKey.toString('base64url') }, signer.privateKey);
}

t.test('yen from millisen, exact', async (t) => {
  t.equal(formatYen(0n), '0.00');
  t.equal(formatYen(2_700_000n), '27.00');
  t.equal(formatYen(925_000n), '9.25');
  t.equal(formatYen(-1_234_567n), '-12.34567');
  t.equal(formatYen(1n), '0.00001');
  t.equal(formatYen(9_007_199_254_740_993n), '90071992547.40993');
});

t.test('a contract from either side: counterparty, price received or paid, signed amount', async (t) => {
  const body = sampleContract(3, alice, bob); // alice sells 503 Wh to bob
  const seller = exportRow(record(alice, 'contract', 'contract:3', body));
  t.same(seller, {
    seq: 1,
    time: '2026-06-21T09:30:15.250Z',
    kind: 'contract',
    key: 'contract:3',
    counterparty: bob.peerId,
    slot: new Date(SLOT0 + 3 * 1_800_000).toISOString(),
    energyWh: '503',
    priceSenPerKWh: '1800',
    amountYen: '9.054', // 503 Wh × 1800 sen/kWh = 905 400 millisen
  });
  const buyer = exportRow(record(bob, 'contract', 'contract:3', body));
  t.equal(buyer.counterparty, alice.peerId);
  t.equal(buyer.priceSenPerKWh, '1850');
  t.equal(buyer.amountYen, '-9.3055');
});

t.test('orders, settlements and bodies without numbers', async (t) => {
  const order = exportRow(record(alice, 'order', 'order:1', { order: { slot: SLOT0, energyWh: 1200, limitSenPerKWh: 1500, owner: alice.peerId } }));
  t.match(order, { counterparty: '', slot: new Date(SLOT0).toISOString(), energyWh: '1200', priceSenPerKWh: '1500', amountYen: '' });
  const settlement = exportRow(record(alice, 'settlement', 'settlement:1', { counterparty: bob.peerId, slot: SLOT0, energyWh: 480, priceSenPerKWh: 1800, amountMillisen: 864_000 }));
  t.match(settlement, { counterparty: bob.peerId, energyWh: '480', priceSenPerKWh: '1800', amountYen: '8.64' });
  const note = exportRow(record(alice, 'note', 'note:1', { energyWh: 1.5, slot: 'soon', counterparty: 7 }));
  t.match(note, { counterparty: '', slot: '', energyWh: '', priceSenPerKWh: '', amountYen: '' });
});

t.test('CSV: header, quoting, no formulas', async (t) => {
  t.equal(csvField('plain'), 'plain');
  t.equal(csvField('a,b'), '"a,b"');
  t.equal(csvField('say "hi"'), '"say ""hi"""');
  t.equal(csvField('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"');
  t.equal(csvField('@cmd'), "'@cmd");
  t.equal(csvField('-12.5'), '-12.5');
  t.equal(csvField(42), '42');
  const csv = ledgerCsv([record(alice, 'note', 'note:a,b', {}, 1), record(alice, 'contract', 'contract:1', sampleContract(1, alice, bob), 2)]);
  const rows = csv.split('\n');
  t.equal(rows[0], 'seq,time,kind,key,counterparty,slot,energyWh,priceSenPerKWh,amountYen');
  t.equal(rows[1], '1,2026-06-21T09:30:15.250Z,note,"note:a,b",,,,,');
  t.match(rows[2], new RegExp(`^2,2026-06-21T09:30:15.250Z,contract,contract:1,${bob.peerId},2026-06-21T03:30:00.000Z,501,1800,9.018$`));
  t.equal(rows[3], '');
  t.equal(rows.length, 4);
});
