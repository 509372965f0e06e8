/**
 * Exception replies inside a polled block (a register the device refuses,
 * like SMA's unreadable points): the block is split, the refused register is
 * learned as a barrier, every other value stays exact, the refused value is
 * missing (never 0, never a guess), and later polls plan around the hole
 * without a failing request.
 */
import t from 'tap';
import { systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { startModbusServer } from '../../agent/sim/server/index.js';
import {
  expectedInverter, expectedInverterDcW, expectedInverterWh, expectedMeter, HoleySpace, INVERTER_ROLES, METER_ROLES, MINUTE, pointAddress, startSim,
  sunspecDevice, tcpLink,
} from './helpers.js';

t.test('a refused register inside a polled block', async (t) => {
  const s = await startSim(t, { transport: { kind: 'tcp', host: '127.0.0.1', port: 0 } });
  const module2Dcw = pointAddress(s.sim, 1, 160, 'DCW', 1);
  const totWhImp = pointAddress(s.sim, 2, 203, 'TotWhImp');
  const space = new HoleySpace(s.sim.space, [{ unit: 1, address: module2Dcw }, { unit: 2, address: totWhImp }]);
  const server = await startModbusServer({ transport: { kind: 'tcp', host: '127.0.0.1', port: 0 }, registers: space, clock: systemClock, logger: silentLogger() });
  t.teardown(() => server.close());
  const link = tcpLink(t, 'tcp', server.address().port);
  const inverter = sunspecDevice(link, 1, INVERTER_ROLES);
  const meter = sunspecDevice(link, 2, METER_ROLES);

  // Without the holes, both would be one request each: the holes sit inside those blocks.
  const plain = tcpLink(t, 'tcp', s.sim.server.address().port);
  const plainInverter = sunspecDevice(plain, 1, INVERTER_ROLES);
  const plainMeter = sunspecDevice(plain, 2, METER_ROLES);
  await plainInverter.poll();
  await plainMeter.poll();

  const expectInverter = () => {
    const state = s.state();
    // Module 2's DCW is refused, and its DCWH cannot be read in one request with DCWH_SF (the hole lies between them), so
    // both sums over model 160 are missing and pvW, pvWh fall back to the inverter's DCW and WH (docs/household.md).
    return { ...expectedInverter(state), pvW: expectedInverterDcW(state), pvWh: expectedInverterWh(state) };
  };
  // TotWhImp is refused; TotWhExp cannot be read in one request with TotWh_SF, which lies beyond the hole.
  const expectMeter = () => ({ ...expectedMeter(s.state()), gridImportWh: undefined, gridExportWh: undefined });

  for (let poll = 1; poll <= 3; poll++) {
    await s.clock.advance(MINUTE);
    const refusedBefore = space.refused;
    const requestsBefore = server.requestCount();
    const inv = await inverter.poll();
    const mtr = await meter.poll();
    t.strictSame(inv, expectInverter(), `poll ${poll}: inverter values exact, PV from the inverter's DC power`);
    t.not(inv.pvW, Math.round(s.state().trackers[0]!.powerW), 'not the readable module alone');
    t.strictSame(mtr, expectMeter(), `poll ${poll}: meter values exact, the import counter missing`);
    t.ok('gridImportWh' in mtr && mtr.gridImportWh === undefined, 'missing is undefined, not 0');
    t.equal(mtr.gridW, expectedMeter(s.state()).gridW, 'grid power, before the hole, is exact');
    const requests = server.requestCount() - requestsBefore;
    if (poll === 1) {
      t.equal(space.refused - refusedBefore >= 2, true, 'the first poll met both holes');
    } else {
      t.equal(space.refused - refusedBefore, 0, `poll ${poll}: no request hits a hole again`);
      t.equal(requests, inverter.requestsPerPoll()! + meter.requestsPerPoll()!, `poll ${poll}: exactly the planned requests`);
    }
  }
  t.comment(`requests per poll: inverter ${plainInverter.requestsPerPoll()} → ${inverter.requestsPerPoll()}, meter ${plainMeter.requestsPerPoll()} → ${meter.requestsPerPoll()}`);
  t.equal(link.stats().connects, 1, 'exception replies never reset the connection');
  t.equal(link.stats().errors.timeout, 0);
});
