import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireTool, toolAvailable } from '../helpers/tools.js';

const unit = fileURLToPath(new URL('../../systemd/tonari.service', import.meta.url));

t.test('the unit file passes systemd-analyze verify without a warning', async (t) => {
  if (!requireTool(t, toolAvailable('systemd-analyze', ['--version']), 'systemd-analyze', 'systemd')) return;
  const res = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
  t.equal(res.status, 0);
  t.equal(`${res.stdout}${res.stderr}`.trim(), '', 'systemd prints nothing for a clean unit');
});

t.test('the unit is hardened (exposure at most 2.0)', async (t) => {
  if (!requireTool(t, toolAvailable('systemd-analyze', ['--version']), 'systemd-analyze', 'systemd')) return;
  const res = spawnSync('systemd-analyze', ['security', '--offline=true', unit], { encoding: 'utf8' });
  const match = /Overall exposure level for tonari\.service: ([0-9.]+)/.exec(res.stdout);
  t.ok(match, 'systemd-analyze printed an exposure level');
  t.ok(Number(match?.[1]) <= 2.0, `exposure ${match?.[1]} <= 2.0`);
});

t.test('a bad configuration stops systemd from restarting in a loop', async (t) => {
  const { readFileSync } = await import('node:fs');
  const text = readFileSync(unit, 'utf8');
  t.match(text, /^RestartPreventExitStatus=78$/m);
  t.match(text, /^ExecStart=\/usr\/bin\/node \/opt\/tonari\/dist\/agent\/cli\/bin\.js run --config \/etc\/tonari\/tonari\.yaml$/m);
  t.notMatch(text, /^MemoryDenyWriteExecute=yes/m, 'V8 cannot run with MemoryDenyWriteExecute');
});
