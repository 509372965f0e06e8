/**
 * The tonari.yaml of one demo household: its simulated equipment, its state
 * directory, a mesh on 127.0.0.1 with every other household as a static,
 * pinned and trusted neighbour (no mDNS: the demo never multicasts from the
 * host), the market windows stretched for the demo's speed, and the dashboard
 * on a port of its own. Pure: ports and fingerprints are given.
 */
import type { DemoHousehold } from './households.js';
import { timingYaml, type DemoTiming } from './timing.js';

/** What the launcher decided for one household before writing its configuration. */
export interface DemoMember {
  household: DemoHousehold;
  /** Absolute path of the agent's state directory (identity key, ledger, control socket). */
  stateDir: string;
  /** TLS port of its embedded broker on 127.0.0.1. */
  meshPort: number;
  /** Port of its HTTP API and dashboard on 127.0.0.1. */
  apiPort: number;
  /** Its identity key's fingerprint (64 hex digits) and peer id. */
  fingerprint: string;
  peerId: string;
}

export const DEMO_HOST = '127.0.0.1';
export const DEMO_TIME_ZONE = 'Asia/Tokyo';

/** A YAML double-quoted scalar (JSON strings are valid YAML); a hex fingerprint like 12e4… would otherwise read as a number. */
const quoted = (text: string) => JSON.stringify(text);

/**
 * `peerPort`: the port `me` dials on 127.0.0.1 to reach a neighbour's broker; default the
 * broker's own port (a launcher's relay port otherwise, see loopback-relay.ts).
 */
export function householdConfigText(me: DemoMember, community: readonly DemoMember[], timing: DemoTiming, peerPort: (to: DemoMember) => number = (to) => to.meshPort): string {
  const others = community.filter((m) => m !== me);
  const total = community.length;
  const t = timingYaml(timing);
  const h = me.household;
  return [
    `# tonari demo: household ${h.index + 1} of ${total}, ${h.name}.`,
    '# Written by `tonari demo` on every start; edits are overwritten.',
    'household:',
    `  name: ${quoted(h.name)}`,
    `  timezone: ${DEMO_TIME_ZONE}`,
    `stateDir: ${quoted(me.stateDir)}`,
    'log:',
    '  level: info',
    `# Read every ${t.interval} of simulated time, ${Math.round(timing.pollIntervalMs / timing.speed)} ms of real time at ${timing.speed}×.`,
    'poll:',
    `  interval: ${t.interval}`,
    `  staleAfter: ${t.staleAfter}`,
    'simulator:',
    `  seed: ${h.seed}`,
    `  pvWp: ${h.pvWp}`,
    `  batteryWh: ${h.batteryWh}`,
    'mesh:',
    '  listen:',
    `    host: ${DEMO_HOST}`,
    `    port: ${me.meshPort}`,
    '  localPort: none',
    '  discovery: false',
    '  peers:',
    ...others.map((o) => `    - { host: ${DEMO_HOST}, port: ${peerPort(o)}, fingerprint: ${quoted(o.fingerprint)} }  # ${o.household.name}${peerPort(o) === o.meshPort ? '' : `, through the launcher's relay to port ${o.meshPort}`}`),
    'trust:',
    '  peers:',
    ...others.map((o) => `    - { fingerprint: ${quoted(o.fingerprint)}, name: ${quoted(o.household.name)} }`),
    `# Stretched for ${timing.speed}×: at least 2 real seconds to reconcile, and 2 more to sign before the slot starts.`,
    'market:',
    `  gateClosure: ${t.gateClosure}`,
    `  reconcile: ${t.reconcile}`,
    'api:',
    '  listen:',
    `    host: ${DEMO_HOST}`,
    `    port: ${me.apiPort}`,
    '',
  ].join('\n');
}

/** The dashboard URL a member's API serves once it listens. */
export function dashboardUrl(member: Pick<DemoMember, 'apiPort'>): string {
  return `http://${DEMO_HOST}:${member.apiPort}/`;
}
