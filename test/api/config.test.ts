/**
 * The API's configuration rules: beyond loopback api.token is required (a cross-check
 * at api.listen.host, with its line), Home Assistant's prefix stays out of tonari's
 * namespace, and (CFG-1) a file holding api.token must not be readable by others —
 * loading it fails naming the file and `chmod 640`, and `tonari check` says so.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { checkCommand } from '../../agent/cli/commands/check.js';
import { ConfigError, loadConfigFile } from '../../agent/config/index.js';
import { parseConfigText } from '../../agent/config/parse.js';

const TOKEN = 'Zq7-4b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b';

function issuesOf(text: string) {
  try {
    parseConfigText(text, 'tonari.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

t.test('beyond loopback the API needs a token', async (t) => {
  const issues = issuesOf('household:\n  name: x\napi:\n  listen:\n    host: 0.0.0.0\n');
  t.equal(issues.length, 1);
  t.match(issues[0], { file: 'tonari.yaml', line: 5, col: 11, path: 'api.listen.host', message: /"0\.0\.0\.0" is reachable beyond this machine, so the API needs a token: set api\.token/ });
  t.strictSame(issuesOf(`api:\n  listen:\n    host: 0.0.0.0\n  token: ${TOKEN}\n`), [], 'with a token');
  t.strictSame(issuesOf('api:\n  enabled: false\n  listen:\n    host: 192.168.1.20\n'), [], 'not when the API is off');
  for (const host of ['127.0.0.1', '127.0.0.53', 'localhost', '::1']) t.strictSame(issuesOf(`api:\n  listen:\n    host: "${host}"\n`), [], `${host} is loopback`);
  t.equal(issuesOf('api:\n  listen:\n    host: 192.168.1.20\n')[0]?.path, 'api.listen.host');
});

t.test('Home Assistant\'s prefix stays outside tonari/', async (t) => {
  t.match(issuesOf('homeAssistant:\n  discoveryPrefix: tonari/ha\n'), [{ path: 'homeAssistant.discoveryPrefix', line: 2, message: /outside tonari's own topics/ }]);
  t.match(issuesOf('homeAssistant:\n  discoveryPrefix: tonari\n'), [{ path: 'homeAssistant.discoveryPrefix' }]);
  t.strictSame(issuesOf('homeAssistant:\n  discoveryPrefix: home/assistant\n'), []);
});

t.test('CFG-1: a file holding api.token must not be world-readable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tn-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tonari.yaml');
  writeFileSync(file, `api:\n  token: ${TOKEN}\n`);

  chmodSync(file, 0o644);
  const error = await loadConfigFile(file).then(() => undefined, (e: unknown) => e);
  t.type(error, ConfigError);
  const message = (error as ConfigError).format();
  t.match(message, file, 'names the file');
  t.match(message, `chmod 640 ${file}`, 'says what to run');
  t.match(message, /api\.token/);
  t.match(message, /mode 644/);
  t.notMatch(message, TOKEN, 'never shows the secret');

  chmodSync(file, 0o640);
  t.equal((await loadConfigFile(file)).api.token, TOKEN, 'mode 640 loads');
  chmodSync(file, 0o600);
  t.equal((await loadConfigFile(file)).api.token, TOKEN, 'mode 600 loads');

  const plain = join(dir, 'plain.yaml');
  writeFileSync(plain, 'household:\n  name: open\n');
  chmodSync(plain, 0o644);
  t.equal((await loadConfigFile(plain)).household.name, 'open', 'no secret: world-readable is fine');

  chmodSync(file, 0o604);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const code = await checkCommand([file], { stdout, stderr, isTTY: false });
  t.equal(code, 78, 'tonari check: EX_CONFIG');
  t.match(err, `chmod 640 ${file}`);
});
