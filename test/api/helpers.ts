/**
 * A real agent for the API tests: the built-in simulated household (its day running 60
 * times faster, from noon in Tokyo), polled every 250 ms, its mesh and broker on
 * 127.0.0.1, the market, and the local API on a free port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { startAgent, type AgentOptions, type RunningAgent } from '../../agent/app/agent.js';
import { defaultConfig, type Config } from '../../agent/config/index.js';
import { ScaledClock, systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';

export const NOON_JST = Date.UTC(2026, 5, 21, 3, 0, 0);

/** A fresh state directory (short: the control socket's path is limited). */
export function stateDir(t: Test, name = 'api'): string {
  const dir = mkdtempSync(join(tmpdir(), `tn-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The config of a test agent: everything on 127.0.0.1, free ports, no mDNS; `change` edits it further. */
export function apiConfig(dir: string, change: (c: Config) => Config = (c) => c): Config {
  const base = defaultConfig();
  return change({
    ...base,
    stateDir: dir,
    household: { ...base.household, name: 'Sato house' },
    poll: { interval: 250, staleAfter: 2000 },
    mesh: { ...base.mesh, listen: { host: '127.0.0.1', port: 0 }, localPort: null, discovery: false },
    api: { ...base.api, listen: { host: '127.0.0.1', port: 0 } },
  });
}

export async function startApiAgent(t: Test, config: Config, extra: Partial<AgentOptions> = {}): Promise<RunningAgent> {
  const agent = await startAgent(config, {
    clock: systemClock, log: silentLogger(), statusEveryMs: 0, simulatorClock: new ScaledClock(NOON_JST, 60),
    neighbours: {}, api: { stream: { heartbeatMs: 1000 } }, market: { replanMs: 1e9 }, ...extra,
  });
  let stopped = false;
  t.teardown(async () => { if (!stopped) await agent.stop(); });
  const stop = agent.stop.bind(agent);
  agent.stop = async () => { stopped = true; await stop(); };
  return agent;
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 50 ms until it returns something other than undefined/false, or throws after `ms`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(50);
  }
}

export async function getJson<T = any>(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: T }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
}
