/**
 * Interop with a Modbus server nobody here wrote: pymodbus (Debian
 * python3-pymodbus) serves register images written by hand in
 * test/fixtures/registers/*.json, and tonari's ModbusLink + SunSpecDevice
 * must decode the household values computed by hand in the same files;
 * `tonari scan` must report the identities and model chains exactly.
 */
import t, { type Test } from 'tap';
import { unitReader } from '../../agent/app/devices.js';
import { silentLogger } from '../../agent/core/log.js';
import { ModbusLink } from '../../agent/devices/modbus/index.js';
import { SunSpecDevice } from '../../agent/devices/sunspec/device.js';
import type { DeviceMeasurement } from '../../agent/household/quantities.js';
import { pythonModuleAvailable, requireTool } from '../helpers/tools.js';
import {
  cliBuilt, expectedMeasurement, loadFixture, parseScanJson, runCli, startPymodbus, type FixtureDevice, type RegisterFixture,
} from './helpers.js';

const FIXTURES = ['solaredge.json', 'fronius.json', 'sma.json'] as const;

const havePymodbus = pythonModuleAvailable('pymodbus.server.async_io');

function linkTo(port: number): ModbusLink {
  return new ModbusLink({ name: 'pymodbus', type: 'tcp', host: '127.0.0.1', port, timeout: 3000, connectDelay: 0, interRequestDelay: 0 });
}

/** Exactly the expected keys, each value identical (undefined = missing, never 0). */
function checkMeasurement(t: Test, actual: DeviceMeasurement, expected: DeviceMeasurement, what: string): void {
  t.same(Object.keys(actual).sort(), Object.keys(expected).sort(), `${what}: the quantities measured`);
  for (const key of Object.keys(expected) as (keyof DeviceMeasurement)[]) {
    t.equal(actual[key], expected[key], `${what}: ${key} = ${String(expected[key])}`);
  }
}

/** The scan entry that describes the same chain device as `d` (scan lists a unit's subdevices in chain order). */
function scanEntryOf(fixture: RegisterFixture, d: FixtureDevice) {
  return fixture.scan.filter((e) => e.unit === d.unit)[d.subdevice];
}

t.test('SunSpecDevice decodes hand-written register images served by pymodbus', async (t) => {
  if (!requireTool(t, havePymodbus, 'pymodbus for /usr/bin/python3', 'python3-pymodbus python3-serial python3-serial-asyncio')) return;
  for (const name of FIXTURES) {
    await t.test(name, async (t) => {
      const fixture = loadFixture(name);
      const server = await startPymodbus(t, [name]);
      const link = linkTo(server.port);
      t.teardown(() => link.close());
      for (const d of fixture.devices) {
        const expected = expectedMeasurement(d);
        // The values must not depend on how the reads are grouped: one request per value, or whole blocks.
        for (const maxGap of [0, 31, 124]) {
          const device = new SunSpecDevice({
            name: d.name, roles: d.roles, reader: unitReader(link, d.unit), subdevice: d.subdevice,
            invertGrid: d.invertGrid, maxGap, log: silentLogger(),
          });
          const what = `${d.name} (unit ${d.unit}, subdevice ${d.subdevice}, maxGap ${maxGap})`;
          checkMeasurement(t, await device.poll(), expected, `${what} first poll`);
          checkMeasurement(t, await device.poll(), expected, `${what} second poll`);
          const described = device.describe();
          t.same(described?.models, d.models, `${what}: model chain`);
          t.equal(described?.baseAddress, 40000, `${what}: base address`);
          const entry = scanEntryOf(fixture, d);
          t.ok(entry, `${what}: the fixture lists its identity`);
          t.same(
            [described?.identity?.manufacturer, described?.identity?.model, described?.identity?.serial, described?.identity?.version],
            [entry?.manufacturer, entry?.model, entry?.serial, entry?.version],
            `${what}: identity from model 1`,
          );
        }
      }
      t.equal(link.stats().connects, 1, 'exception replies (SMA: no end marker) never cost a reconnect');
      if (!t.passing()) t.comment(`pymodbus stderr:\n${server.stderr()}`);
    });
  }
});

t.test('tonari scan (built CLI) reports pymodbus-served devices exactly', async (t) => {
  if (!requireTool(t, havePymodbus, 'pymodbus for /usr/bin/python3', 'python3-pymodbus python3-serial python3-serial-asyncio')) return;
  if (!cliBuilt()) {
    t.fail('dist/agent/cli/bin.js is missing: run `npm run build` first (npm test does)');
    return;
  }

  await t.test('SolarEdge chain on unit 1 and SMA on unit 126', async (t) => {
    const server = await startPymodbus(t, ['solaredge.json', 'sma.json']);
    const res = await runCli(['scan', '--host', '127.0.0.1', '--port', String(server.port), '--units', '1,126', '--json']);
    t.equal(res.code, 0, `exit code 0 (stderr: ${res.stderr})`);
    t.strictSame(parseScanJson(res.stdout), [...loadFixture('solaredge.json').scan, ...loadFixture('sma.json').scan]);
    t.match(res.stderr, /unit 1\b/);
    t.match(res.stderr, /unit 126\b/);
    t.match(res.stderr, /3 SunSpec device\(s\) found/);
  });

  await t.test('Fronius inverter on unit 1 and float meter on unit 200', async (t) => {
    const server = await startPymodbus(t, ['fronius.json']);
    const res = await runCli(['scan', '--host', '127.0.0.1', '--port', String(server.port), '--units', '1,200', '--json']);
    t.equal(res.code, 0, `exit code 0 (stderr: ${res.stderr})`);
    t.strictSame(parseScanJson(res.stdout), loadFixture('fronius.json').scan);
  });

  await t.test('a unit pymodbus does not serve is reported as no answer', async (t) => {
    // pymodbus 3.0 drops requests for unit ids it does not serve, so the client times out.
    const server = await startPymodbus(t, ['sma.json']);
    const res = await runCli(['scan', '--host', '127.0.0.1', '--port', String(server.port), '--units', '7,126', '--timeout', '300ms', '--json']);
    t.equal(res.code, 0, `exit code 0 (stderr: ${res.stderr})`);
    t.strictSame(parseScanJson(res.stdout), loadFixture('sma.json').scan, 'unit 126 is still found after unit 7 timed out');
    t.match(res.stderr, /unit 7 \.\.\.\n\s+no answer/);
  });
});
