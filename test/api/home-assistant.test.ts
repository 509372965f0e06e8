/**
 * Home Assistant discovery on a running agent's embedded broker, read by real MQTT
 * clients on the local plaintext listener: retained discovery configs with the right
 * JSON, a state that moves, availability online at start and offline on stop. A trusted
 * neighbour on the TLS listener cannot subscribe to any of it. mosquitto_sub, an
 * independent client, sees the same configs.
 */
import { spawn } from 'node:child_process';
import t from 'tap';
import { HA_SENSORS } from '../../agent/api/ha-payloads.js';
import { freePort } from '../app/helpers.js';
import { collect, connectLocalTo, connectPeerTo, makeIdentity, subscribeGranted } from '../broker/helpers.js';
import { requireTool, toolAvailable } from '../helpers/tools.js';
import { apiConfig, startApiAgent, stateDir, until } from './helpers.js';

t.test('discovery configs, state and availability on the local listener', async (t) => {
  const localPort = await freePort();
  const neighbour = makeIdentity('ha-neighbour');
  const config = apiConfig(stateDir(t, 'ha'), (c) => ({
    ...c, mesh: { ...c.mesh, localPort }, trust: { peers: [{ fingerprint: neighbour.fingerprint, name: 'next door' }] },
  }));
  const agent = await startApiAgent(t, config, { api: { haStateEveryMs: 300 } });
  const peerId = agent.neighbours!.identity.peerId;
  const node = `tonari_${peerId.slice(0, 8)}`;
  const stateTopic = `tonari/${peerId}/ha/state`;
  const availability = `tonari/${peerId}/ha/availability`;

  const local = await connectLocalTo(t, localPort, { clientId: 'home-assistant' });
  const seen = collect(local);
  t.equal(await subscribeGranted(local, 'homeassistant/#', 1), 1, 'homeassistant/# is granted');
  t.equal(await subscribeGranted(local, `tonari/${peerId}/ha/#`, 1), 1, 'the state and availability topics are granted');
  t.equal(await subscribeGranted(local, 'elsewhere/#', 0), 128, 'nothing else outside the namespace');
  t.equal(await subscribeGranted(local, 'tonari/#', 0), 128, 'nor all of tonari/');

  await until('every config, a state and the availability', () =>
    seen.filter((m) => m.topic.endsWith('/config')).length === HA_SENSORS.length && seen.some((m) => m.topic === stateTopic) && seen.some((m) => m.topic === availability), 5000);
  const configs = seen.filter((m) => m.topic.endsWith('/config'));
  t.ok(configs.every((m) => m.retain), 'discovery configs are retained');
  t.strictSame(configs.map((m) => m.topic).sort(), HA_SENSORS.map((s) => `homeassistant/sensor/${node}/${s.object}/config`).sort());
  const byObject = new Map(configs.map((m) => [m.topic.split('/')[3]!, JSON.parse(m.payload) as Record<string, unknown>]));
  const device = { identifiers: [`tonari_${peerId}`], name: 'Sato house', manufacturer: 'tonari', model: 'tonari agent', sw_version: agent.model.sources.version };
  t.strictSame(byObject.get('pv_power'), {
    name: 'PV power', unique_id: `tonari_${peerId}_pv_power`, state_topic: stateTopic, value_template: '{{ value_json.pv_w }}',
    availability_topic: availability, payload_available: 'online', payload_not_available: 'offline',
    unit_of_measurement: 'W', device_class: 'power', state_class: 'measurement', icon: 'mdi:solar-power',
    device, origin: { name: 'tonari', sw_version: agent.model.sources.version },
  });
  t.match(byObject.get('grid_import'), { device_class: 'energy', state_class: 'total_increasing', unit_of_measurement: 'Wh', value_template: '{{ value_json.grid_import_wh }}', device });
  t.match(byObject.get('grid_export'), { device_class: 'energy', state_class: 'total_increasing', unit_of_measurement: 'Wh' });
  t.match(byObject.get('battery_soc'), { device_class: 'battery', unit_of_measurement: '%', value_template: '{{ value_json.soc_pct }}' });
  t.match(byObject.get('earnings_today'), { device_class: 'monetary', unit_of_measurement: 'JPY' });
  t.match(byObject.get('peers_connected'), { value_template: '{{ value_json.peers_connected }}' });
  t.match(byObject.get('contracts_today'), { value_template: '{{ value_json.contracts_today }}' });
  t.strictSame(seen.filter((m) => m.topic === availability).map((m) => [m.payload, m.retain]), [['online', true]], 'online, retained');

  // The state moves with the household (the simulated day runs 60 times faster).
  const states = () => seen.filter((m) => m.topic === stateTopic).map((m) => JSON.parse(m.payload) as Record<string, number | null>);
  await until('a complete state', () => states().some((s) => s.pv_w !== null && s.grid_export_wh !== null), 10_000);
  const first = states().find((s) => s.pv_w !== null && s.grid_export_wh !== null)!;
  t.match(first, { pv_w: Number, load_w: Number, grid_w: Number, battery_w: Number, soc_pct: Number, grid_import_wh: Number, grid_export_wh: Number, earnings_today_yen: 0, savings_today_yen: 0, peers_connected: 0, contracts_today: 0 });
  t.ok(first.pv_w! > 0, 'noon: PV produces');
  const moved = await until('a state with other values', () => states().find((s) => s !== first && (s.grid_export_wh !== first.grid_export_wh || s.grid_import_wh !== first.grid_import_wh || s.load_w !== first.load_w)), 10_000);
  t.ok(moved, `the state changed (export ${first.grid_export_wh} → ${moved.grid_export_wh} Wh)`);
  await agent.poller.stop(); // frozen: the household and the state can be compared exactly
  const household = agent.model.household()!;
  const latest = await agent.api!.homeAssistant!.publishState();
  t.strictSame([latest.pv_w, latest.load_w, latest.grid_w, latest.battery_w, latest.soc_pct, latest.grid_import_wh, latest.grid_export_wh],
    [household.pvW, household.loadW, household.gridW, household.batteryW, household.socPct, household.gridImportWh, household.gridExportWh], 'the state is the household the API shows');
  await until('that state delivered', () => JSON.stringify(states().at(-1)) === JSON.stringify(latest), 3000);

  // A trusted neighbour on the TLS listener: none of it.
  const tls = agent.neighbours!.broker!.tlsAddress();
  const peer = await connectPeerTo(t, tls.port, agent.neighbours!.identity.fingerprint, neighbour);
  const peerSeen = collect(peer);
  t.equal(await subscribeGranted(peer, 'homeassistant/#', 1), 128, 'a neighbour may not subscribe to the discovery prefix');
  t.equal(await subscribeGranted(peer, `tonari/${peerId}/ha/#`, 1), 128, 'nor to the state');
  t.equal(await subscribeGranted(peer, `tonari/v1/${peerId}/status`, 1), 1, 'what a neighbour may read still works');
  await agent.api!.homeAssistant!.publishState();
  await new Promise((r) => setTimeout(r, 300));
  t.ok(peerSeen.every((m) => m.topic.startsWith('tonari/v1/')), 'the neighbour received nothing of Home Assistant\'s');

  // Stop: availability goes offline before the broker closes.
  await agent.stop();
  const offline = seen.filter((m) => m.topic === availability).map((m) => m.payload);
  t.strictSame(offline, ['online', 'offline'], 'offline on stop');
});

t.test('mosquitto_sub, an independent client, reads the retained discovery', async (t) => {
  if (!requireTool(t, toolAvailable('mosquitto_sub', ['--help']), 'mosquitto_sub', 'mosquitto-clients')) return;
  const localPort = await freePort();
  const config = apiConfig(stateDir(t, 'ha2'), (c) => ({ ...c, mesh: { ...c.mesh, localPort }, homeAssistant: { enabled: true, discoveryPrefix: 'ha/discovery' } }));
  const agent = await startApiAgent(t, config);
  const peerId = agent.neighbours!.identity.peerId;
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(localPort), '-V', 'mqttv311', '-t', 'ha/discovery/#', '-v', '-C', String(HA_SENSORS.length), '-W', '10']);
    let text = '';
    child.stdout.on('data', (c: Buffer) => { text += c.toString(); });
    child.on('error', reject);
    child.on('close', () => resolve(text));
  });
  const lines = out.trim().split('\n');
  t.equal(lines.length, HA_SENSORS.length, 'one line per sensor');
  for (const line of lines) {
    const space = line.indexOf(' ');
    const topic = line.slice(0, space);
    const payload = JSON.parse(line.slice(space + 1)) as { unique_id: string; state_topic: string };
    t.match(topic, new RegExp(`^ha/discovery/sensor/tonari_${peerId.slice(0, 8)}/[a-z_]+/config$`));
    t.equal(payload.state_topic, `tonari/${peerId}/ha/state`);
    t.match(payload.unique_id, new RegExp(`^tonari_${peerId}_`));
  }
});
