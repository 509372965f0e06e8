import t from 'tap';
import { assessHealth, healthLimits, ProgressTracker, type HealthSample } from '../../agent/service/health.js';
import { serviceEnvironment } from '../../agent/service/env.js';

const limits = { maxLoopDelayMs: 5_000, pollStallMs: 60_000 };
const base: HealthSample = { now: 1_000_000, startedAt: 900_000, loopDelayMs: 3, pollProgressAt: 999_000, broker: { kind: 'embedded', listening: true } };

t.test('a turning loop, a polling loop and a listening broker are healthy', async (t) => {
  t.same(assessHealth(base, limits), { healthy: true, problems: [] });
});

t.test('an extreme event-loop delay is unhealthy, an ordinary one is not', async (t) => {
  t.equal(assessHealth({ ...base, loopDelayMs: 5_000 }, limits).healthy, true, 'at the limit');
  const v = assessHealth({ ...base, loopDelayMs: 12_345 }, limits);
  t.equal(v.healthy, false);
  t.same(v.problems, ['event loop delayed 12 s']);
});

t.test('a poll loop that completes no cycle for longer than the limit is hung', async (t) => {
  t.equal(assessHealth({ ...base, pollProgressAt: base.now - 60_000 }, limits).healthy, true, 'exactly the limit');
  const v = assessHealth({ ...base, pollProgressAt: base.now - 75_000 }, limits);
  t.same(v.problems, ['poll loop made no progress for 75 s']);
});

t.test('before the first cycle the start time counts', async (t) => {
  t.equal(assessHealth({ ...base, pollProgressAt: undefined, startedAt: base.now - 10_000 }, limits).healthy, true, 'young agent');
  t.same(assessHealth({ ...base, pollProgressAt: undefined, startedAt: base.now - 61_000 }, limits).problems, ['poll loop made no progress for 61 s']);
});

t.test('the broker: embedded must listen; external mode and no mesh never make the agent unhealthy', async (t) => {
  t.same(assessHealth({ ...base, broker: { kind: 'embedded', listening: false } }, limits).problems, ['embedded broker is not listening']);
  t.equal(assessHealth({ ...base, broker: { kind: 'external' } }, limits).healthy, true, 'the cluster may be away');
  t.equal(assessHealth({ ...base, broker: { kind: 'off' } }, limits).healthy, true);
});

t.test('every problem is reported at once', async (t) => {
  const v = assessHealth({ ...base, loopDelayMs: 6_000, pollProgressAt: base.now - 90_000, broker: { kind: 'embedded', listening: false } }, limits);
  t.equal(v.problems.length, 3);
});

t.test('limits follow the watchdog, the poll interval and the request timeouts', async (t) => {
  t.same(healthLimits({ watchdogMs: 60_000, pollIntervalMs: 1_000, requestTimeoutMs: 1_000 }), { maxLoopDelayMs: 15_000, pollStallMs: 60_000 });
  t.same(healthLimits({ watchdogMs: 2_000, pollIntervalMs: 1_000, requestTimeoutMs: 1_000 }), { maxLoopDelayMs: 5_000, pollStallMs: 60_000 }, 'a 5 s floor: a busy gateway pauses that long');
  t.equal(healthLimits({ watchdogMs: 60_000, pollIntervalMs: 3_600_000, requestTimeoutMs: 1_000 }).pollStallMs, 10_800_000, 'three hourly polls');
  t.equal(healthLimits({ watchdogMs: 60_000, pollIntervalMs: 1_000, requestTimeoutMs: 10_000 }).pollStallMs, 200_000, 'twenty slow timeouts on a dead bus');
});

t.test('progress is the time the counter last grew', async (t) => {
  const p = new ProgressTracker();
  t.equal(p.observe(0, 1), undefined, 'nothing yet');
  t.equal(p.observe(0, 2), undefined);
  t.equal(p.observe(3, 5), 5, 'first sight of cycles');
  t.equal(p.observe(3, 9), 5, 'no growth');
  t.equal(p.observe(4, 12), 12);
});

t.test('the service environment: NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID', async (t) => {
  t.same(serviceEnvironment({}, 42), { notifySocket: undefined, watchdogMs: undefined }, 'not under systemd');
  t.same(serviceEnvironment({ WATCHDOG_USEC: '60000000' }, 42), { notifySocket: undefined, watchdogMs: undefined }, 'no socket, nothing to ping');
  t.same(serviceEnvironment({ NOTIFY_SOCKET: '/run/systemd/notify' }, 42), { notifySocket: '/run/systemd/notify', watchdogMs: undefined });
  t.same(serviceEnvironment({ NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify', WATCHDOG_USEC: '60000000' }, 42).watchdogMs, 60_000, 'abstract socket');
  t.equal(serviceEnvironment({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '60000000', WATCHDOG_PID: '42' }, 42).watchdogMs, 60_000, 'for this process');
  t.equal(serviceEnvironment({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '60000000', WATCHDOG_PID: '41' }, 42).watchdogMs, undefined, 'inherited from a parent: not ours to ping');
  t.equal(serviceEnvironment({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '0' }, 42).watchdogMs, undefined);
  t.equal(serviceEnvironment({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '-5' }, 42).watchdogMs, undefined);
  t.equal(serviceEnvironment({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '2e6' }, 42).watchdogMs, undefined, 'not an integer');
  t.equal(serviceEnvironment({ NOTIFY_SOCKET: 'relative' }, 42).notifySocket, undefined, 'neither a path nor abstract');
  t.equal(serviceEnvironment({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '500' }, 42).watchdogMs, 1, 'sub-millisecond rounds up to 1 ms');
});
