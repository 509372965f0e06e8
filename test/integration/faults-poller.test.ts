/**
 * Faults seen through the Poller: values of a device that fails are kept but
 * marked stale (never ok, never replaced), values of the devices that still
 * read stay ok and exact, and everything is ok again after recovery.
 */
import t, { type Test } from 'tap';
import { systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { Poller } from '../../agent/devices/poller.js';
import { QUANTITIES, type Quantity } from '../../agent/household/quantities.js';
import type { HouseholdState } from '../../agent/household/state.js';
import type { HouseholdState as PhysicsState } from '../../agent/sim/physics/household.js';
import { delay, expectedHousehold, INVERTER_ROLES, METER_ROLES, MINUTE, startSim, sunspecDevice, tcpLink } from './helpers.js';

const INVERTER_QUANTITIES: Quantity[] = ['pvW', 'batteryW', 'socPct', 'pvWh'];
const METER_QUANTITIES: Quantity[] = ['gridW', 'gridImportWh', 'gridExportWh'];

function values(state: HouseholdState): Record<Quantity, number | undefined> {
  return Object.fromEntries(QUANTITIES.map((q) => [q, state[q].value])) as Record<Quantity, number | undefined>;
}

function qualities(state: HouseholdState, quantities: readonly Quantity[]): string[] {
  return quantities.map((q) => state[q].quality);
}

function checkAllOk(t: Test, state: HouseholdState, physics: PhysicsState, what: string): void {
  t.strictSame(values(state), expectedHousehold(physics), `${what}: every value exact`);
  t.strictSame(qualities(state, QUANTITIES), QUANTITIES.map(() => 'ok'), `${what}: every value ok`);
}

t.test('stale while a device fails, ok again after', async (t) => {
  const s = await startSim(t, { transport: { kind: 'tcp', host: '127.0.0.1', port: 0 } });
  const link = tcpLink(t, 'tcp', s.sim.server.address().port, { timeout: 300 });
  const inverter = sunspecDevice(link, 1, INVERTER_ROLES, { name: 'inverter' });
  const meter = sunspecDevice(link, 2, METER_ROLES, { name: 'meter' });
  const poller = new Poller({ devices: [inverter, meter], clock: systemClock, log: silentLogger(), intervalMs: 1000, staleAfterMs: 60_000 });

  const first = await poller.pollOnce();
  checkAllOk(t, first, s.state(), 'first poll');

  // One lost reply: the inverter's request goes first on the shared link, so the inverter fails and the meter reads.
  await s.clock.advance(MINUTE);
  s.sim.server.dropNextResponses(1);
  const partial = await poller.pollOnce();
  const now = expectedHousehold(s.state());
  const before = values(first);
  for (const q of INVERTER_QUANTITIES) {
    t.equal(partial[q].quality, 'stale', `${q} is stale while the inverter fails`);
    t.equal(partial[q].value, before[q], `${q} keeps its last value, flagged`);
    t.equal(partial[q].at, first[q].at, `${q} keeps when it was measured`);
  }
  for (const q of METER_QUANTITIES) {
    t.equal(partial[q].quality, 'ok', `${q} from the meter stays ok`);
    t.equal(partial[q].value, now[q], `${q} is the meter's current value`);
  }
  t.equal(partial.loadW.quality, 'stale', 'the load, built partly from the failed inverter, is stale');
  t.match(partial.pvW.reason, /inverter/);

  await s.clock.advance(MINUTE);
  checkAllOk(t, await poller.pollOnce(), s.state(), 'after the lost reply');

  // A reboot: both devices fail, every value is stale; then everything reads again without restarting anything.
  const lastGood = poller.state()!;
  const rebooted = s.sim.server.restart(1500);
  let sawAllStale = false;
  let recovered = false;
  const deadline = Date.now() + 20_000;
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    await s.clock.advance(MINUTE);
    const state = await poller.pollOnce();
    if (qualities(state, QUANTITIES).every((q) => q === 'ok')) {
      checkAllOk(t, state, s.state(), `poll ${i + 1} after the reboot`);
      recovered = true;
      break;
    }
    t.ok(qualities(state, QUANTITIES).every((q) => q !== 'missing'), 'nothing becomes missing');
    for (const q of QUANTITIES) {
      if (state[q].quality === 'stale') t.equal(state[q].value, values(lastGood)[q], `stale ${q} keeps the last good value`);
    }
    sawAllStale ||= qualities(state, QUANTITIES).every((q) => q === 'stale');
    await delay(100);
  }
  await rebooted;
  t.ok(sawAllStale, 'every value was stale while the device was down');
  t.ok(recovered, 'every value is ok again after the reboot');
  await s.clock.advance(MINUTE);
  checkAllOk(t, await poller.pollOnce(), s.state(), 'later');
});
