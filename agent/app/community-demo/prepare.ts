/**
 * Gets the demo community's directory ready before any agent starts: one
 * directory per household (tonari.yaml, state/, tonari.log), the identity keys
 * created first so that every configuration can pin and trust the others'
 * fingerprints, free ports picked for every broker and dashboard, and the state of
 * an earlier run cleared: each run starts a fresh timeline with fresh ledgers, but
 * keeps the households' keys. Refuses a directory whose agents still run. The
 * configurations are written last (writeConfigs), once the launcher knows which
 * port each agent dials for each neighbour.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { parseConfigText } from '../../config/parse.js';
import { ConfigError } from '../../config/errors.js';
import { controlSocketPath } from '../../control/client.js';
import type { Clock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { IdentityError, KEY_FILE, loadOrCreateIdentity } from '../../identity/key-store.js';
import { DEMO_HOST, householdConfigText, type DemoMember } from './config-text.js';
import { demoHouseholds, type DemoHousehold } from './households.js';
import type { DemoTiming } from './timing.js';

export class DemoSetupError extends Error {
  constructor(message: string, readonly code: 'busy' | 'path' | 'io') {
    super(message);
    this.name = 'DemoSetupError';
  }
}

export interface PreparedMember extends DemoMember {
  dir: string;
  configPath: string;
  logPath: string;
}

export interface PreparedCommunity {
  dir: string;
  households: DemoHousehold[];
  members: PreparedMember[];
  timing: DemoTiming;
}

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with its terminating NUL). */
const MAX_SOCKET_PATH = 107;
/** Written in the community directory while the launcher runs: its pid and its agents'. */
export const PIDS_FILE = 'demo.pids';

export async function prepareCommunity(options: { dir: string; households: number; timing: DemoTiming; clock: Clock }): Promise<PreparedCommunity> {
  const dir = resolve(options.dir);
  const households = demoHouseholds(options.households);
  const layout = households.map((household) => {
    const hdir = join(dir, household.slug);
    return { household, dir: hdir, stateDir: join(hdir, 'state'), configPath: join(hdir, 'tonari.yaml'), logPath: join(hdir, 'tonari.log') };
  });
  const longest = layout.map((l) => controlSocketPath(l.stateDir)).sort((a, b) => Buffer.byteLength(b) - Buffer.byteLength(a))[0]!;
  if (Buffer.byteLength(longest) > MAX_SOCKET_PATH) {
    throw new DemoSetupError(`${dir} is too deep: the agents' control sockets (${longest}) would exceed the ${MAX_SOCKET_PATH}-byte limit of a unix socket path; choose a shorter --dir, e.g. /tmp/tonari-demo`, 'path');
  }
  const running = await Promise.all(layout.map((l) => answers(controlSocketPath(l.stateDir))));
  if (running.some(Boolean)) {
    const names = layout.filter((_, i) => running[i]).map((l) => l.household.name);
    throw new DemoSetupError(`agents of an earlier demo still run in ${dir} (${names.join(', ')}): stop that demo with Ctrl-C, or stop its agents (their pids are in ${join(dir, PIDS_FILE)}), or give another --dir`, 'busy');
  }

  const members: PreparedMember[] = [];
  const ports = await freePorts(2 * households.length);
  for (const [i, l] of layout.entries()) {
    try {
      await mkdir(l.dir, { recursive: true, mode: 0o700 });
      await clearState(l.stateDir);
      const identity = await loadOrCreateIdentity(l.stateDir, { clock: options.clock, log: silentLogger() });
      members.push({ ...l, meshPort: ports[2 * i]!, apiPort: ports[2 * i + 1]!, fingerprint: identity.fingerprint, peerId: identity.peerId });
    } catch (error) {
      if (error instanceof IdentityError) throw new DemoSetupError(`${l.household.name}: ${error.message}`, 'io');
      throw new DemoSetupError(`cannot prepare ${l.dir}: ${(error as Error).message}; check that you may write there, or give another --dir`, 'io');
    }
  }
  return { dir, households, members, timing: options.timing };
}

/**
 * Writes every household's tonari.yaml. `peerPort(from, to)`: the port household `from` dials
 * for `to`'s broker (default: the broker's own port).
 */
export async function writeConfigs(community: PreparedCommunity, peerPort?: (from: PreparedMember, to: PreparedMember) => number): Promise<void> {
  const { members, timing } = community;
  for (const member of members) {
    const text = householdConfigText(member, members, timing, peerPort ? (to) => peerPort(member, to as PreparedMember) : undefined);
    try {
      parseConfigText(text, member.configPath); // a bug here must not surface as every agent failing to start
    } catch (error) {
      if (error instanceof ConfigError) throw new Error(`tonari demo wrote an invalid configuration (a bug): ${error.format()}`);
      throw error;
    }
    try {
      await writeFile(member.configPath, text, { mode: 0o600 });
    } catch (error) {
      throw new DemoSetupError(`cannot write ${member.configPath}: ${(error as Error).message}`, 'io');
    }
  }
}

/** Everything in a state directory but the identity key: the ledger, history, replay records, pairings. */
async function clearState(stateDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(stateDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  await Promise.all(entries.filter((e) => e !== KEY_FILE).map((e) => rm(join(stateDir, e), { recursive: true, force: true })));
}

/** True when something accepts connections on the unix socket (a running agent's control socket). */
function answers(path: string): Promise<boolean> {
  return new Promise((done) => {
    const socket = net.connect(path);
    const finish = (result: boolean) => { socket.destroy(); done(result); };
    socket.setTimeout(1000, () => finish(true)); // connected but silent still means someone is there
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * Distinct free TCP ports on 127.0.0.1: all held open at once so none repeats, then released
 * for the agents. Another program could take one in between; the agent then says its port is
 * in use and the launcher reports it.
 */
export async function freePorts(count: number, host = DEMO_HOST): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      await new Promise<void>((ok, fail) => { server.once('error', fail); server.listen(0, host, ok); });
      servers.push(server);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
  }
}

/** Records who runs, so a later `tonari demo` can say which processes still hold the directory. */
export async function writePids(dir: string, pids: { launcher: number; agents: Record<string, number | undefined> }): Promise<void> {
  await writeFile(join(dir, PIDS_FILE), `${JSON.stringify(pids)}\n`).catch(() => undefined);
}

export async function removePids(dir: string): Promise<void> {
  await rm(join(dir, PIDS_FILE), { force: true });
}
