/**
 * systemd/tonari.service: clean for systemd-analyze verify, exposure at most 2.0
 * (SYS-1), and the settings the service depends on, each with the reason it is there.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT } from '../../agent/cli/io.js';
import { STOP_DEADLINE_MS } from '../../agent/service/stop.js';
import { requireTool, toolAvailable } from '../helpers/tools.js';

const unit = fileURLToPath(new URL('../../systemd/tonari.service', import.meta.url));
const text = readFileSync(unit, 'utf8');

/** Every `Key=value` of a section, in order (keys may repeat). */
function entries(section: string): [string, string][] {
  const out: [string, string][] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) { current = header[1]!; continue; }
    const eq = line.indexOf('=');
    if (current === section && eq > 0) out.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return out;
}
const values = (section: string, key: string) => entries(section).filter(([k]) => k === key).map(([, v]) => v);
const service = (key: string) => values('Service', key);
const words = (key: string) => service(key).flatMap((v) => v.split(/\s+/)).filter((w) => w !== '');

const EXEC_NODE = '/usr/bin/node';

/** The unit as verify will see it: as shipped when /usr/bin/node exists, else with this machine's node, as install.sh does. */
function unitForVerify(): { file: string; note: string; cleanup: () => void } {
  try {
    accessSync(EXEC_NODE, constants.X_OK);
    return { file: unit, note: 'the unit as shipped', cleanup: () => {} };
  } catch {
    const dir = mkdtempSync(path.join(tmpdir(), 'tn-unit-'));
    const file = path.join(dir, 'tonari.service');
    writeFileSync(file, text.replace(`ExecStart=${EXEC_NODE} `, `ExecStart=${process.execPath} `));
    return { file, note: `a copy with ExecStart's node rewritten to ${process.execPath} (as install.sh does)`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }
}

t.test('the unit file passes systemd-analyze verify without a warning', async (t) => {
  if (!requireTool(t, toolAvailable('systemd-analyze', ['--version']), 'systemd-analyze', 'systemd')) return;
  const target = unitForVerify();
  t.teardown(target.cleanup);
  const res = spawnSync('systemd-analyze', ['verify', target.file], { encoding: 'utf8' });
  t.equal(res.status, 0, target.note);
  t.equal(`${res.stdout}${res.stderr}`.trim(), '', 'systemd prints nothing for a clean unit');
});

t.test('the unit is hardened (exposure at most 2.0)', async (t) => {
  if (!requireTool(t, toolAvailable('systemd-analyze', ['--version']), 'systemd-analyze', 'systemd')) return;
  const res = spawnSync('systemd-analyze', ['security', '--offline=true', '--threshold=20', unit], { encoding: 'utf8' });
  const match = /Overall exposure level for tonari\.service: ([0-9.]+)/.exec(res.stdout);
  t.ok(match, 'systemd-analyze printed an exposure level');
  t.ok(Number(match?.[1]) <= 2.0, `exposure ${match?.[1]} <= 2.0`);
  t.equal(res.status, 0, '--threshold=20 passes (the CI gate of SYS-1)');
});

t.test('Type=notify with a watchdog the agent feeds through systemd-notify', async (t) => {
  t.same(service('Type'), ['notify']);
  t.same(service('NotifyAccess'), ['all'], 'systemd-notify is a child of node, not the main process');
  t.same(service('WatchdogSec'), ['60s'], 'SYS-3: 60 s');
  t.same(service('ExecStart'), [`${EXEC_NODE} /opt/tonari/dist/agent/cli/bin.js run --config /etc/tonari/tonari.yaml`]);
});

t.test('restarts: on failure, not on a configuration error, not forever; a stop within its deadline', async (t) => {
  t.same(service('Restart'), ['on-failure']);
  t.same(words('RestartPreventExitStatus'), [String(EXIT.CONFIG)], 'exit 78 (EX_CONFIG) is what tonari run returns for every configuration error');
  t.ok(values('Unit', 'StartLimitBurst').length === 1 && values('Unit', 'StartLimitIntervalSec').length === 1, 'a start limit');
  const stopSec = Number(/^(\d+)s$/.exec(service('TimeoutStopSec')[0] ?? '')?.[1]);
  t.ok(stopSec * 1000 >= STOP_DEADLINE_MS + 5_000, `TimeoutStopSec ${stopSec}s leaves at least 5 s after the agent's own ${STOP_DEADLINE_MS} ms stop deadline`);
});

t.test('its own user, state and configuration directories, serial ports reachable', async (t) => {
  t.same(service('DynamicUser'), ['yes']);
  t.same(service('StateDirectory'), ['tonari']);
  t.same(service('StateDirectoryMode'), ['0700'], 'keys and ledger: the service user only');
  t.same(service('ConfigurationDirectory'), ['tonari']);
  t.same(service('ConfigurationDirectoryMode'), ['0750'], 'CFG-1: not world-readable');
  t.same(words('SupplementaryGroups').sort(), ['dialout', 'tonari-config'], 'serial ports (dialout) and the configuration (tonari-config)');
  t.same(service('PrivateUsers'), [], 'no PrivateUsers: it maps supplementary groups to nogroup (systemd#41994)');
  t.notMatch(text, /^PrivateDevices=(yes|true|1)$/m, 'PrivateDevices would hide /dev/ttyUSB0');
  t.same(service('DevicePolicy'), ['closed']);
  const allowed = service('DeviceAllow');
  for (const dev of ['char-ttyUSB', 'char-ttyACM', 'char-ttyAMA']) t.ok(allowed.includes(`${dev} rw`), `DeviceAllow=${dev} rw`);
});

t.test('no MemoryDenyWriteExecute: V8 cannot run with it', async (t) => {
  t.same(service('MemoryDenyWriteExecute'), []);
  t.notMatch(text, /^MemoryDenyWriteExecute=/m);
});

t.test('memory is capped', async (t) => {
  t.same(service('MemoryMax'), ['256M'], 'SYS-6');
});

t.test('the network: loopback, link-local, multicast and private LAN ranges only (SYS-7)', async (t) => {
  t.same(service('IPAddressDeny'), ['any']);
  const allow = words('IPAddressAllow');
  for (const range of ['localhost', 'link-local', 'multicast', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']) {
    t.ok(allow.includes(range), `IPAddressAllow has ${range}`);
  }
  t.notOk(allow.some((r) => r === 'any' || r === '0.0.0.0/0' || r === '::/0'), 'nothing that opens the Internet');
  t.same(words('RestrictAddressFamilies').sort(), ['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX'], 'AF_NETLINK: os.networkInterfaces() for mDNS');
});
