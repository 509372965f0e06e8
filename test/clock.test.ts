import t from 'tap';
import { ManualClock } from '../agent/core/clock.js';

t.test('ManualClock fires timers in due order and moves time', async (t) => {
  const clock = new ManualClock(1000);
  const fired: string[] = [];
  clock.setTimer(() => fired.push(`b@${clock.now()}`), 200);
  clock.setTimer(() => fired.push(`a@${clock.now()}`), 100);
  const cancelled = clock.setTimer(() => fired.push('never'), 150);
  cancelled.cancel();
  await clock.advance(150);
  t.same(fired, ['a@1100']);
  t.equal(clock.now(), 1150);
  await clock.advance(100);
  t.same(fired, ['a@1100', 'b@1200']);
  t.equal(clock.pending(), 0);
});

t.test('ManualClock sleep resolves only when advanced past the deadline', async (t) => {
  const clock = new ManualClock(0);
  let woke = false;
  void clock.sleep(500).then(() => { woke = true; });
  await clock.advance(499);
  t.equal(woke, false);
  await clock.advance(1);
  t.equal(woke, true);
});
