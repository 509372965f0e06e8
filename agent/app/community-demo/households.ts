/**
 * Who lives in the demo community: a name and simulated equipment per household.
 * Pure and deterministic, so `tonari demo --households N` always builds the same
 * street and a test can name the households it expects.
 */

/** The twenty most common Japanese family names, in order. */
export const DEMO_NAMES = [
  'Sato', 'Suzuki', 'Takahashi', 'Tanaka', 'Watanabe', 'Ito', 'Yamamoto', 'Nakamura', 'Kobayashi', 'Kato',
  'Yoshida', 'Yamada', 'Sasaki', 'Yamaguchi', 'Matsumoto', 'Inoue', 'Kimura', 'Hayashi', 'Shimizu', 'Saito',
] as const;

export const MIN_HOUSEHOLDS = 2;
export const MAX_HOUSEHOLDS = DEMO_NAMES.length;
/**
 * The most households whose agents can all mesh on one machine today. Every agent is a client
 * of every other agent's broker, and on loopback every client connects from 127.0.0.1 (whatever
 * 127.x address the broker listens on), so each broker sees N − 1 connections from one address.
 * The embedded broker accepts 4 per source address (broker DEFAULT_LIMITS.maxConnectionsPerAddress,
 * a flood guard for the LAN); a 6th household would find some brokers closed to it. A larger
 * community connects through the launcher's relays, which give each household an address of
 * its own (loopback-relay.ts).
 */
export const LOOPBACK_MAX_HOUSEHOLDS = 5;

export interface DemoHousehold {
  /** 0-based position; also decides the ports' order and the simulator seed. */
  index: number;
  name: string;
  /** Directory name under the community directory: the name in lower case. */
  slug: string;
  /** simulator.seed: weather and load noise of this home. */
  seed: number;
  /** simulator.pvWp; 0 for a household that only buys. */
  pvWp: number;
  /** simulator.batteryWh; 0 for none. */
  batteryWh: number;
}

/**
 * The street repeats five kinds of home: a seller without a battery (sells as soon as the sun is
 * up), a buyer, a large system with a battery (sells what the battery does not take), a second
 * buyer, and a small system that buys mornings and evenings and sells at noon. Two households
 * give one seller and one buyer, so any community of the demo can trade.
 */
const KINDS: readonly { pvWp: number; batteryWh: number }[] = [
  { pvWp: 6000, batteryWh: 0 },
  { pvWp: 0, batteryWh: 0 },
  { pvWp: 8000, batteryWh: 10_000 },
  { pvWp: 0, batteryWh: 0 },
  { pvWp: 3500, batteryWh: 5000 },
];

export function demoHouseholds(count: number): DemoHousehold[] {
  if (!Number.isInteger(count) || count < MIN_HOUSEHOLDS || count > MAX_HOUSEHOLDS) {
    throw new RangeError(`a demo community has ${MIN_HOUSEHOLDS} to ${MAX_HOUSEHOLDS} households, got ${count}`);
  }
  return Array.from({ length: count }, (_, index) => {
    const kind = KINDS[index % KINDS.length]!;
    const round = Math.floor(index / KINDS.length);
    // Later rounds of the same kind get a little less PV, so no two homes are identical.
    const pvWp = kind.pvWp === 0 ? 0 : Math.max(2000, kind.pvWp - round * 500);
    const name = DEMO_NAMES[index]!;
    return { index, name, slug: name.toLowerCase(), seed: index + 1, pvWp, batteryWh: kind.batteryWh };
  });
}

/** "6.0 kWp PV, 10 kWh battery" / "no PV (buys only)". */
export function describeEquipment(h: Pick<DemoHousehold, 'pvWp' | 'batteryWh'>): string {
  const pv = h.pvWp === 0 ? 'no PV (buys only)' : `${(h.pvWp / 1000).toFixed(1)} kWp PV`;
  const battery = h.batteryWh === 0 ? (h.pvWp === 0 ? '' : ', no battery') : `, ${(h.batteryWh / 1000).toFixed(0)} kWh battery`;
  return pv + battery;
}
