import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import t from 'tap';
import { ManualClock } from '../../agent/core/clock.js';
import { contractBody, signFill } from '../../agent/ledger/fill-signature.js';
import { LEDGER_FILE, LedgerConflictError, LedgerDamagedError, realLedgerIo, verifyLedgerFile, type LedgerIo } from '../../agent/ledger/ledger.js';
import { encodeRecord, GENESIS_PREV, LedgerRecordError, lineHash, signRecord } from '../../agent/ledger/record.js';
import { verifyLedgerBytes } from '../../agent/ledger/verify.js';
import { capturedLogger } from '../identity/helpers.js';
import { openLedger, sampleContract, sampleFill, testSigner, writeContracts } from './helpers.js';

const alice = testSigner(1);
const bob = testSigner(2);
const mallory = testSigner(3);

function lines(text: string): string[] {
  return text.split('\n').slice(0, -1);
}

t.test('a new ledger: created 0600, records chained by seq and hash, signed, durable across reopen', async (t) => {
  const file = join(t.testdir(), LEDGER_FILE);
  const clock = new ManualClock();
  const ledger = await openLedger(file, alice, { clock });
  t.ok(ledger.healthy);
  t.equal(ledger.size, 0);
  t.equal(ledger.headHash, GENESIS_PREV);
  t.equal((await stat(file)).mode & 0o777, 0o600);

  const first = await ledger.append('order', 'order:1', { order: { slot: 1, energyWh: 100, limitSenPerKWh: 1500 } });
  await clock.advance(5);
  const second = await ledger.append('contract', 'contract:1', sampleContract(1, alice, bob));
  t.equal(first.seq, 1);
  t.equal(first.prev, GENESIS_PREV);
  t.equal(first.at, new ManualClock().now());
  t.equal(second.seq, 2);
  t.equal(second.prev, lineHash(encodeRecord(first)));
  t.equal(second.signer, alice.peerId);
  t.equal(ledger.headHash, lineHash(encodeRecord(second)));

  const text = await readFile(file, 'utf8');
  t.same(lines(text), [encodeRecord(first).toString(), encodeRecord(second).toString()], 'one canonical line per record');
  t.same(await ledger.get('contract:1'), second);
  t.equal(await ledger.get('nope'), undefined);
  await ledger.close();
  await t.rejects(ledger.append('note', 'note:1', {}), LedgerDamagedError, 'closed');

  const again = await openLedger(file, alice, { clock });
  t.ok(again.healthy);
  t.equal(again.size, 2);
  t.ok(again.has('order:1'));
  const third = await again.append('note', 'note:1', { text: 'after restart' });
  t.equal(third.seq, 3);
  t.equal(third.prev, lineHash(encodeRecord(second)));
  await again.close();
  const report = await verifyLedgerFile(file);
  t.same(report.faults, []);
  t.equal(report.records, 3);
  t.equal(report.signer, alice.peerId);
});

t.test('idempotent keys: a duplicate delivery returns the first record and writes nothing', async (t) => {
  const file = join(t.testdir(), LEDGER_FILE);
  const ledger = await openLedger(file, alice);
  const body = sampleContract(7, alice, bob);
  const results = await Promise.all([1, 2, 3].map(() => ledger.append('contract', 'contract:7', body)));
  t.same(results[1], results[0]);
  t.same(results[2], results[0]);
  t.equal(ledger.size, 1);
  const before = await readFile(file);
  // The same contract assembled again (signatures in the other order): same body.
  const fill = sampleFill(7, alice.peerId, bob.peerId);
  const rebuilt = contractBody(fill, [signFill(fill, bob), signFill(fill, alice)]);
  t.same(await ledger.append('contract', 'contract:7', rebuilt), results[0]);
  t.ok((await readFile(file)).equals(before), 'file unchanged');

  const conflict = await ledger.append('contract', 'contract:7', sampleContract(8, alice, bob)).catch((e: unknown) => e);
  t.ok(conflict instanceof LedgerConflictError);
  t.match((conflict as Error).message, /already recorded \(line 1\) with another body/);
  t.same((conflict as LedgerConflictError).existing, results[0]);
  await t.rejects(ledger.append('dispute', 'contract:7', body), /with another kind \(contract\)/);
  t.ok(ledger.healthy, 'a conflict does not hurt the ledger');
  await ledger.close();

  // Across a restart too.
  const again = await openLedger(file, alice);
  t.same(await again.append('contract', 'contract:7', body), results[0]);
  t.equal(again.size, 1);
  await again.close();
  t.ok((await readFile(file)).equals(before));
});

t.test('bad input is refused before anything is written; the ledger stays healthy', async (t) => {
  const file = join(t.testdir(), LEDGER_FILE);
  const ledger = await openLedger(file, alice);
  const fill = sampleFill(1, alice.peerId, bob.peerId);
  const cases: [() => Promise<unknown>, RegExp][] = [
    [() => ledger.append('gift' as 'note', 'k', {}), /unknown ledger kind/],
    [() => ledger.append('note', '', {}), /key must have/],
    [() => ledger.append('note', 'k', [] as unknown as Record<string, unknown>), /plain JSON object/],
    [() => ledger.append('note', 'k', { x: Number.NaN }), /not plain JSON.*finite/],
    [() => ledger.append('note', 'k', { d: new Date(0) }), /not plain JSON/],
    [() => ledger.append('note', 'k', { big: 'x'.repeat(70_000) }), /more than 65536/],
    [() => ledger.append('contract', 'c', { fill, signatures: [signFill(fill, alice)] }), /not a contract: no signature by the buyer/],
    [() => ledger.append('contract', 'c', sampleContract(1, bob, mallory)), /neither the seller nor the buyer/],
  ];
  for (const [run, message] of cases) {
    const error = await run().catch((e: unknown) => e);
    t.ok(error instanceof LedgerRecordError, String(message));
    t.match((error as Error).message, message);
  }
  t.ok(ledger.healthy);
  t.equal((await stat(file)).size, 0);
  await ledger.append('note', 'k', { ok: true });
  t.equal(ledger.size, 1);
  await ledger.close();
});

t.test('an append resolves only after its line is written and fdatasync\'ed; appends run one at a time', async (t) => {
  const file = join(t.testdir(), LEDGER_FILE);
  const events: string[] = [];
  const io: LedgerIo = {
    write: async (handle, data) => {
      events.push(`write ${data.toString().match(/"key":"([^"]+)"/)?.[1]}`);
      await new Promise((r) => setTimeout(r, 5));
      return realLedgerIo.write(handle, data);
    },
    datasync: async (handle) => {
      await new Promise((r) => setTimeout(r, 5));
      await realLedgerIo.datasync(handle);
      events.push('sync');
    },
  };
  const ledger = await openLedger(file, alice, { io });
  const done = ['a', 'b', 'c'].map((k) => ledger.append('note', k, {}).then(() => { events.push(`resolved ${k}`); }));
  await Promise.all(done);
  t.same(events, ['write a', 'sync', 'resolved a', 'write b', 'sync', 'resolved b', 'write c', 'sync', 'resolved c']);
  await ledger.close();
});

t.test('a failed write or fsync stops appends until a restart, and cuts back the partial record', async (t) => {
  for (const failing of ['write', 'short', 'datasync'] as const) {
    const file = join(t.testdir(), `${failing}.jsonl`);
    const captured = capturedLogger();
    let fail = false;
    const io: LedgerIo = {
      write: async (handle, data) => {
        if (fail && failing === 'write') throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        if (fail && failing === 'short') return realLedgerIo.write(handle, data.subarray(0, 10));
        return realLedgerIo.write(handle, data);
      },
      datasync: async (handle) => {
        if (fail && failing === 'datasync') throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
        return realLedgerIo.datasync(handle);
      },
    };
    const ledger = await openLedger(file, alice, { io, log: captured.log });
    await ledger.append('note', 'one', {});
    const size = (await stat(file)).size;
    fail = true;
    const error = await ledger.append('note', 'two', {}).catch((e: unknown) => e);
    t.ok(error instanceof LedgerDamagedError, failing);
    t.match((error as Error).message, new RegExp(`${LEDGER_FILE.replace('ledger', failing).replace('.', '\\.')}:2: io: writing record 2 failed`));
    t.notOk(ledger.healthy);
    t.equal(ledger.status, 'failed');
    fail = false;
    await t.rejects(ledger.append('note', 'three', {}), LedgerDamagedError, 'still refused after the disk recovers');
    t.equal((await stat(file)).size, size, 'partial record cut back');
    t.ok(captured.lines().some((l) => l.level === 50 && String(l.msg).includes('trading must stop')));
    await ledger.close();
    const again = await openLedger(file, alice);
    t.ok(again.healthy, 'a restart re-reads the file');
    t.equal(again.size, 1);
    await again.close();
  }
});

t.test('a ledger written by another key is not this agent\'s: damaged', async (t) => {
  const file = join(t.testdir(), LEDGER_FILE);
  await writeContracts(file, alice, bob, 2);
  const ledger = await openLedger(file, bob);
  t.notOk(ledger.healthy);
  t.match(ledger.faults[0], { line: 1, kind: 'signer' });
  await t.rejects(ledger.append('note', 'x', {}), /ledger\.jsonl:1: signer: written by t[a-z2-7]+, but this is the ledger of/);
  await ledger.close();
});

t.test('damage in the middle: reported with its line, appends refused, file left as it is', async (t) => {
  const file = join(t.testdir(), LEDGER_FILE);
  await writeContracts(file, alice, bob, 5);
  const original = await readFile(file);
  const third = original.indexOf('"energyWh":503');
  t.ok(third > 0);
  const damaged = Buffer.from(original);
  damaged.write('"energyWh":603', third);
  await writeFile(file, damaged);

  const captured = capturedLogger();
  const ledger = await openLedger(file, alice, { log: captured.log });
  t.notOk(ledger.healthy);
  t.equal(ledger.status, 'damaged');
  t.match(ledger.faults[0], { line: 3, kind: 'signature' });
  t.ok(ledger.faults.some((f) => f.line === 4 && f.kind === 'chain'));
  t.notOk(ledger.faults.some((f) => f.line !== 3 && f.line !== 4));
  t.equal(ledger.size, 2, 'the intact prefix');
  const error = await ledger.append('note', 'n', {}).catch((e: unknown) => e);
  t.ok(error instanceof LedgerDamagedError);
  t.match((error as Error).message, `${file}:3: signature:`);
  t.same((error as LedgerDamagedError).faults, ledger.faults);
  t.ok(captured.lines().some((l) => l.level === 50 && String(l.msg).includes('ledger damaged')));
  await ledger.close();
  t.ok((await readFile(file)).equals(damaged), 'nothing cut, nothing hidden');
});

t.test('any single byte flip in a middle record is found, at that record\'s line', async (t) => {
  const file = join(t.testdir(), LEDGER_FILE);
  await writeContracts(file, alice, bob, 5);
  const original = await readFile(file);
  const starts = [0];
  for (let i = 0; i < original.length; i++) if (original[i] === 10) starts.push(i + 1);
  const from = starts[2]!;
  const to = starts[3]!; // line 3 and its newline
  let checked = 0;
  for (let at = from; at < to; at++) {
    for (const mask of at % 5 === 0 ? [0x01, 0x20, 0x80] : [0x01]) {
      const bytes = Buffer.from(original);
      bytes[at] = bytes[at]! ^ mask;
      for (const signatures of ['all', 'tail'] as const) {
        const report = verifyLedgerBytes(bytes, { signatures, signer: alice.peerId });
        if (!report.damaged || report.faults[0]?.line !== 3 || report.records !== 2) {
          t.fail(`flip ${mask} at byte ${at - from} of line 3 (${signatures}): ${JSON.stringify(report.faults)}`);
        }
        checked++;
      }
      if (at % 53 === 0) {
        await writeFile(file, bytes);
        const ledger = await openLedger(file, alice);
        t.equal(ledger.healthy, false, `open refuses flip at ${at - from}`);
        t.equal(ledger.faults[0]?.line, 3);
        await ledger.close();
      }
    }
  }
  t.ok(checked > 2000, `${checked} flips checked`);
});

t.test('a byte flip in the last record is damage or a torn tail, never accepted', async (t) => {
  const file = join(t.testdir(), LEDGER_FILE);
  await writeContracts(file, alice, bob, 3);
  const original = await readFile(file);
  const from = original.lastIndexOf(10, original.length - 2) + 1;
  let torn = 0;
  for (let at = from; at < original.length; at++) {
    const bytes = Buffer.from(original);
    bytes[at] = bytes[at]! ^ 0x01;
    const report = verifyLedgerBytes(bytes, { signatures: 'tail', signer: alice.peerId });
    t.equal(report.faults[0]?.line, 3, `flip at ${at - from}`);
    t.equal(report.records, 2);
    if (!report.damaged) torn++;
  }
  t.ok(torn > 0 && torn < original.length - from, `${torn} flips left a line that is not JSON (torn), the rest are damage`);
});

t.test('a torn tail at every byte offset of the last record is cut off, kept aside and logged', async (t) => {
  const dir = t.testdir();
  const file = join(dir, LEDGER_FILE);
  await writeContracts(file, alice, bob, 3);
  const original = await readFile(file);
  const lastStart = original.lastIndexOf(10, original.length - 2) + 1;
  const clock = new ManualClock();
  for (let cut = lastStart + 1; cut < original.length; cut++) {
    await writeFile(file, original.subarray(0, cut));
    const captured = capturedLogger();
    await clock.advance(1);
    const ledger = await openLedger(file, alice, { clock, log: captured.log });
    const where = `cut at ${cut - lastStart}`;
    if (!ledger.healthy || ledger.size !== 2) {
      t.fail(`${where}: ${JSON.stringify(ledger.faults)}`);
      await ledger.close();
      continue;
    }
    const warning = captured.lines().find((l) => l.level === 40 && String(l.msg).includes('torn tail'));
    if (!warning || warning.removedBytes !== cut - lastStart || warning.keptBytes !== lastStart) t.fail(`${where}: ${JSON.stringify(warning)}`);
    if ((await stat(file)).size !== lastStart) t.fail(`${where}: not truncated`);
    if (cut === original.length - 1) {
      // The last one: the record is complete but for its newline; append again and verify all.
      const saved = await readFile(String(warning?.savedTo));
      t.ok(saved.equals(original.subarray(lastStart, cut)), 'torn bytes kept aside');
      const record = await ledger.append('contract', 'contract:3', sampleContract(3, alice, bob));
      t.equal(record.seq, 3);
      await ledger.close();
      const report = await verifyLedgerFile(file, { signer: alice.peerId });
      t.same(report.faults, []);
      t.equal(report.records, 3);
    } else {
      await ledger.close();
    }
  }
  const torn = (await readdir(dir)).filter((n) => n.startsWith(`${LEDGER_FILE}.torn-`));
  t.equal(torn.length, original.length - lastStart - 1, 'one copy per recovery');
});

t.test('tails: garbage after a crash is torn; a well-formed record that does not verify is damage', async (t) => {
  const file = join(t.testdir(), LEDGER_FILE);
  await writeContracts(file, alice, bob, 2);
  const good = await readFile(file);

  for (const tail of [Buffer.alloc(700), Buffer.from('\n'), Buffer.concat([Buffer.alloc(300), Buffer.from('\n')]), Buffer.alloc(70_000, 0x41)]) {
    await writeFile(file, Buffer.concat([good, tail]));
    const ledger = await openLedger(file, alice);
    t.ok(ledger.healthy, `${tail.length} bytes of garbage`);
    t.equal(ledger.size, 2);
    await ledger.close();
    t.ok((await readFile(file)).equals(good));
  }

  // A complete, parseable third record with the wrong prev: not something a crash writes.
  const wrong = signRecord({ v: 1, seq: 3, prev: '1'.repeat(64), at: 0, kind: 'note', key: 'n', body: {}, signer: alice.peerId, pub: alice.rawPublicKey.toString('base64url') }, alice.privateKey);
  await writeFile(file, Buffer.concat([good, encodeRecord(wrong), Buffer.from('\n')]));
  const ledger = await openLedger(file, alice);
  t.notOk(ledger.healthy);
  t.match(ledger.faults, [{ line: 3, kind: 'chain' }]);
  await ledger.close();

  // A record removed from the middle: seq gap and broken link.
  const three = join(dirname(file), 'three.jsonl');
  await writeContracts(three, alice, bob, 3);
  const text = lines(await readFile(three, 'utf8'));
  await writeFile(three, `${text[0]}\n${text[2]}\n`);
  const gap = await verifyLedgerFile(three);
  t.match(gap.faults, [{ line: 2, kind: 'seq', message: 'seq is 3, expected 2' }, { line: 2, kind: 'chain' }]);
});

t.test('a forged counterpart signature is a fault verify reports (and open, on the last record)', async (t) => {
  const file = join(t.testdir(), LEDGER_FILE);
  await writeContracts(file, alice, bob, 2);
  const fill = sampleFill(3, alice.peerId, bob.peerId);
  const forgedByMallory = { ...signFill(fill, mallory), peerId: bob.peerId, publicKey: bob.rawPublicKey.toString('base64url') };
  const body = { fill, signatures: [signFill(fill, alice), forgedByMallory].sort((a, b) => a.peerId.localeCompare(b.peerId)) };
  const text = await readFile(file);
  const prev = lineHash(text.subarray(text.lastIndexOf(10, text.length - 2) + 1, text.length - 1));
  const record = signRecord({ v: 1, seq: 3, prev, at: 0, kind: 'contract', key: 'contract:3', body, signer: alice.peerId, pub: alice.rawPublicKey.toString('base64url') }, alice.privateKey);
  await writeFile(file, Buffer.concat([text, encodeRecord(record), Buffer.from('\n')]));

  const report = await verifyLedgerFile(file, { signer: alice.peerId });
  t.ok(report.damaged);
  t.same(report.faults, [{ line: 3, offset: text.length, kind: 'contract', message: `fill signature of ${bob.peerId} does not verify` }]);
  const ledger = await openLedger(file, alice);
  t.notOk(ledger.healthy);
  t.equal(ledger.faults[0]?.kind, 'contract');
  await ledger.close();
});

t.test('an empty ledger, a symlink, a directory', async (t) => {
  const dir = t.testdir({ 'ledger.jsonl': '', sub: {}, link: t.fixture('symlink', 'ledger.jsonl') });
  const ledger = await openLedger(join(dir, 'ledger.jsonl'), alice);
  t.ok(ledger.healthy);
  t.equal(ledger.size, 0);
  await ledger.close();
  await t.rejects(openLedger(join(dir, 'link'), alice), { code: 'ELOOP' });
  await t.rejects(openLedger(join(dir, 'sub'), alice), { code: 'EISDIR' });
  await t.rejects(openLedger(join(dir, 'missing', 'ledger.jsonl'), alice), { code: 'ENOENT' });
  const report = await verifyLedgerFile(join(dir, 'ledger.jsonl'));
  t.same(report.faults, []);
  t.equal(report.records, 0);
  t.equal(report.signer, undefined);
});

t.test('lines longer than any record are refused without being held in memory', async (t) => {
  const file = join(t.testdir(), LEDGER_FILE);
  await writeContracts(file, alice, bob, 2);
  const good = await readFile(file);
  const text = lines(good.toString());
  await writeFile(file, `${text[0]}\n${'x'.repeat(200_000)}\n${text[1]}\n`);
  const report = await verifyLedgerFile(file);
  t.match(report.faults, [{ line: 2, kind: 'malformed', message: /200000 bytes, longer than any record/ }, { line: 3, kind: 'seq' }]);
  await truncate(file, 0);
});

t.test('power cuts, simulated: unsynced bytes lost or torn; every acknowledged record survives (LOG-3)', async (t) => {
  const file = join(t.testdir(), LEDGER_FILE);
  const acknowledged: string[] = [];
  const outcomes = { lost: 0, torn: 0, zeroed: 0, kept: 0 };
  let n = 0;
  const clock = new ManualClock();
  for (let i = 0; i < 240; i++) {
    let doomed = false;
    let image: Buffer | undefined;
    const io: LedgerIo = {
      write: realLedgerIo.write,
      datasync: async (handle) => {
        if (!doomed) return realLedgerIo.datasync(handle);
        // The power fails before the sync completes: the disk holds the synced prefix and
        // some part of the unsynced record, possibly with a sector never written (zeros).
        const bytes = await readFile(file);
        const durable = bytes.lastIndexOf(10, bytes.length - 2) + 1;
        const unsynced = bytes.length - durable;
        const variant = (['lost', 'kept', 'torn', 'zeroed', 'torn', 'zeroed'] as const)[i % 6]!;
        outcomes[variant]++;
        const kept = { lost: 0, kept: unsynced, torn: 1 + Math.floor(Math.random() * (unsynced - 1)), zeroed: 1 + Math.floor(Math.random() * unsynced) }[variant];
        image = Buffer.from(bytes.subarray(0, durable + kept));
        if (variant === 'zeroed') {
          // A 512-byte sector of the record never reached the disk (possibly the one before its newline).
          const from = durable + Math.floor(Math.random() * kept);
          image.fill(0, from, Math.min(durable + kept - (Math.random() < 0.5 ? 1 : 0), from + 512));
        }
        throw new Error('power cut');
      },
    };
    await clock.advance(1);
    const ledger = await openLedger(file, alice, { io, clock });
    if (!ledger.healthy) {
      t.fail(`cut ${i}: ${JSON.stringify(ledger.faults)}`);
      break;
    }
    for (const key of acknowledged) if (!ledger.has(key)) t.fail(`cut ${i}: acknowledged ${key} missing`);
    for (let k = Math.floor(Math.random() * 3); k > 0; k--) {
      n++;
      await ledger.append('contract', `contract:${n}`, sampleContract(n, alice, bob));
      acknowledged.push(`contract:${n}`);
    }
    doomed = true;
    n++;
    await t.rejects(ledger.append('contract', `contract:${n}`, sampleContract(n, alice, bob)), LedgerDamagedError);
    await ledger.close();
    await writeFile(file, image!);
  }
  const report = await verifyLedgerFile(file, { signer: alice.peerId });
  t.equal(report.damaged, false);
  const keys: string[] = [];
  const last = await openLedger(file, alice, { signatures: 'all' });
  t.ok(last.healthy);
  for (const key of acknowledged) if (last.has(key)) keys.push(key);
  t.same(keys, acknowledged, 'every acknowledged record is there');
  await last.close();
  t.same(outcomes, { lost: 40, kept: 40, torn: 80, zeroed: 80 });
});
