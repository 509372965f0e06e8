import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { identityCommand } from '../../agent/cli/commands/identity.js';
import { pairCommand } from '../../agent/cli/commands/pair.js';
import { main } from '../../agent/cli/main.js';
import { KEY_FILE } from '../../agent/identity/key-store.js';
import { TRUST_FILE } from '../../agent/identity/trusted-peers-file.js';
import { captureIO, FIXED_CHECK_CODE, FIXED_FINGERPRINT, FIXED_KEY_PEM, FIXED_PEER_ID } from './helpers.js';

const OTHER = 'a'.repeat(64);

t.test('identity: prints peer id, fingerprint and check code of the key in the state dir', async (t) => {
  const dir = t.testdir({ [KEY_FILE]: FIXED_KEY_PEM });
  await chmod(join(dir, KEY_FILE), 0o600);
  const io = captureIO();
  t.equal(await identityCommand(['--state-dir', dir], io), 0);
  t.equal(io.out(), `peer id      ${FIXED_PEER_ID}\nfingerprint  ${FIXED_FINGERPRINT}\ncheck code   ${FIXED_CHECK_CODE}\n`);
  t.equal(io.err(), '');
  const json = captureIO();
  t.equal(await identityCommand(['--state-dir', dir, '--json'], json), 0);
  t.same(JSON.parse(json.out()), { peerId: FIXED_PEER_ID, fingerprint: FIXED_FINGERPRINT, checkCode: FIXED_CHECK_CODE });
});

t.test('identity: creates the key on first use and says so', async (t) => {
  const dir = join(t.testdir(), 'state');
  const io = captureIO();
  t.equal(await identityCommand(['--state-dir', dir, '--json'], io), 0);
  t.match(io.err(), `created a new identity key in ${join(dir, KEY_FILE)}`);
  t.equal((await stat(join(dir, KEY_FILE))).mode & 0o777, 0o600);
  const again = captureIO();
  t.equal(await identityCommand(['--state-dir', dir, '--json'], again), 0);
  t.equal(again.out(), io.out(), 'same identity the second time');
  t.equal(again.err(), '');
  t.notMatch(io.out() + io.err(), /PRIVATE KEY/);
});

t.test('identity: a key readable by others is refused with exit 78 and a fix', async (t) => {
  const dir = t.testdir({ [KEY_FILE]: FIXED_KEY_PEM });
  await chmod(join(dir, KEY_FILE), 0o644);
  const io = captureIO();
  t.equal(await identityCommand(['--state-dir', dir], io), 78);
  t.match(io.err(), /accessible by group or others \(mode 0644\); run: chmod 600/);
  t.equal(io.out(), '');
});

t.test('identity: usage errors', async (t) => {
  const io = captureIO();
  t.equal(await identityCommand(['--bogus'], io), 64);
  t.match(io.err(), /usage: tonari identity/);
});

t.test('pair: add with the right code, list, remove', async (t) => {
  const dir = t.testdir();
  const add = captureIO();
  t.equal(await pairCommand(['--state-dir', dir, '--add', FIXED_FINGERPRINT, '--code', FIXED_CHECK_CODE, '--name', 'Suzuki'], add), 0, add.err());
  t.equal(add.out(), `paired ${FIXED_PEER_ID} (Suzuki)\n`);
  t.equal((await stat(join(dir, TRUST_FILE))).mode & 0o777, 0o600);

  const list = captureIO();
  t.equal(await pairCommand(['--state-dir', dir, '--list'], list), 0);
  t.equal(list.out(), `${FIXED_PEER_ID}  ${FIXED_FINGERPRINT}  paired  Suzuki\n`);
  const json = captureIO();
  t.equal(await pairCommand(['--state-dir', dir, '--list', '--json'], json), 0);
  t.match(JSON.parse(json.out()), [{ peerId: FIXED_PEER_ID, fingerprint: FIXED_FINGERPRINT, name: 'Suzuki', source: 'paired', pairedAt: /^\d{4}-\d\d-\d\dT/ }]);

  const again = captureIO();
  t.equal(await pairCommand(['--state-dir', dir, '--add', FIXED_FINGERPRINT, '--code', FIXED_CHECK_CODE], again), 1);
  t.match(again.err(), /already trusted/);

  const remove = captureIO();
  t.equal(await pairCommand(['--state-dir', dir, '--remove', FIXED_FINGERPRINT.toUpperCase()], remove), 0);
  t.equal(remove.out(), `removed ${FIXED_FINGERPRINT}\n`);
  t.same(JSON.parse(await readFile(join(dir, TRUST_FILE), 'utf8')).peers, []);
  const empty = captureIO();
  t.equal(await pairCommand(['--state-dir', dir, '--list'], empty), 0);
  t.match(empty.out(), /no trusted neighbours yet/);
  const missing = captureIO();
  t.equal(await pairCommand(['--state-dir', dir, '--remove', FIXED_FINGERPRINT], missing), 1);
  t.match(missing.err(), /is not a paired neighbour/);
});

t.test('pair: a wrong or mistyped check code is refused and nothing is written', async (t) => {
  const dir = t.testdir();
  const typo = captureIO();
  // One digit changed: the check digit catches it before the fingerprint is even compared.
  t.equal(await pairCommand(['--state-dir', dir, '--add', FIXED_FINGERPRINT, '--code', '8188-9577-714'], typo), 1);
  t.match(typo.err(), /not a valid check code/);
  const wrong = captureIO();
  t.equal(await pairCommand(['--state-dir', dir, '--add', OTHER, '--code', FIXED_CHECK_CODE], wrong), 1);
  t.match(wrong.err(), /does not belong to this fingerprint/);
  await t.rejects(stat(join(dir, TRUST_FILE)));
});

t.test('pair: usage errors and --window without a running agent', async (t) => {
  const dir = t.testdir();
  const cases: [string[], number, RegExp][] = [
    [[], 64, /exactly one of/],
    [['--list', '--remove', OTHER], 64, /exactly one of/],
    [['--add', OTHER], 64, /--add needs --code/],
    [['--list', '--code', '1'], 64, /--code and --name go with --add/],
    [['--add', 'xyz', '--code', FIXED_CHECK_CODE], 64, /not a fingerprint/],
    [['--remove', 'xyz'], 64, /not a fingerprint/],
    [['--add', OTHER, '--code', FIXED_CHECK_CODE, '--json'], 64, /--json goes with --list/],
    [['--window', '10m'], 69, /needs a running agent/],
  ];
  for (const [args, code, message] of cases) {
    const io = captureIO();
    t.equal(await pairCommand(['--state-dir', dir, ...args], io), code, args.join(' '));
    t.match(io.err(), message, args.join(' '));
  }
});

t.test('pair: a corrupt trust file is reported with exit 78', async (t) => {
  const dir = t.testdir({ [TRUST_FILE]: 'nope' });
  await chmod(join(dir, TRUST_FILE), 0o600);
  const io = captureIO();
  t.equal(await pairCommand(['--state-dir', dir, '--list'], io), 78);
  t.match(io.err(), /not valid JSON/);
});

t.test('the dispatcher knows both commands', async (t) => {
  const dir = t.testdir({ [KEY_FILE]: FIXED_KEY_PEM });
  await chmod(join(dir, KEY_FILE), 0o600);
  const io = captureIO();
  t.equal(await main(['identity', '--state-dir', dir, '--json'], io), 0);
  t.match(io.out(), FIXED_FINGERPRINT);
  const help = captureIO();
  t.equal(await main(['pair', '--help'], help), 0);
  t.match(help.out(), /usage: tonari pair/);
});
