/**
 * The watchdog loop in-process, on the real clock and a real poller: pings keep coming
 * while an unplugged inverter fails every read (the poll loop still completes cycles),
 * and stop when the poll loop hangs or the broker stops listening. The notifier is a
 * recorder of our own Notifier interface; notifier.test.ts covers the real socket.
 */
import t from 'tap';
import { Poller } from '../../agent/devices/poller.js';
import type { PollableDevice } from '../../agent/devices/device.js';
import { buildDevices } from '../../agent/app/devices.js';
import { parseConfigText } from '../../agent/config/parse.js';
import { ManualClock, systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import type { BrokerHealth } from '../../agent/service/health.js';
import { eventLoopDelayMeter } from '../../agent/service/loop-delay.js';
import type { Notifier, NotifyFields } from '../../agent/service/notifier.js';
import { agentProbe } from '../../agent/service/probe.js';
import { ServiceWatchdog, type AgentProbe } from '../../agent/service/watchdog.js';
import { freePort } from '../app/helpers.js';

class Recorder implements Notifier {
  readonly sent: NotifyFields[] = [];
  notify(fields: NotifyFields): void { this.sent.push(fields); }
  async flush(): Promise<void> {}
  pings(): number { return this.sent.filter((f) => f.WATCHDOG === '1').length; }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('an unplugged inverter fails every read, yet the poll loop runs and pings continue', async (t) => {
  const port = await freePort(); // nothing listens: connection refused, as with an inverter that is off
  const config = parseConfigText([
    'links:', '  inverter-lan:', '    type: tcp', '    host: 127.0.0.1', `    port: ${port}`, '    timeout: 200ms',
    'devices:', '  inverter:', '    type: sunspec', '    link: inverter-lan', '    unit: 1', '    provides: [pv]',
    '',
  ].join('\n'), 'unplugged.yaml');
  const devices = await buildDevices(config, { clock: systemClock, log: silentLogger() });
  const poller = new Poller({ devices: devices.devices, clock: systemClock, log: silentLogger(), intervalMs: 100, staleAfterMs: 500 });
  t.teardown(async () => { await poller.stop(); await devices.close(); });
  const notifier = new Recorder();
  const watchdog = new ServiceWatchdog({
    notifier, clock: systemClock, watchdogMs: 400, limits: { maxLoopDelayMs: 5_000, pollStallMs: 1_000 },
    probe: agentProbe({ poller, neighbours: undefined }), loopDelay: eventLoopDelayMeter(), log: silentLogger(),
  });
  poller.start();
  watchdog.ready();
  await sleep(3_000);
  watchdog.close();
  t.ok(poller.cyclesCompleted() >= 10, `${poller.cyclesCompleted()} cycles completed`);
  t.ok(devices.links[0]!.stats().errors.connection! > 0 || Object.values(devices.links[0]!.stats().errors).some((n) => n > 0), 'every read failed');
  t.equal(watchdog.counts.withheld, 0, 'no ping withheld');
  t.ok(notifier.pings() >= 10, `${notifier.pings()} pings in 3 s at a 200 ms period`);
  t.match(notifier.sent.at(-1)!.STATUS, /^PV n\/a/, 'the status says PV is not available');
});

t.test('a hung poll loop stops the pings; systemd would restart the agent', async (t) => {
  let hung = true;
  let release: (() => void) | undefined;
  const hanging: PollableDevice = {
    name: 'hung', roles: ['pv'],
    // A read that never settles: impossible through a real link (every request has a timeout), so a bug.
    poll: () => (hung ? new Promise((resolve) => { release = () => resolve({}); }) : Promise.resolve({})),
  };
  const poller = new Poller({ devices: [hanging], clock: systemClock, log: silentLogger(), intervalMs: 100, staleAfterMs: 500 });
  const notifier = new Recorder();
  const watchdog = new ServiceWatchdog({
    notifier, clock: systemClock, watchdogMs: 400, limits: { maxLoopDelayMs: 5_000, pollStallMs: 1_000 },
    probe: agentProbe({ poller, neighbours: undefined }), loopDelay: eventLoopDelayMeter(), log: silentLogger(),
  });
  poller.start();
  watchdog.ready();
  await sleep(600);
  t.equal(watchdog.counts.withheld, 0, 'young: still healthy');
  await sleep(1_400);
  t.equal(poller.cyclesCompleted(), 0, 'the first cycle never finished');
  t.ok(watchdog.counts.withheld >= 3, `${watchdog.counts.withheld} pings withheld`);
  const pingsWhileHung = notifier.pings();
  await sleep(800);
  t.equal(notifier.pings(), pingsWhileHung, 'no ping while hung: longer than WATCHDOG_USEC, so systemd would kill it');
  t.match(notifier.sent.at(-1)!.STATUS, /^unhealthy: poll loop made no progress for \d/);
  hung = false;
  release!();
  await sleep(600);
  t.ok(notifier.pings() > pingsWhileHung, 'pings resume once the loop moves again');
  watchdog.close();
  await poller.stop();
});

t.test('a broker that stops listening withholds pings; in external mode nothing does', async (t) => {
  const clock = new ManualClock();
  let broker: BrokerHealth = { kind: 'embedded', listening: true };
  let cycles = 0;
  const probe: AgentProbe = { pollCycles: () => ++cycles, broker: () => broker, status: (p) => (p.length ? p.join('; ') : 'ok') };
  const notifier = new Recorder();
  const watchdog = new ServiceWatchdog({
    notifier, clock, watchdogMs: 60_000, limits: { maxLoopDelayMs: 5_000, pollStallMs: 60_000 },
    probe, loopDelay: { takeMaxMs: () => 0, close: () => {} }, log: silentLogger(),
  });
  watchdog.ready();
  t.same(notifier.sent[0], { READY: '1', WATCHDOG: '1', STATUS: 'ok' }, 'READY=1 with the first ping');
  await clock.advance(30_000);
  t.equal(notifier.pings(), 2, 'a ping every half watchdog period');
  broker = { kind: 'embedded', listening: false };
  await clock.advance(90_000);
  t.equal(notifier.pings(), 2, 'none while the broker is down');
  t.same(notifier.sent.at(-1), { STATUS: 'embedded broker is not listening' }, 'the status says why, once');
  broker = { kind: 'external' };
  await clock.advance(30_000);
  t.equal(notifier.pings(), 3);
  watchdog.stopping();
  t.same(notifier.sent.at(-1), { STOPPING: '1', STATUS: 'stopping' });
  await clock.advance(120_000);
  t.equal(notifier.pings(), 3, 'no ping after STOPPING=1');
});

t.test('an extreme event-loop delay withholds the ping of that period', async (t) => {
  const clock = new ManualClock();
  const delays = [0, 0, 20_000, 0];
  let cycles = 0;
  const notifier = new Recorder();
  const watchdog = new ServiceWatchdog({
    notifier, clock, watchdogMs: 60_000, limits: { maxLoopDelayMs: 15_000, pollStallMs: 60_000 },
    probe: { pollCycles: () => ++cycles, broker: () => ({ kind: 'off' }), status: (p) => p.join('; ') },
    loopDelay: { takeMaxMs: () => delays.shift() ?? 0, close: () => {} }, log: silentLogger(),
  });
  watchdog.ready(); // takes two readings: the start-up one is discarded
  await clock.advance(30_000);
  t.equal(watchdog.counts.withheld, 1);
  t.same(notifier.sent.at(-1), { STATUS: 'event loop delayed 20 s' });
  await clock.advance(30_000);
  t.equal(watchdog.counts.withheld, 1, 'one bad period is not yet a restart');
  t.equal(notifier.pings(), 2);
  watchdog.close();
});

t.test('without WATCHDOG_USEC: READY and STATUS only, refreshed when the status changes', async (t) => {
  const clock = new ManualClock();
  let status = 'a';
  const notifier = new Recorder();
  const watchdog = new ServiceWatchdog({
    notifier, clock, watchdogMs: undefined, limits: { maxLoopDelayMs: 5_000, pollStallMs: 60_000 },
    probe: { pollCycles: () => 1, broker: () => ({ kind: 'off' }), status: () => status }, loopDelay: { takeMaxMs: () => 0, close: () => {} }, log: silentLogger(),
  });
  watchdog.ready();
  await clock.advance(90_000);
  status = 'b';
  await clock.advance(30_000);
  t.same(notifier.sent, [{ READY: '1', STATUS: 'a' }, { STATUS: 'b' }]);
  watchdog.close();
});
