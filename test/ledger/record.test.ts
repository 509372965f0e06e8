import t from 'tap';
import { canonicalJson } from '../../agent/mesh/canonical.js';
import {
  contractBody,
  contractProblems,
  fillSignatureProblem,
  signFill,
  verifyFillSignature,
} from '../../agent/ledger/fill-signature.js';
import {
  encodeRecord,
  GENESIS_PREV,
  keyProblem,
  LedgerRecordError,
  lineHash,
  parseRecordLine,
  recordSignatureProblem,
  recordSigningBytes,
  RECORD_SIGNING_PREFIX,
  signRecord,
  type LedgerRecord,
  type UnsignedRecord,
} from '../../agent/ledger/record.js';
import { sampleFill, testSigner } from './helpers.js';

const alice = testSigner(1);
const bob = testSigner(2);
const mallory = testSigner(3);

function unsigned(overrides: Partial<UnsignedRecord> = {}): UnsignedRecord {
  return {
    v: 1,
    seq: 1,
    prev: GENESIS_PREV,
    at: 1_780_000_000_000,
    kind: 'note',
    key: 'note:1',
    body: { text: 'hello', n: 1 },
    signer: alice.peerId,
    pub: alice.rawPublicKey.toString('base64url'),
    ...overrides,
  };
}

t.test('a record is one canonical line that parses back to itself and verifies', async (t) => {
  const record = signRecord(unsigned(), alice.privateKey);
  const line = encodeRecord(record);
  t.equal(line.toString(), canonicalJson(record));
  t.notOk(line.includes(10), 'no newline inside a line');
  const parsed = parseRecordLine(line);
  t.ok(parsed.ok);
  if (parsed.ok) t.same(parsed.record, record);
  t.equal(recordSignatureProblem(record), undefined);
  t.equal(lineHash(line), lineHash(Buffer.from(line)));
  t.match(lineHash(line), /^[0-9a-f]{64}$/);
  t.ok(recordSigningBytes(record).subarray(0, RECORD_SIGNING_PREFIX.length).equals(Buffer.from(RECORD_SIGNING_PREFIX)), 'domain-separated');
});

t.test('signatures: any change to a signed field, or another key, fails', async (t) => {
  const record = signRecord(unsigned(), alice.privateKey);
  const changes: Partial<LedgerRecord>[] = [
    { seq: 2 }, { prev: '1'.repeat(64) }, { at: record.at + 1 }, { kind: 'dispute' }, { key: 'note:2' }, { body: { text: 'hellO', n: 1 } },
  ];
  for (const change of changes) t.match(recordSignatureProblem({ ...record, ...change }), /does not verify/, JSON.stringify(change));
  // Mallory signs with her key but claims to be alice.
  const forged = signRecord(unsigned(), mallory.privateKey);
  t.match(recordSignatureProblem(forged), /does not verify/);
  const ownKey = signRecord(unsigned({ pub: mallory.rawPublicKey.toString('base64url') }), mallory.privateKey);
  t.match(recordSignatureProblem(ownKey), /pub is not the key of signer/);
});

t.test('parseRecordLine refuses what is not exactly a canonical record', async (t) => {
  const record = signRecord(unsigned(), alice.privateKey);
  const line = encodeRecord(record).toString();
  const bad: [string, RegExp][] = [
    ['', /not JSON/],
    ['{"v":1', /not JSON/],
    ['[]', /not a JSON object/],
    [line.replace('"v":1', '"v":2'), /format version/],
    [line.replace('{', '{"extra":1,'), /fields must be exactly/],
    [line.replace('"seq":1', '"seq":0'), /seq/],
    [line.replace('"seq":1', '"seq":1.5'), /seq/],
    [line.replace('"kind":"note"', '"kind":"gift"'), /unknown kind/],
    [line.replace('"key":"note:1"', '"key":""'), /key must have/],
    [line.replace('"key":"note:1"', '"key":"a\\nb"'), /printable/],
    [line.replace(`"prev":"${GENESIS_PREV}"`, '"prev":"00"'), /prev/],
    [line.replace(`"signer":"${alice.peerId}"`, '"signer":"bob"'), /signer/],
    [line.replace('"sig":"', '"sig":"x'), /sig/],
    [line.replace('{"at"', '{ "at"'), /canonical form/],
    [line.replace('"text":"hello"', '"text":"hell\\u006f"'), /canonical form/],
  ];
  for (const [text, problem] of bad) {
    const parsed = parseRecordLine(Buffer.from(text));
    t.notOk(parsed.ok, text.slice(0, 60));
    if (!parsed.ok) t.match(parsed.problem, problem, text.slice(0, 60));
  }
  const notJson = parseRecordLine(Buffer.from('\0\0\0'));
  t.same(notJson, { ok: false, json: false, problem: 'not JSON' });
  // Invalid UTF-8 decodes to U+FFFD, which re-encodes to other bytes: not canonical.
  const bytes = Buffer.from(line.replace('hello', 'hellé'));
  const at = bytes.indexOf(0xc3);
  bytes[at] = 0xff;
  t.notOk(parseRecordLine(bytes).ok);
});

t.test('keys', async (t) => {
  t.equal(keyProblem('contract:abc'), undefined);
  t.ok(keyProblem(''));
  t.ok(keyProblem(' x'));
  t.ok(keyProblem('x'.repeat(257)));
  t.ok(keyProblem('tab\there'));
  t.ok(keyProblem('ümlaut'));
  t.ok(keyProblem(3));
});

t.test('fill signatures: sign, verify, and every way to forge one', async (t) => {
  const fill = sampleFill(1, alice.peerId, bob.peerId);
  const sig = signFill(fill, bob);
  t.same(Object.keys(sig).sort(), ['peerId', 'publicKey', 'sig']);
  t.ok(verifyFillSignature(fill, sig));
  t.equal(fillSignatureProblem({ ...fill }, sig), undefined, 'key order does not matter (canonical JSON)');
  t.notOk(verifyFillSignature({ ...fill, energyWh: fill.energyWh + 1 }, sig), 'changed fill');
  t.match(fillSignatureProblem(fill, { ...sig, publicKey: mallory.rawPublicKey.toString('base64url') }), /not the key of/);
  const mallorySig = signFill(fill, mallory);
  t.match(fillSignatureProblem(fill, { ...mallorySig, peerId: bob.peerId }), /not the key of/, 'mallory claims to be bob');
  t.match(fillSignatureProblem(fill, { ...sig, sig: mallorySig.sig }), /does not verify/, 'bob\'s key, mallory\'s signature');
  t.match(fillSignatureProblem(fill, { ...sig, sig: 'AAAA' }), /64-byte/);
  t.match(fillSignatureProblem(fill, { ...sig, extra: 1 }), /fields must be exactly/);
  t.match(fillSignatureProblem(fill, null), /not an object/);
  // A record signature is not a fill signature (domain separation), even over the same bytes.
  t.notOk(verifyFillSignature(fill, { ...sig, sig: signRecord(unsigned({ body: fill as unknown as Record<string, unknown> }), bob.privateKey).sig }));
});

t.test('contracts need exactly the two parties\' valid signatures', async (t) => {
  const fill = sampleFill(2, alice.peerId, bob.peerId);
  const a = signFill(fill, alice);
  const b = signFill(fill, bob);
  const body = contractBody(fill, [a, b], alice.peerId);
  t.same(body.signatures.map((s) => s.peerId), [alice.peerId, bob.peerId].sort(), 'sorted by peer id');
  t.same(contractBody(fill, [b, a]), body, 'same body whatever the order');
  t.same(contractProblems(body, alice.peerId), []);
  t.same(contractProblems(body, bob.peerId), []);
  t.match(contractProblems(body, mallory.peerId), [/neither the seller nor the buyer/]);
  t.same(contractProblems({ fill, signatures: [a] }), [`no signature by the buyer ${bob.peerId}`]);
  t.match(contractProblems({ fill, signatures: [a, a] }), [/two signatures/, /no signature by the buyer/]);
  t.match(contractProblems({ fill, signatures: [a, b, signFill(fill, mallory)] }), [/not a party/]);
  t.same(contractProblems({ fill, signatures: [a, { ...b, sig: a.sig }] }), [`fill signature of ${bob.peerId} does not verify`]);
  t.same(contractProblems({ fill, signatures: [] }), [`no signature by the seller ${alice.peerId}`, `no signature by the buyer ${bob.peerId}`]);
  t.match(contractProblems({ fill: { ...fill, buyer: alice.peerId }, signatures: [a, b] }), [/same peer/]);
  t.match(contractProblems({ fill: { ...fill, seller: 'x' }, signatures: [a, b] }), [/seller is not a peer id/]);
  t.match(contractProblems({ fill, signatures: 'both' }), [/not an array/]);
  t.match(contractProblems('contract'), [/not a JSON object/]);
  t.throws(() => contractBody(fill, [a]), LedgerRecordError);
});
