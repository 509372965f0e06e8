/**
 * `tonari run --demo` on a developer's machine: the mesh runs, but only on
 * 127.0.0.1 with a free port, without mDNS (a demo never multicasts from the
 * host's network) and without the plaintext listener (1883 may be taken). The
 * dashboard listens on 127.0.0.1 at a free port (7464 may be taken too; the log line
 * `dashboard` tells its URL). Without a configuration file the state (identity key,
 * pairings, replay records, the control socket) lives in ./.tonari-demo, so the demo
 * keeps its identity across runs and `tonari peers --state-dir .tonari-demo` finds it.
 */
import { resolve } from 'node:path';
import type { Config } from '../config/index.js';

export const DEMO_STATE_DIR = '.tonari-demo';

export function demoConfig(config: Config, options: { cwd: string; keepStateDir: boolean }): Config {
  return {
    ...config,
    devices: {},
    links: {},
    stateDir: options.keepStateDir ? config.stateDir : resolve(options.cwd, DEMO_STATE_DIR),
    mesh: { ...config.mesh, listen: { host: '127.0.0.1', port: 0 }, localPort: null, discovery: false },
    api: { ...config.api, listen: { host: '127.0.0.1', port: 0 } },
  };
}
