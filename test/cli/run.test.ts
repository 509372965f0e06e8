import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'dist/agent/cli/bin.js');

t.before(() => {
  if (!existsSync(bin)) spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
});

const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });

t.test('tonari run exits 78 (EX_CONFIG) on a broken configuration, with FILE:LINE:COL errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tonari-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tonari.yaml');
  writeFileSync(file, 'household:\n  latitude: north\npoll:\n  interval: 5\n');
  const res = run(['run', '--config', file]);
  t.equal(res.status, 78);
  t.equal(res.stderr, `${file}:2:13: household.latitude: expected a number from -90 to 90, got "north"\n${file}:4:13: poll.interval: expected a duration with a unit, such as 500ms or 2s, got 5\n`);
  t.equal(res.stdout, '', 'nothing starts');
});

t.test('tonari run exits 78 when the file is missing, and says how to make one', async (t) => {
  const res = run(['run', '--config', '/nonexistent/tonari.yaml']);
  t.equal(res.status, 78);
  t.match(res.stderr, /^\/nonexistent\/tonari\.yaml: cannot read: no such file\n/);
  t.match(res.stderr, /tonari init/);
});

t.test('tonari run exits 78 when a device cannot be set up (unknown profile)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tonari-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tonari.yaml');
  writeFileSync(file, [
    'links:', '  lan: { type: tcp, host: 127.0.0.1, port: 1 }',
    'devices:', '  inv: { type: profile, link: lan, unit: 1, profile: acme-9000, provides: [pv] }', '',
  ].join('\n'));
  const res = run(['run', '--config', file]);
  t.equal(res.status, 78);
  t.match(res.stderr, /devices\.inv: profile: no built-in profile named "acme-9000"/);
});

t.test('tonari with no command prints usage and exits 64; unknown commands too', async (t) => {
  const none = run([]);
  t.equal(none.status, 64);
  t.match(none.stdout, /usage: tonari <command>/);
  const unknown = run(['frobnicate']);
  t.equal(unknown.status, 64);
  t.match(unknown.stderr, /unknown command 'frobnicate'/);
  const version = run(['--version']);
  t.equal(version.status, 0);
  t.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});
