/**
 * Device health through the API: the simulated household's Modbus server goes down for
 * a few seconds (a reboot); the status says `failing`, the events log says which devices
 * failed and when they recovered, the metrics count the connection errors.
 */
import t from 'tap';
import { apiConfig, getJson, startApiAgent, stateDir, until } from './helpers.js';

t.test('a device that stops answering, and comes back', async (t) => {
  const agent = await startApiAgent(t, apiConfig(stateDir(t, 'hl')));
  const base = agent.api!.url!;
  const api = async (path: string) => (await getJson(new URL(path, base).href)).body;
  await until('devices ok', async () => (await api('api/status')).health.devices === 'ok');

  const restarted = agent.simulator!.server.restart(3000);
  const failing = await until('health failing', async () => {
    const status = await api('api/status');
    return status.health.devices === 'failing' ? status : undefined;
  }, 10_000);
  t.equal(failing.health.devices, 'failing');
  const household = await api('api/household');
  t.match(household.reasons.pvW, /^last poll of (inverter|meter) failed$/, 'the household says why');
  t.equal(household.quality.pvW, 'stale');

  const failed = await until('device_failing events', async () => {
    const { events } = await api('api/events');
    const devices = events.filter((e: { kind: string }) => e.kind === 'device_failing').map((e: { device: string }) => e.device).sort();
    return devices.length === 2 ? devices : undefined;
  }, 10_000);
  t.strictSame(failed, ['inverter', 'meter'], 'both devices on the link failed');

  await restarted;
  await until('health ok again', async () => (await api('api/status')).health.devices === 'ok', 30_000);
  const { events } = await api('api/events');
  t.strictSame(events.filter((e: { kind: string }) => e.kind === 'device_recovered').map((e: { device: string }) => e.device).sort(), ['inverter', 'meter'], 'and both recovered');
  t.equal(events[0].kind, 'device_recovered', 'newest first');
  t.match(events.find((e: { kind: string }) => e.kind === 'device_failing'), { at: Number, reason: 'poll failed', count: 1 });

  const metrics = await (await fetch(new URL('metrics', base))).text();
  const errors = Number(/\ntonari_modbus_errors_total\{link="sim",kind="connection"\} (\d+)\n/.exec(metrics)?.[1]);
  t.ok(errors > 0, `connection errors counted (${errors})`);
  t.match(metrics, /\ntonari_modbus_connected\{link="sim"\} 1\n/, 'connected again');
});
