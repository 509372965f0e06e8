/**
 * Network-namespace LANs for system tests. Every multicast a test makes stays
 * inside namespaces created here: a "switch" namespace with a bridge, and one
 * namespace per host joined to it by a veth pair, addressed in 169.254.K.0/24.
 * Nothing is configured in the host's own namespace.
 *
 * Namespace names are `<prefix>-<pid>-<rand>-sw|h<i>`; stale ones whose
 * creating process is gone are removed by the next createLan().
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { requireTool } from '../helpers/tools.js';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface LanHost {
  /** Namespace name. */
  ns: string;
  /** The host's LAN interface inside its namespace. */
  iface: string;
  /** IPv4 address on the LAN. */
  address: string;
  /** Prefix length of `address`. */
  prefixLength: number;
  /** Spawns `cmd` inside the namespace; killed by destroy(). */
  exec(cmd: string, args?: string[], opts?: SpawnOptions): ChildProcess;
  /** Runs `cmd` inside the namespace to completion (bounded by timeoutMs, default 20 s). */
  run(cmd: string, args?: string[], opts?: { timeoutMs?: number; input?: string }): RunResult;
  /** Spawns this Node binary on `script` inside the namespace. */
  node(script: string, args?: string[], opts?: SpawnOptions): ChildProcess;
  /** Sets the LAN link down or up; up re-adds the multicast route a flap deletes. */
  setLink(up: boolean): void;
}

export interface Lan {
  hosts: LanHost[];
  switchNs: string;
  /** Kills every child spawned through the hosts and deletes all namespaces. Idempotent. */
  destroy(): void;
}

export interface LanOptions {
  /** Namespace name prefix; default 'tonari'. */
  prefix?: string;
}

const IP = 'ip';

function ip(args: string[], timeoutMs = 10_000): RunResult {
  const res = spawnSync(IP, args, { encoding: 'utf8', timeout: timeoutMs });
  return { status: res.status, stdout: res.stdout ?? '', stderr: res.error ? String(res.error) : res.stderr ?? '' };
}

function mustIp(args: string[]): void {
  const res = ip(args);
  if (res.status !== 0) throw new Error(`ip ${args.join(' ')} failed (${res.status}): ${res.stderr.trim()}`);
}

/** Why namespaces cannot be made here, or undefined if they can. */
export function netnsUnavailableReason(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root';
  const res = ip(['netns', 'list']);
  if (res.status !== 0) return `\`ip netns list\` failed: ${res.stderr.trim() || 'ip not found'}`;
  return undefined;
}

interface TapLike {
  fail(message: string): unknown;
  pass(message: string, extra: { skip: string }): unknown;
}

/** True if the suite can make namespaces; otherwise fails under CI=true and skips loudly elsewhere. */
export function requireNetns(t: TapLike): boolean {
  const why = netnsUnavailableReason();
  if (why !== undefined) process.stderr.write(`netns unavailable: ${why}\n`);
  return requireTool(t, why === undefined, 'root with iproute2 `ip netns`', 'iproute2 (and run as root)');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes `<prefix>-<pid>-…` namespaces whose creating process no longer runs. */
export function cleanupStaleNamespaces(prefix = 'tonari'): string[] {
  const res = ip(['netns', 'list']);
  if (res.status !== 0) return [];
  const pattern = new RegExp(`^${prefix.replace(/[^A-Za-z0-9_-]/g, '')}-(\\d+)-[0-9a-f]{6}-(sw|h\\d+)$`);
  const removed: string[] = [];
  for (const line of res.stdout.split('\n')) {
    const name = line.trim().split(/\s+/)[0] ?? '';
    const m = pattern.exec(name);
    if (!m) continue;
    if (pidAlive(Number(m[1]))) continue;
    if (ip(['netns', 'del', name]).status === 0) removed.push(name);
  }
  return removed;
}

const liveLans = new Set<Lan>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const lan of [...liveLans]) lan.destroy();
  });
}

/** Builds `n` hosts on one bridged LAN. Throws (after cleaning up) if any step fails. */
export function createLan(n: number, options: LanOptions = {}): Lan {
  if (!Number.isInteger(n) || n < 1 || n > 50) throw new RangeError(`1..50 hosts, got ${n}`);
  const prefix = options.prefix ?? 'tonari';
  if (!/^[A-Za-z0-9_-]{1,20}$/.test(prefix)) throw new RangeError(`bad prefix ${prefix}`);
  cleanupStaleNamespaces(prefix);
  const base = `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const switchNs = `${base}-sw`;
  const subnet = randomInt(1, 255);
  const namespaces: string[] = [];
  const children = new Set<ChildProcess>();
  let destroyed = false;

  const lan: Lan = {
    hosts: [],
    switchNs,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      liveLans.delete(lan);
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) {
          try {
            child.kill('SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      children.clear();
      for (const ns of [...namespaces].reverse()) ip(['netns', 'del', ns]);
    },
  };
  liveLans.add(lan);
  installExitHook();

  try {
    mustIp(['netns', 'add', switchNs]);
    namespaces.push(switchNs);
    mustIp(['-n', switchNs, 'link', 'set', 'lo', 'up']);
    mustIp(['-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    mustIp(['-n', switchNs, 'link', 'set', 'br0', 'up']);
    for (let i = 1; i <= n; i++) {
      const ns = `${base}-h${i}`;
      mustIp(['netns', 'add', ns]);
      namespaces.push(ns);
      const iface = 'veth0';
      const address = `169.254.${subnet}.${i}`;
      mustIp(['-n', switchNs, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', iface, 'netns', ns]);
      mustIp(['-n', switchNs, 'link', 'set', `p${i}`, 'master', 'br0']);
      mustIp(['-n', switchNs, 'link', 'set', `p${i}`, 'up']);
      mustIp(['-n', ns, 'link', 'set', 'lo', 'up']);
      mustIp(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', iface]);
      mustIp(['-n', ns, 'link', 'set', iface, 'up', 'multicast', 'on']);
      mustIp(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', iface]);
      const exec = (cmd: string, args: string[] = [], opts: SpawnOptions = {}): ChildProcess => {
        if (destroyed) throw new Error('LAN destroyed');
        const child = spawn(IP, ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
        children.add(child);
        child.once('exit', () => children.delete(child));
        return child;
      };
      lan.hosts.push({
        ns, iface, address, prefixLength: 24,
        exec,
        run(cmd, args = [], opts = {}) {
          const res = spawnSync(IP, ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 20_000, input: opts.input ?? '' });
          return { status: res.status, stdout: res.stdout ?? '', stderr: res.error ? String(res.error) : res.stderr ?? '' };
        },
        node(script, args = [], opts = {}) {
          return exec(process.execPath, [script, ...args], opts);
        },
        setLink(up) {
          mustIp(['-n', ns, 'link', 'set', iface, up ? 'up' : 'down']);
          if (up) {
            const res = ip(['-n', ns, 'route', 'replace', '224.0.0.0/4', 'dev', iface]);
            if (res.status !== 0) throw new Error(`re-adding the multicast route failed: ${res.stderr.trim()}`);
          }
        },
      });
    }
  } catch (err) {
    lan.destroy();
    throw err;
  }
  return lan;
}
