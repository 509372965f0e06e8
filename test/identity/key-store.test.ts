import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { ManualClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { KEY_FILE, loadOrCreateIdentity } from '../../agent/identity/key-store.js';
import { FINGERPRINT_PATTERN, PEER_ID_PATTERN } from '../../agent/identity/peer-id.js';
import { capturedLogger, FIXED_CHECK_CODE, FIXED_FINGERPRINT, FIXED_KEY_PEM, FIXED_PEER_ID } from './helpers.js';

const run = promisify(execFile);
const options = () => ({ clock: new ManualClock(), log: silentLogger() });

t.test('first start creates identity.key with mode 0600 in a new 0700 state dir', async (t) => {
  const stateDir = join(t.testdir(), 'state');
  const identity = await loadOrCreateIdentity(stateDir, options());
  t.equal((await stat(stateDir)).mode & 0o777, 0o700);
  const keyFile = join(stateDir, KEY_FILE);
  t.equal((await stat(keyFile)).mode & 0o777, 0o600);
  t.match(await readFile(keyFile, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
  t.match(identity.peerId, PEER_ID_PATTERN);
  t.match(identity.fingerprint, FINGERPRINT_PATTERN);
  t.match(identity.checkCode, /^\d{4}-\d{4}-\d{3}$/);
  t.equal(identity.privateKey.asymmetricKeyType, 'ed25519');
  t.equal(identity.rawPublicKey.length, 32);
  t.same(await readdir(stateDir), [KEY_FILE], 'no temporary file left');
});

t.test('second start reuses the key', async (t) => {
  const stateDir = t.testdir();
  const first = await loadOrCreateIdentity(stateDir, options());
  const before = await readFile(join(stateDir, KEY_FILE), 'utf8');
  const second = await loadOrCreateIdentity(stateDir, options());
  t.equal(second.fingerprint, first.fingerprint);
  t.equal(second.peerId, first.peerId);
  t.equal(await readFile(join(stateDir, KEY_FILE), 'utf8'), before, 'key file untouched');
});

t.test('known answer: names of a fixed key match values computed with openssl', async (t) => {
  const stateDir = t.testdir({ [KEY_FILE]: FIXED_KEY_PEM });
  await chmod(join(stateDir, KEY_FILE), 0o600);
  const identity = await loadOrCreateIdentity(stateDir, options());
  // Independently: SPKI DER from openssl, the last 32 bytes are the raw key.
  const { stdout } = await run('openssl', ['pkey', '-in', join(stateDir, KEY_FILE), '-pubout', '-outform', 'DER'], { encoding: 'buffer' });
  const raw = stdout.subarray(stdout.length - 32);
  await writeFile(join(stateDir, 'raw.bin'), raw);
  const { stdout: digest } = await run('openssl', ['dgst', '-sha256', '-r', join(stateDir, 'raw.bin')]);
  t.equal(digest.split(' ')[0], FIXED_FINGERPRINT, 'openssl agrees with the recorded fingerprint');
  t.equal(identity.fingerprint, FIXED_FINGERPRINT);
  t.equal(identity.rawPublicKey.toString('hex'), raw.toString('hex'));
  t.equal(identity.peerId, FIXED_PEER_ID);
  t.equal(identity.checkCode, FIXED_CHECK_CODE);
});

for (const mode of [0o644, 0o640, 0o604, 0o660]) {
  t.test(`a key file with mode ${mode.toString(8)} is refused and left alone`, async (t) => {
    const stateDir = t.testdir({ [KEY_FILE]: FIXED_KEY_PEM });
    await chmod(join(stateDir, KEY_FILE), mode);
    await t.rejects(loadOrCreateIdentity(stateDir, options()), { name: 'IdentityError', code: 'key_permissions', message: /chmod 600/ });
    t.equal(await readFile(join(stateDir, KEY_FILE), 'utf8'), FIXED_KEY_PEM);
  });
}

t.test('a corrupt key file is refused, never replaced', async (t) => {
  for (const content of ['', 'garbage\n', FIXED_KEY_PEM.replace('MC4C', 'MC4D'), '-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n']) {
    const stateDir = t.testdir({ [KEY_FILE]: content });
    await chmod(join(stateDir, KEY_FILE), 0o600);
    await t.rejects(loadOrCreateIdentity(stateDir, options()), { code: 'key_corrupt' }, JSON.stringify(content.slice(0, 20)));
    t.equal(await readFile(join(stateDir, KEY_FILE), 'utf8'), content);
  }
});

t.test('a key of another type is refused', async (t) => {
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const stateDir = t.testdir({ [KEY_FILE]: pem });
  await chmod(join(stateDir, KEY_FILE), 0o600);
  await t.rejects(loadOrCreateIdentity(stateDir, options()), { code: 'key_not_ed25519', message: /holds a ec key/ });
});

t.test('a stray temporary file from a crash before the rename is cleaned; the key is kept', async (t) => {
  const stateDir = t.testdir();
  const first = await loadOrCreateIdentity(stateDir, options());
  const stray = join(stateDir, `.${KEY_FILE}.abcdef012345.tmp`);
  await writeFile(stray, FIXED_KEY_PEM.slice(0, 30), { mode: 0o600 }); // half-written
  const second = await loadOrCreateIdentity(stateDir, options());
  t.equal(second.fingerprint, first.fingerprint);
  t.same(await readdir(stateDir), [KEY_FILE]);
});

t.test('a crash before the rename on first start leaves no key: the next start creates one', async (t) => {
  const stateDir = t.testdir({ [`.${KEY_FILE}.0123456789ab.tmp`]: '-----BEGIN PRIV' });
  const identity = await loadOrCreateIdentity(stateDir, options());
  t.match(identity.fingerprint, FINGERPRINT_PATTERN);
  t.same(await readdir(stateDir), [KEY_FILE]);
});

t.test('logs name the identity but never contain the key', async (t) => {
  const stateDir = t.testdir();
  const captured = capturedLogger();
  const created = await loadOrCreateIdentity(stateDir, { clock: new ManualClock(), log: captured.log });
  const loaded = await loadOrCreateIdentity(stateDir, { clock: new ManualClock(), log: captured.log });
  // Even a careless caller logging the whole identity must not leak it.
  captured.log.info({ identity: loaded }, 'careless');
  const text = captured.text();
  t.match(text, created.fingerprint);
  t.notMatch(text, /PRIVATE KEY/);
  const body = created.keyPem.split('\n')[1] as string;
  t.ok(body.length > 20);
  t.notOk(text.includes(body), 'no line of the PEM body');
  t.same(captured.lines().map((l) => l.msg), ['identity created', 'identity loaded', 'careless']);
  t.equal(typeof loaded.keyPem, 'string', 'keyPem still readable by code');
});

t.test('the state dir must be a directory', async (t) => {
  const dir = t.testdir({ file: 'x' });
  await t.rejects(loadOrCreateIdentity(join(dir, 'file'), options()), { code: 'state_dir' });
});
