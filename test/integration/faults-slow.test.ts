/**
 * A slow device: replies come later than the link timeout for a while, then
 * on time again. Requests time out, then read correctly on the same link,
 * and a late reply is never taken as the answer to a later request: the
 * physics clock moves a minute before every poll, so a late reply would
 * show as values from the wrong time.
 */
import t from 'tap';
import { exactPoll, faultScenario } from './fault-scenario.js';
import { expectedInverter, expectedMeter, INVERTER_ROLES, METER_ROLES, SlowProxy, startSim, sunspecDevice, tcpLink } from './helpers.js';

const TIMEOUT = 300;

/**
 * MBAP transaction ids tell a late reply apart at any lateness. RTU frames
 * carry no id: the link waits `settleAfterTimeoutMs` (default: the timeout)
 * after a timeout, so replies up to timeout + settle late are discarded; a
 * slower device needs a longer settle time.
 */
const CASES = [
  { kind: 'tcp', lateBy: 1.5 },
  { kind: 'tcp', lateBy: 2.5 },
  { kind: 'rtu-over-tcp', lateBy: 1.5 },
  { kind: 'rtu-over-tcp', lateBy: 2.5, settleAfterTimeoutMs: 2 * TIMEOUT },
] as const;

for (const c of CASES) {
  const settle = 'settleAfterTimeoutMs' in c ? c.settleAfterTimeoutMs : undefined;
  t.test(`${c.kind}: replies ${c.lateBy}× the timeout late${settle ? ` (settle ${settle} ms)` : ''}, then on time`, async (t) => {
      const s = await startSim(t, { transport: { kind: c.kind, host: '127.0.0.1', port: 0 } });
      const proxy = await SlowProxy.start(t, s.sim.server.address().port);
      const link = tcpLink(t, c.kind, proxy.port, { timeout: TIMEOUT }, settle === undefined ? {} : { settleAfterTimeoutMs: settle });
      const inverter = sunspecDevice(link, 1, INVERTER_ROLES);
      const meter = sunspecDevice(link, 2, METER_ROLES);
      t.ok((await exactPoll(t, s, inverter, expectedInverter, 'before')).ok);
      t.ok((await exactPoll(t, s, meter, expectedMeter, 'before')).ok);

      proxy.delayMs = c.lateBy * TIMEOUT;
      const kinds: string[] = [];
      for (let i = 0; i < 6; i++) {
        // Both devices, so requests of different shapes and units follow each other as in a real poll cycle.
        for (const [device, expected] of [[inverter, expectedInverter], [meter, expectedMeter]] as const) {
          const result = await exactPoll(t, s, device, expected, `slow poll ${i + 1} of ${device.name}`);
          t.notOk(result.ok, `slow poll ${i + 1} of ${device.name} fails`);
          kinds.push(result.kind ?? 'ok');
        }
      }
      // Timeouts; then the connection is replaced and reconnects back off, and the units rest.
      t.ok(kinds.every((k) => k === 'timeout' || k === 'connection' || k === 'backoff'), `slow polls fail (${kinds.join(', ')})`);
      t.ok(kinds.slice(0, 3).every((k) => k === 'timeout'), 'the first failures are timeouts');

      proxy.delayMs = 0;
      const options = { maxPolls: 60, maxMs: 20_000, gapMs: 200, after: 3, checkBefore: false };
      await faultScenario(t, s, inverter, expectedInverter, () => undefined, options);
      await faultScenario(t, s, meter, expectedMeter, () => undefined, options);
      t.equal(await link.read(1, 3, 40000, 2).then((w) => w.join(',')), [0x5375, 0x6e53].join(','), 'raw reads are in step too');
  });
}
