/**
 * Home Assistant MQTT discovery (pure): the retained config of every sensor, under
 * `<discoveryPrefix>/sensor/<node>/<object>/config`, and the one JSON state they all
 * read with a value_template. Missing or stale values are null, which the template
 * renders as "None" and Home Assistant shows as unknown, never as a zero.
 */
import type { HouseholdView, Money } from './types.js';

export interface HaDevice {
  peerId: string;
  /** household.name */
  name: string;
  version: string;
  discoveryPrefix: string;
}

export interface HaTopics {
  /** Node id in the discovery topics: tonari_ and the start of the peer id. */
  node: string;
  state: string;
  availability: string;
  /** Topic roots only local tools may read (the broker's ACL): never forwarded to neighbours. */
  localRoots: string[];
}

export const PAYLOAD_AVAILABLE = 'online';
export const PAYLOAD_NOT_AVAILABLE = 'offline';

export function haTopics(peerId: string, discoveryPrefix: string): HaTopics {
  const base = `tonari/${peerId}/ha`;
  return { node: `tonari_${peerId.slice(0, 8)}`, state: `${base}/state`, availability: `${base}/availability`, localRoots: [discoveryPrefix, base] };
}

/** What the state topic carries. */
export interface HaState {
  pv_w: number | null;
  load_w: number | null;
  grid_w: number | null;
  battery_w: number | null;
  soc_pct: number | null;
  grid_import_wh: number | null;
  grid_export_wh: number | null;
  earnings_today_yen: number;
  savings_today_yen: number;
  peers_connected: number;
  contracts_today: number;
}

interface Sensor {
  object: string;
  name: string;
  key: keyof HaState;
  unit?: string;
  deviceClass?: string;
  stateClass?: 'measurement' | 'total' | 'total_increasing';
  icon?: string;
  precision?: number;
}

export const HA_SENSORS: readonly Sensor[] = [
  { object: 'pv_power', name: 'PV power', key: 'pv_w', unit: 'W', deviceClass: 'power', stateClass: 'measurement', icon: 'mdi:solar-power' },
  { object: 'load_power', name: 'Load', key: 'load_w', unit: 'W', deviceClass: 'power', stateClass: 'measurement', icon: 'mdi:home-lightning-bolt' },
  { object: 'grid_power', name: 'Grid power', key: 'grid_w', unit: 'W', deviceClass: 'power', stateClass: 'measurement', icon: 'mdi:transmission-tower' },
  { object: 'battery_power', name: 'Battery power', key: 'battery_w', unit: 'W', deviceClass: 'power', stateClass: 'measurement', icon: 'mdi:home-battery' },
  { object: 'battery_soc', name: 'Battery state of charge', key: 'soc_pct', unit: '%', deviceClass: 'battery', stateClass: 'measurement', precision: 1 },
  { object: 'grid_import', name: 'Grid import', key: 'grid_import_wh', unit: 'Wh', deviceClass: 'energy', stateClass: 'total_increasing' },
  { object: 'grid_export', name: 'Grid export', key: 'grid_export_wh', unit: 'Wh', deviceClass: 'energy', stateClass: 'total_increasing' },
  { object: 'earnings_today', name: 'Earnings today', key: 'earnings_today_yen', unit: 'JPY', deviceClass: 'monetary', icon: 'mdi:cash', precision: 2 },
  { object: 'savings_today', name: 'Savings today', key: 'savings_today_yen', unit: 'JPY', deviceClass: 'monetary', icon: 'mdi:piggy-bank', precision: 2 },
  { object: 'peers_connected', name: 'Neighbours connected', key: 'peers_connected', stateClass: 'measurement', icon: 'mdi:home-group' },
  { object: 'contracts_today', name: 'Contracts today', key: 'contracts_today', stateClass: 'measurement', icon: 'mdi:handshake' },
];

/** Every discovery config: topic and JSON payload (published retained). */
export function discoveryConfigs(device: HaDevice): { topic: string; payload: Record<string, unknown> }[] {
  const topics = haTopics(device.peerId, device.discoveryPrefix);
  const deviceBlock = {
    identifiers: [`tonari_${device.peerId}`],
    name: device.name,
    manufacturer: 'tonari',
    model: 'tonari agent',
    sw_version: device.version,
  };
  return HA_SENSORS.map((sensor) => ({
    topic: `${device.discoveryPrefix}/sensor/${topics.node}/${sensor.object}/config`,
    payload: {
      name: sensor.name,
      unique_id: `tonari_${device.peerId}_${sensor.object}`,
      state_topic: topics.state,
      value_template: `{{ value_json.${sensor.key} }}`,
      availability_topic: topics.availability,
      payload_available: PAYLOAD_AVAILABLE,
      payload_not_available: PAYLOAD_NOT_AVAILABLE,
      ...(sensor.unit ? { unit_of_measurement: sensor.unit } : {}),
      ...(sensor.deviceClass ? { device_class: sensor.deviceClass } : {}),
      ...(sensor.stateClass ? { state_class: sensor.stateClass } : {}),
      ...(sensor.icon ? { icon: sensor.icon } : {}),
      ...(sensor.precision !== undefined ? { suggested_display_precision: sensor.precision } : {}),
      device: deviceBlock,
      origin: { name: 'tonari', sw_version: device.version },
    },
  }));
}

const ok = (h: HouseholdView | null, key: keyof Omit<HouseholdView, 'at' | 'quality' | 'reasons'>): number | null =>
  h && h.quality[key] === 'ok' ? h[key] : null;

const yen = (millisen: number) => Math.round(millisen / 1000) / 100;

/** The state topic's JSON: only current (ok) household values; money of today's settled trades in yen. */
export function haState(input: { household: HouseholdView | null; today: Money; peersConnected: number; contractsToday: number }): HaState {
  const h = input.household;
  return {
    pv_w: ok(h, 'pvW'),
    load_w: ok(h, 'loadW'),
    grid_w: ok(h, 'gridW'),
    battery_w: ok(h, 'batteryW'),
    soc_pct: ok(h, 'socPct'),
    grid_import_wh: ok(h, 'gridImportWh'),
    grid_export_wh: ok(h, 'gridExportWh'),
    earnings_today_yen: yen(input.today.receivedMillisen - input.today.paidMillisen),
    savings_today_yen: yen(input.today.savingsMillisen),
    peers_connected: input.peersConnected,
    contracts_today: input.contractsToday,
  };
}
