/**
 * systemd/install.sh and uninstall.sh, run for real into a temporary root (--root: the
 * same steps as on a gateway, without systemctl, which needs systemd as PID 1). The
 * installed program is run from there, so the production tree is proven to work.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureDistFresh, ROOT } from '../helpers/build.js';
import { requireTool, toolAvailable } from '../helpers/tools.js';

t.setTimeout(600_000);

const INSTALL = path.join(ROOT, 'systemd/install.sh');
const UNINSTALL = path.join(ROOT, 'systemd/uninstall.sh');
const NODE = realpathSync(process.execPath);

function sh(script: string, args: string[], env: Record<string, string> = {}) {
  const res = spawnSync('/bin/sh', [script, ...args], { encoding: 'utf8', timeout: 300_000, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  return { code: res.status, out: `${res.stdout}${res.stderr}` };
}

const root = mkdtempSync(path.join(tmpdir(), 'tn-root-'));
const at = (p: string) => path.join(root, p);
mkdirSync(at('etc'));
writeFileSync(at('etc/group'), 'root:x:0:\ndialout:x:20:\n');
writeFileSync(at('etc/gshadow'), 'root:*::\ndialout:*::\n');
t.teardown(() => rmSync(root, { recursive: true, force: true }));

const mode = (p: string) => statSync(at(p)).mode & 0o7777;
const groupId = () => Number(/^tonari-config:x:(\d+):/m.exec(readFileSync(at('etc/group'), 'utf8'))?.[1]);
const expectedUnit = () => readFileSync(path.join(ROOT, 'systemd/tonari.service'), 'utf8').replace('ExecStart=/usr/bin/node ', `ExecStart=${NODE} `);

t.before(() => ensureDistFresh(['agent', 'broker']));

t.test('installs into a root: the program with production dependencies, the unit, the command, a private configuration', async (t) => {
  const res = sh(INSTALL, ['--root', root, '--no-build']);
  t.equal(res.code, 0, res.code === 0 ? 'exit 0' : res.out);
  t.match(res.out, /--root given: systemctl not run/);
  t.ok(existsSync(at('opt/tonari/dist/agent/cli/bin.js')), 'the compiled agent');
  t.ok(existsSync(at('opt/tonari/node_modules/aedes/package.json')), 'production dependencies');
  t.notOk(existsSync(at('opt/tonari/node_modules/typescript')), 'no TypeScript');
  t.notOk(existsSync(at('opt/tonari/node_modules/tap')), 'no test runner');
  t.ok(existsSync(at('opt/tonari/agent/devices/profiles/builtin/sungrow-sh-rt.yaml')), 'the built-in profiles the program reads at run time');
  t.ok(existsSync(at('opt/tonari/docs/service.md')), 'the unit\'s Documentation=');
  t.notOk(existsSync(at('opt/tonari.new')), 'no staging left');

  const gid = groupId();
  t.ok(gid > 0, `group tonari-config created (${gid})`);
  t.equal(mode('etc/tonari'), 0o750, '/etc/tonari 0750 (ConfigurationDirectoryMode)');
  t.same([statSync(at('etc/tonari')).uid, statSync(at('etc/tonari')).gid], [0, gid], 'root:tonari-config');
  t.equal(mode('etc/tonari/tonari.yaml'), 0o640, 'tonari.yaml 0640: the service reads it through its group, others cannot (CFG-1)');
  t.same([statSync(at('etc/tonari/tonari.yaml')).uid, statSync(at('etc/tonari/tonari.yaml')).gid], [0, gid]);
  t.match(readFileSync(at('etc/tonari/tonari.yaml'), 'utf8'), /^stateDir: \/var\/lib\/tonari$/m, 'from tonari init');

  t.equal(readFileSync(at('etc/systemd/system/tonari.service'), 'utf8'), expectedUnit(), `the unit, ExecStart running ${NODE}`);
  t.equal(mode('etc/systemd/system/tonari.service'), 0o644);
  t.equal(mode('usr/local/bin/tonari'), 0o755);
  t.equal(readFileSync(at('usr/local/bin/tonari'), 'utf8').split('\n')[2], `exec ${NODE} /opt/tonari/dist/agent/cli/bin.js "$@"`);

  // The installed tree runs on its own (from /, nothing from the checkout).
  const dir = mkdtempSync(path.join(tmpdir(), 'tn-once-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'once.yaml'), `stateDir: ${dir}/state\nmesh:\n  enabled: false\n`);
  const once = spawnSync(NODE, [at('opt/tonari/dist/agent/cli/bin.js'), 'run', '--once', '--json', '--config', path.join(dir, 'once.yaml')], { cwd: '/', encoding: 'utf8', timeout: 60_000 });
  t.equal(once.status, 0, once.stderr);
  t.match(JSON.parse(once.stdout), { pvW: Number, loadW: Number }, 'the installed agent reads a simulated household');
});

t.test('a second run upgrades the program and keeps the configuration (and tightens its mode)', async (t) => {
  const config = at('etc/tonari/tonari.yaml');
  const edited = `${readFileSync(config, 'utf8')}# the installer's own note\n`;
  writeFileSync(config, edited);
  spawnSync('chmod', ['0644', config]);
  writeFileSync(at('opt/tonari/OLD-VERSION'), 'marker');
  const groups = readFileSync(at('etc/group'), 'utf8');
  const res = sh(INSTALL, ['--root', root, '--no-build']);
  t.equal(res.code, 0, res.code === 0 ? 'exit 0' : res.out);
  t.match(res.out, /keeping .*tonari\.yaml/);
  t.equal(readFileSync(config, 'utf8'), edited, 'the configuration is untouched');
  t.equal(mode('etc/tonari/tonari.yaml'), 0o640, 'a world-readable configuration is made private again');
  t.notOk(existsSync(at('opt/tonari/OLD-VERSION')), 'the program was replaced');
  t.equal(readFileSync(at('etc/group'), 'utf8'), groups, 'the group is not added twice');
  t.equal(readFileSync(at('etc/systemd/system/tonari.service'), 'utf8'), expectedUnit());
});

t.test('a configuration the new version rejects leaves the installed program in place', async (t) => {
  const config = at('etc/tonari/tonari.yaml');
  const good = readFileSync(config, 'utf8');
  writeFileSync(config, `${good}colour: blue\n`);
  writeFileSync(at('opt/tonari/INSTALLED'), 'marker');
  const res = sh(INSTALL, ['--root', root, '--no-build']);
  t.equal(res.code, 78, 'exit 78');
  t.match(res.out, /colour/, 'tonari check says what is wrong');
  t.match(res.out, /nothing was replaced/);
  t.ok(existsSync(at('opt/tonari/INSTALLED')), 'the installed program stays');
  t.notOk(existsSync(at('opt/tonari.new')), 'the staged one is removed');
  writeFileSync(config, good);
});

t.test('a node the sandbox cannot see is refused', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tn-node-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'node'), '#!/bin/sh\necho 22\n', { mode: 0o755 });
  const res = sh(INSTALL, ['--root', root, '--no-build', '--node', path.join(dir, 'node')]);
  t.equal(res.code, 69);
  t.match(res.out, /PrivateTmp=yes/);
  t.equal(sh(INSTALL, ['--bogus']).code, 64, 'usage errors exit 64');
});

t.test('uninstall keeps configuration and state; purge asks, then removes them and keeps a copy of the ledger', async (t) => {
  // The state as DynamicUser= leaves it: /var/lib/private/tonari behind a /var/lib/tonari link.
  mkdirSync(at('var/lib/private/tonari'), { recursive: true, mode: 0o700 });
  symlinkSync('private/tonari', at('var/lib/tonari'));
  const ledger = '{"a ledger":"line"}\n';
  writeFileSync(at('var/lib/private/tonari/ledger.jsonl'), ledger, { mode: 0o600 });

  let res = sh(UNINSTALL, ['--root', root]);
  t.equal(res.code, 0, res.code === 0 ? 'exit 0' : res.out);
  for (const gone of ['opt/tonari', 'etc/systemd/system/tonari.service', 'usr/local/bin/tonari']) t.notOk(existsSync(at(gone)), `${gone} removed`);
  for (const kept of ['etc/tonari/tonari.yaml', 'var/lib/private/tonari/ledger.jsonl']) t.ok(existsSync(at(kept)), `${kept} kept`);
  t.ok(lstatSync(at('var/lib/tonari')).isSymbolicLink(), 'the state link kept');

  res = sh(UNINSTALL, ['--root', root, '--purge']);
  t.equal(res.code, 64, 'off a terminal, --purge needs --yes');
  t.ok(existsSync(at('etc/tonari/tonari.yaml')), 'and nothing was removed');

  res = sh(UNINSTALL, ['--root', root, '--purge', '--yes']);
  t.equal(res.code, 0, res.code === 0 ? 'exit 0' : res.out);
  for (const gone of ['etc/tonari', 'var/lib/private/tonari', 'var/lib/tonari']) t.notOk(existsSync(at(gone)) || isLink(at(gone)), `${gone} purged`);
  t.notMatch(readFileSync(at('etc/group'), 'utf8'), /tonari-config/, 'the group removed');
  const backups = spawnSync('find', [at('var/backups'), '-name', 'ledger.jsonl'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  t.equal(backups.length, 1, 'one copy of the ledger');
  t.equal(readFileSync(backups[0]!, 'utf8'), ledger, 'byte for byte');
  t.equal(statSync(path.dirname(backups[0]!)).mode & 0o777, 0o700, 'in a private directory');

  res = sh(UNINSTALL, ['--root', root, '--purge', '--yes']);
  t.equal(res.code, 0, 'uninstalling again is harmless');
});

t.test('shellcheck finds nothing in either script', async (t) => {
  if (!requireTool(t, toolAvailable('shellcheck', ['--version']), 'shellcheck', 'shellcheck')) return;
  const res = spawnSync('shellcheck', ['-s', 'sh', INSTALL, UNINSTALL], { encoding: 'utf8' });
  t.equal(res.status, 0);
  t.equal(`${res.stdout}${res.stderr}`, '');
});

function isLink(p: string): boolean {
  try { return lstatSync(p).isSymbolicLink(); } catch { return false; }
}
