/** `tonari ledger verify` and `tonari ledger export --csv`, run as the built CLI. */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { KEY_FILE } from '../../agent/identity/key-store.js';
import { LEDGER_FILE } from '../../agent/ledger/ledger.js';
import { bin, ensureBuilt, openLedger, root, sampleContract, SLOT0, testSigner, writeContracts } from './helpers.js';

const exec = promisify(execFile);
const alice = testSigner(1);
const bob = testSigner(2);

async function tonari(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, NODE_OPTIONS: '', STATE_DIRECTORY: '' }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A state directory with alice's key and a ledger of three contracts alice sold to bob. */
async function stateDir(t: Test): Promise<{ dir: string; file: string }> {
  const dir = t.testdir({ [KEY_FILE]: alice.pem });
  const file = join(dir, LEDGER_FILE);
  await writeContracts(file, alice, bob, 3);
  return { dir, file };
}

t.before(ensureBuilt);

t.test('verify: an intact ledger exits 0', async (t) => {
  const { dir, file } = await stateDir(t);
  const run = await tonari(['ledger', 'verify', '--state-dir', dir]);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, new RegExp(`^${file}: 3 records, \\d+ bytes, signed by ${alice.peerId}: OK\\n$`));
  t.equal(run.stderr, '');

  const json = await tonari(['ledger', 'verify', '--state-dir', dir, '--json']);
  t.equal(json.code, 0);
  t.match(JSON.parse(json.stdout), { file, ok: true, damaged: false, records: 3, lines: 3, signer: alice.peerId, signerPinned: true, tornTail: null, faults: [] });
});

t.test('verify: a changed byte exits 1 and names file:line', async (t) => {
  const { dir, file } = await stateDir(t);
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace('"energyWh":502', '"energyWh":602'));
  const run = await tonari(['ledger', 'verify', '--state-dir', dir]);
  t.equal(run.code, 1);
  const out = run.stdout.split('\n');
  t.match(out[0], `${file}:2: signature: signature of ${alice.peerId} does not verify`);
  t.ok(out.some((l) => l.startsWith(`${file}:3: chain: prev does not match the SHA-256 of line 2`)));
  t.match(run.stdout, /: 3 lines, \d+ bytes, signed by t[a-z2-7]+: DAMAGED, 4 faults, the first on line 2; 1 record intact before it\n$/);
  const json = await tonari(['ledger', 'verify', '--state-dir', dir, '--json']);
  t.equal(json.code, 1);
  t.match(JSON.parse(json.stdout), { ok: false, damaged: true, records: 1, faults: [{ line: 2, kind: 'signature' }] });
});

t.test('verify: a torn tail exits 2 and is left for the agent to cut', async (t) => {
  const { dir, file } = await stateDir(t);
  const size = (await readFile(file)).length;
  await truncate(file, size - 40);
  const run = await tonari(['ledger', 'verify', '--state-dir', dir]);
  t.equal(run.code, 2);
  t.match(run.stdout, `${file}:3: torn-tail: the last line has no newline`);
  t.match(run.stdout, /: 2 records, \d+ bytes, signed by t[a-z2-7]+: torn tail of \d+ bytes on line 3 \(the agent cuts it off when it next starts\)\n$/);
  t.equal((await readFile(file)).length, size - 40, 'verify changes nothing');
  // The agent's next start cuts it off; then verify is clean.
  const ledger = await openLedger(file, alice);
  t.ok(ledger.healthy);
  await ledger.close();
  t.equal((await tonari(['ledger', 'verify', '--state-dir', dir])).code, 0);
});

t.test('verify: records signed by another key than the state directory\'s identity', async (t) => {
  const dir = t.testdir({ [KEY_FILE]: bob.pem });
  await writeContracts(join(dir, LEDGER_FILE), alice, bob, 2);
  const run = await tonari(['ledger', 'verify', '--state-dir', dir]);
  t.equal(run.code, 1);
  t.match(run.stdout, `:1: signer: written by ${alice.peerId}, but this is the ledger of ${bob.peerId}`);
  // Without the key (e.g. a copy elsewhere) only consistency is checked.
  const copy = join(dir, 'copy.jsonl');
  await copyFile(join(dir, LEDGER_FILE), copy);
  const byFile = await tonari(['ledger', 'verify', '--file', copy]);
  t.equal(byFile.code, 0, byFile.stdout);
  const noKey = join(dir, 'elsewhere');
  await mkdir(noKey);
  await copyFile(copy, join(noKey, LEDGER_FILE));
  const unpinned = await tonari(['ledger', 'verify', '--state-dir', noKey, '--json']);
  t.equal(unpinned.code, 0);
  t.match(unpinned.stderr, /cannot read the identity key .* \(there is none\); checking only that every record has the signer of the first/);
  t.match(JSON.parse(unpinned.stdout), { signerPinned: false, signer: alice.peerId });
});

t.test('verify: a forged counterpart signature is a fault', async (t) => {
  const dir = t.testdir({ [KEY_FILE]: alice.pem });
  const file = join(dir, LEDGER_FILE);
  const ledger = await openLedger(file, alice);
  const body = sampleContract(1, alice, bob);
  await ledger.append('contract', 'contract:1', body);
  await ledger.close();
  // Rewrite the record as a key holder could (alice re-signs it), with bob's signature swapped for alice's.
  const { encodeRecord, signRecord, GENESIS_PREV } = await import('../../agent/ledger/record.js');
  const bobIndex = body.signatures.findIndex((s) => s.peerId === bob.peerId);
  const aliceSig = body.signatures[1 - bobIndex]!.sig;
  const forged = { ...body, signatures: body.signatures.map((s) => (s.peerId === bob.peerId ? { ...s, sig: aliceSig } : s)) };
  const record = signRecord({ v: 1, seq: 1, prev: GENESIS_PREV, at: 0, kind: 'contract', key: 'contract:1', body: forged, signer: alice.peerId, pub: alice.rawPublicKey.toString('base64url') }, alice.privateKey);
  await writeFile(file, Buffer.concat([encodeRecord(record), Buffer.from('\n')]));
  const run = await tonari(['ledger', 'verify', '--state-dir', dir]);
  t.equal(run.code, 1);
  t.match(run.stdout, `${file}:1: contract: fill signature of ${bob.peerId} does not verify`);
});

t.test('verify: no ledger, usage', async (t) => {
  const dir = t.testdir();
  const missing = await tonari(['ledger', 'verify', '--state-dir', dir]);
  t.equal(missing.code, 66);
  t.match(missing.stderr, `no ledger at ${join(dir, LEDGER_FILE)}`);
  for (const args of [['ledger'], ['ledger', 'audit'], ['ledger', 'verify', 'extra'], ['ledger', 'verify', '--bogus'], ['ledger', 'verify', '--file', 'x', '--state-dir', dir], ['ledger', 'export', '--json'], ['ledger', 'verify', '--csv']]) {
    const run = await tonari(args);
    t.equal(run.code, 64, args.join(' '));
    t.match(run.stderr, /usage: tonari ledger verify/);
  }
  const help = await tonari(['ledger', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Exit status: 0 intact; 1 damaged; 2 only a torn tail/);
  t.match((await tonari(['--help'])).stdout, /\n {2}ledger {4}verify the signed hash chain/);
});

t.test('export --csv: one row per record', async (t) => {
  const { dir } = await stateDir(t);
  const run = await tonari(['ledger', 'export', '--csv', '--state-dir', dir]);
  t.equal(run.code, 0, run.stderr);
  const rows = run.stdout.split('\n');
  t.equal(rows.length, 5);
  t.equal(rows[0], 'seq,time,kind,key,counterparty,slot,energyWh,priceSenPerKWh,amountYen');
  t.equal(rows[1], `1,2026-06-21T00:00:00.000Z,contract,contract:1,${bob.peerId},${new Date(SLOT0 + 1_800_000).toISOString()},501,1800,9.018`);
  t.match(rows[3], /^3,2026-06-21T00:00:02\.000Z,contract,contract:3,/);
  t.equal(run.stderr, '');
  t.equal((await tonari(['ledger', 'export', '--state-dir', dir])).stdout, run.stdout, 'CSV is the default');
});

t.test('export of a damaged ledger: every readable record, faults on stderr, exit 1', async (t) => {
  const { dir, file } = await stateDir(t);
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace('"energyWh":502', '"energyWh":602'));
  const run = await tonari(['ledger', 'export', '--csv', '--state-dir', dir]);
  t.equal(run.code, 1);
  t.equal(run.stdout.split('\n').length, 5, 'all three records exported');
  t.match(run.stdout, /,contract:2,.*,602,1800,/);
  t.match(run.stderr, `${file}:2: signature:`);
  t.match(run.stderr, /every record that could be read was exported/);
});
