import t from 'tap';
import { ManualClock } from '../../agent/core/clock.js';
import { stopWithin } from '../../agent/service/stop.js';

t.test('a stop that finishes in time is stopped', async (t) => {
  const clock = new ManualClock();
  const result = stopWithin(() => clock.sleep(3_000), 20_000, clock);
  await clock.advance(3_000);
  t.same(await result, { outcome: 'stopped', ms: 3_000 });
  t.equal(clock.pending(), 0, 'the deadline timer is cancelled');
});

t.test('a stop that throws is failed, with the error', async (t) => {
  const clock = new ManualClock();
  const result = await stopWithin(async () => { throw new Error('ledger close failed'); }, 20_000, clock);
  t.equal(result.outcome, 'failed');
  t.equal((result as { error: Error }).error.message, 'ledger close failed');
});

t.test('a stop that hangs times out at the deadline', async (t) => {
  const clock = new ManualClock();
  const result = stopWithin(() => new Promise<void>(() => {}), 20_000, clock);
  await clock.advance(19_999);
  let settled = false;
  void result.then(() => { settled = true; });
  await clock.advance(0);
  t.equal(settled, false, 'not before the deadline');
  await clock.advance(1);
  t.same(await result, { outcome: 'timeout', ms: 20_000 });
});
