import t from 'tap';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../agent/core/clock.js';
import { SequenceAllocator } from '../../agent/mesh/sequence.js';

const tempFile = () => join(mkdtempSync(join(tmpdir(), 'tonari-seq-')), 'seq.json');

t.test('hands out consecutive numbers and reserves a block ahead, durably', async (t) => {
  const file = tempFile();
  const alloc = SequenceAllocator.open(file, new ManualClock(0), { block: 10, timeFloor: false });
  t.same([alloc.nextSeq(), alloc.nextSeq(), alloc.nextSeq()], [1, 2, 3]);
  t.equal(alloc.reserved, 10);
  t.same(JSON.parse(readFileSync(file, 'utf8')), { v: 1, reserved: 10 });
  for (let i = 4; i <= 10; i++) alloc.nextSeq();
  t.equal(alloc.nextSeq(), 11);
  t.equal(alloc.reserved, 20, 'next block reserved before 11 was handed out');
  t.same(readdirSync(join(file, '..')), ['seq.json']);
});

t.test('property: never repeats across simulated crashes (reopen without shutdown)', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 25 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 16 }), (runs, block) => {
      const file = tempFile();
      const clock = new ManualClock(0);
      let last = 0;
      for (const count of runs) {
        // each run: open, hand out some numbers, then "crash" (drop the object; nothing flushed on exit)
        const alloc = SequenceAllocator.open(file, clock, { block, timeFloor: false });
        for (let i = 0; i < count; i++) {
          const seq = alloc.nextSeq();
          if (seq <= last) return false;
          last = seq;
        }
      }
      return true;
    }),
    { numRuns: 40 },
  );
  t.pass('held');
});

t.test('time floor: a lost state file still yields numbers above any sent before', async (t) => {
  const file = tempFile();
  const clock = new ManualClock(Date.UTC(2026, 5, 21));
  const first = SequenceAllocator.open(file, clock);
  const a = first.nextSeq();
  t.equal(a, clock.now(), 'starts at the clock in ms');
  const b = first.nextSeq();
  writeFileSync(file, 'garbage');
  await clock.advance(1000);
  const second = SequenceAllocator.open(file, clock);
  t.ok(second.nextSeq() > b, 'continues above, from the clock');
  writeFileSync(file, '{');
  t.throws(() => SequenceAllocator.open(file, clock, { timeFloor: false }), /unreadable/, 'without a time floor a lost state is an error');
});

t.test('a restart continues above the reservation even when the clock is behind', async (t) => {
  const file = tempFile();
  const clock = new ManualClock(1_000_000);
  const first = SequenceAllocator.open(file, clock, { block: 100 });
  first.nextSeq();
  const second = SequenceAllocator.open(file, new ManualClock(5), { block: 100 });
  t.equal(second.nextSeq(), 1_000_100, 'clock went backwards: the reservation still wins');
});
