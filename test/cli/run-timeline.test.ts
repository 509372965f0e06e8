import t from 'tap';
import { sharedTimeline } from '../../agent/cli/commands/run.js';

t.test('--speed, --sim-start and --real-start make one shared timeline', async (t) => {
  t.equal(sharedTimeline({}, 1000), undefined, 'real time without --speed');
  t.match(sharedTimeline({ 'sim-start': '0' }, 1000), /need --speed/);
  t.match(sharedTimeline({ speed: '0.5' }, 1000), /--speed must be a number from 1 to 10000/);
  t.match(sharedTimeline({ speed: 'fast' }, 1000), /--speed must be/);
  t.match(sharedTimeline({ speed: '60', 'sim-start': 'noon' }, 1000), /--sim-start must be an ISO 8601 time/);
  const a = sharedTimeline({ speed: '60', 'sim-start': '2026-06-21T10:00:00+09:00', 'real-start': '1000' }, 5000);
  const b = sharedTimeline({ speed: '60', 'sim-start': String(Date.parse('2026-06-21T01:00:00Z')), 'real-start': '1000' }, 9000);
  if (typeof a !== 'object' || typeof b !== 'object') throw new Error('expected clocks');
  t.ok(Math.abs(a.now() - b.now()) < 60 * 50, 'two processes given the same values read the same time (within the scheduling jitter, scaled)');
  const now = Date.now();
  t.ok(Math.abs(a.now() - (Date.parse('2026-06-21T01:00:00Z') + (now - 1000) * 60)) < 60 * 50, 'sim-start plus the elapsed real time times the speed');
});
