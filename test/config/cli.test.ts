import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { checkCommand } from '../../agent/cli/commands/check.js';
import { initCommand } from '../../agent/cli/commands/init.js';
import type { CliIO } from '../../agent/cli/io.js';
import { ConfigError } from '../../agent/config/errors.js';
import { loadConfigFile } from '../../agent/config/load.js';
import { parseConfigText } from '../../agent/config/parse.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

function capture(): CliIO & { out: () => string; err: () => string } {
  const chunks = { out: '', err: '' };
  const sink = (key: 'out' | 'err') => new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks[key] += chunk.toString();
      done();
    },
  });
  return { stdout: sink('out'), stderr: sink('err'), isTTY: false, out: () => chunks.out, err: () => chunks.err };
}

const VALID = 'household:\n  name: Tanaka\npoll:\n  interval: 2s\n  staleAfter: 10s\n';
const INVALID = 'household:\n  name: Tanaka\n  latitde: 35\npoll:\n  interval: 2\n';

t.test('check: a valid file prints "FILE: ok" and exits 0', async (t) => {
  const file = join(t.testdir({ 'tonari.yaml': VALID }), 'tonari.yaml');
  const io = capture();
  t.equal(await checkCommand([file], io), 0);
  t.equal(io.out(), `${file}: ok\n`);
  t.equal(io.err(), '');
  const viaOption = capture();
  t.equal(await checkCommand(['--config', file], viaOption), 0);
  t.equal(viaOption.out(), `${file}: ok\n`);
});

t.test('check: an invalid file prints every problem and exits 78', async (t) => {
  const file = join(t.testdir({ 'tonari.yaml': INVALID }), 'tonari.yaml');
  const io = capture();
  t.equal(await checkCommand([file], io), 78);
  t.equal(io.out(), '');
  t.equal(io.err(), [
    `${file}:3:3: household.latitde: unknown key (did you mean "latitude"?)`,
    `${file}:5:13: poll.interval: expected a duration with a unit, such as 500ms or 2s, got 2`,
    '',
  ].join('\n'));
});

t.test('check --print prints the effective config with defaults', async (t) => {
  const file = join(t.testdir({ 'tonari.yaml': VALID }), 'tonari.yaml');
  const io = capture();
  t.equal(await checkCommand([file, '--print'], io), 0);
  t.match(io.out(), /^household:\n  name: Tanaka\n  latitude: 35\.68\n/);
  t.match(io.out(), /\npoll:\n  interval: 2s\n  staleAfter: 10s\n/);
  t.same(parseConfigText(io.out(), 'printed'), parseConfigText(VALID, 'original'));
});

t.test('check: a file that cannot be read is one line, exit 78', async (t) => {
  const dir = t.testdir({});
  const missing = join(dir, 'nope.yaml');
  const io = capture();
  t.equal(await checkCommand([missing], io), 78);
  t.equal(io.err(), `${missing}: cannot read: no such file\n`);
  const asDirectory = capture();
  t.equal(await checkCommand([dir], asDirectory), 78);
  t.equal(asDirectory.err(), `${dir}: cannot read: is a directory\n`);
});

t.test('check: bad arguments are a usage error', async (t) => {
  const io = capture();
  t.equal(await checkCommand(['--frobnicate'], io), 64);
  t.match(io.err(), /^tonari check: Unknown option '--frobnicate'/);
  t.equal(await checkCommand(['a.yaml', 'b.yaml'], capture()), 64);
  t.equal(await checkCommand(['a.yaml', '--config', 'b.yaml'], capture()), 64);
  const help = capture();
  t.equal(await checkCommand(['--help'], help), 0);
  t.match(help.out(), /^usage: tonari check/);
});

t.test('loadConfigFile throws ConfigError with the issues', async (t) => {
  const file = join(t.testdir({ 'tonari.yaml': INVALID }), 'tonari.yaml');
  const error = await loadConfigFile(file).then(() => undefined, (e: unknown) => e);
  t.type(error, ConfigError);
  t.same((error as ConfigError).issues.map((issue) => [issue.line, issue.col, issue.path]), [[3, 3, 'household.latitde'], [5, 13, 'poll.interval']]);
  t.same(await loadConfigFile(join(t.testdir({ 'ok.yaml': VALID }), 'ok.yaml')), parseConfigText(VALID, 'x'));
});

t.test('init writes a starter that passes check, with mode 0640, creating directories', async (t) => {
  const file = join(t.testdir({}), 'etc', 'tonari', 'tonari.yaml');
  const io = capture();
  t.equal(await initCommand([file], io), 0);
  t.equal(io.out(), `wrote ${file}\nedit it, then run: tonari check ${file}\n`);
  t.equal((await stat(file)).mode & 0o777, 0o640);
  const text = await readFile(file, 'utf8');
  t.match(text, `# Check it after every change with:  tonari check ${file}\n`);
  t.match(text, /\n# devices:\n/);
  t.match(text, /\n# {5}type: tcp/);
  t.match(text, /\n# {5}type: rtu/);
  t.match(text, /\n# {7}- point: "124:OutWRte"/);
  const checked = capture();
  t.equal(await checkCommand([file], checked), 0);
  t.equal(checked.out(), `${file}: ok\n`);
  const files = await import('node:fs/promises').then((fs) => fs.readdir(join(file, '..')));
  t.same(files, ['tonari.yaml'], 'no temporary file is left behind');
});

t.test('init refuses to overwrite without --force', async (t) => {
  const dir = t.testdir({ 'tonari.yaml': 'household:\n  name: mine\n' });
  const file = join(dir, 'tonari.yaml');
  const io = capture();
  t.equal(await initCommand([file], io), 73);
  t.equal(io.err(), `tonari init: ${file} already exists; use --force to replace it\n`);
  t.equal(await readFile(file, 'utf8'), 'household:\n  name: mine\n');
  t.equal(await initCommand([file, '--force'], capture()), 0);
  t.match(await readFile(file, 'utf8'), /^# tonari configuration/);
});

t.test('init reports a directory it cannot write to', { skip: process.getuid?.() === 0 ? 'root can write anywhere' : false }, async (t) => {
  const dir = join(t.testdir({}), 'locked');
  await mkdir(dir);
  await chmod(dir, 0o500);
  t.teardown(() => chmod(dir, 0o700));
  const io = capture();
  t.equal(await initCommand([join(dir, 'tonari.yaml')], io), 73);
  t.match(io.err(), /^tonari init: cannot write .*tonari\.yaml: EACCES/);
});

t.test('the built CLI exits 78 with positioned errors', async (t) => {
  const bin = join(root, 'dist/agent/cli/bin.js');
  if (!existsSync(bin)) await run('npm', ['run', 'build'], { cwd: root });
  const dir = t.testdir({});
  const file = join(dir, 'tonari.yaml');
  await writeFile(file, 'links:\n  lan:\n    type: tcp\n    host: 192.168.1.50\n    port: five\n');
  const result = await run(process.execPath, [bin, 'check', file]).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => error,
  );
  t.equal(result.code, 78);
  t.equal(result.stderr, `${file}:5:11: links.lan.port: expected an integer from 1 to 65535, got "five"\n`);
});
