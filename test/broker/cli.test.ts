/** `tonari broker`: a standalone hub with a persistent identity, in hub mode. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { runBroker } from '../../agent/cli/commands/broker.js';
import { closed, collect, connectLocalTo, connectPeerTo, makeIdentity, subscribeGranted, until } from './helpers.js';

const alice = makeIdentity('alice');
const bob = makeIdentity('bob');
const mallory = makeIdentity('mallory');

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => { text += c.toString(); });
  return { stream, text: () => text };
}

async function startHub(t: Parameters<typeof connectPeerTo>[0] & { teardown(fn: () => unknown): void }, args: string[] = []) {
  const stateDir = mkdtempSync(join(tmpdir(), 'tonari-hub-'));
  const out = capture();
  const err = capture();
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => { stop = resolve; });
  const exit = runBroker([
    '--state-dir', stateDir, '--host', '127.0.0.1', '--port', '0', '--local-port', '0', '--log-level', 'warn',
    '--trust', alice.fingerprint, '--trust', bob.fingerprint, ...args,
  ], { stdout: out.stream, stderr: err.stream, isTTY: false }, stopped);
  t.teardown(async () => { stop(); await exit; rmSync(stateDir, { recursive: true, force: true }); });
  await until(() => /listening on/.test(out.text()) || err.text().length > 0, 'the broker to listen');
  const m = /tonari broker \((\w+)\) (t[a-z2-7]{22}) fingerprint ([0-9a-f]{64})\nlistening on mqtts:\/\/127\.0\.0\.1:(\d+), local read-only mqtt:\/\/127\.0\.0\.1:(\d+); 2 trusted peer\(s\)/.exec(out.text());
  if (!m) throw new Error(`unexpected output: ${out.text()} ${err.text()}`);
  return { mode: m[1]!, peerId: m[2]!, fingerprint: m[3]!, port: Number(m[4]), localPort: Number(m[5]), stop, exit, out, err, stateDir };
}

t.test('hub mode: members publish under their own root and hear each other', async (t) => {
  const hub = await startHub(t);
  t.equal(hub.mode, 'hub');
  const a = await connectPeerTo(t, hub.port, hub.fingerprint, alice);
  const b = await connectPeerTo(t, hub.port, hub.fingerprint, bob);
  const heard = collect(b);
  t.equal(await subscribeGranted(b, 'tonari/v1/+/pub/#', 1), 1);
  t.equal(await subscribeGranted(b, `tonari/v1/+/to/${bob.peerId}/#`, 1), 1);
  t.equal(await subscribeGranted(b, `tonari/v1/+/to/${alice.peerId}/#`, 1), 128, 'not what is addressed to alice');
  t.equal(await subscribeGranted(b, 'tonari/v1/#', 1), 128);
  await a.publishAsync(`tonari/v1/${alice.peerId}/pub/offer`, 'w=1500', { qos: 1 });
  await a.publishAsync(`tonari/v1/${alice.peerId}/to/${bob.peerId}/order`, 'for bob', { qos: 1 });
  await until(() => heard.length === 2, 'two messages');
  t.same(heard.map((m) => [m.topic, m.payload]), [
    [`tonari/v1/${alice.peerId}/pub/offer`, 'w=1500'],
    [`tonari/v1/${alice.peerId}/to/${bob.peerId}/order`, 'for bob'],
  ]);
  // impersonating bob closes alice's connection
  const gone = closed(a);
  a.publish(`tonari/v1/${bob.peerId}/pub/offer`, 'forged', { qos: 0 });
  await gone;
  t.equal(heard.length, 2, 'the forgery went nowhere');
});

t.test('hub mode: a member\'s will on its own status is delivered', async (t) => {
  const hub = await startHub(t);
  const b = await connectPeerTo(t, hub.port, hub.fingerprint, bob);
  const heard = collect(b);
  t.equal(await subscribeGranted(b, `tonari/v1/${alice.peerId}/status`, 1), 1);
  const a = await connectPeerTo(t, hub.port, hub.fingerprint, alice, { will: { topic: `tonari/v1/${alice.peerId}/status`, payload: Buffer.from('offline'), qos: 1, retain: true } });
  a.stream.destroy();
  await until(() => heard.length === 1, 'the will');
  t.same(heard.map((m) => m.payload), ['offline']);
});

t.test('the hub announces itself, keeps its identity across restarts, and refuses strangers', async (t) => {
  const hub = await startHub(t);
  const local = await connectLocalTo(t, hub.localPort);
  const seen = collect(local);
  t.equal(await subscribeGranted(local, 'tonari/v1/+/status', 1), 1);
  await until(() => seen.length === 1, 'the hub status');
  t.same(seen[0], { topic: `tonari/v1/${hub.peerId}/status`, payload: 'online', retain: true });
  const refused = await connectPeerTo(t, hub.port, hub.fingerprint, mallory).then(() => false, () => true);
  t.ok(refused, 'an untrusted key is refused');
  hub.stop();
  t.equal(await hub.exit, 0);
  // same state dir → same identity
  const out = capture();
  let stop2: () => void = () => {};
  const exit2 = runBroker(['--state-dir', hub.stateDir, '--host', '127.0.0.1', '--port', '0', '--local-port', 'none', '--log-level', 'silent'],
    { stdout: out.stream, stderr: out.stream, isTTY: false }, new Promise<void>((resolve) => { stop2 = resolve; }));
  await until(() => /listening on/.test(out.text()), 'the second start');
  t.match(out.text(), hub.fingerprint);
  t.notMatch(out.text(), /local read-only/);
  stop2();
  t.equal(await exit2, 0);
});

t.test('bad flags exit 64', async (t) => {
  for (const args of [['--port', 'x'], ['--mode', 'mesh'], ['--bogus'], ['--local-port', '70000']]) {
    const err = capture();
    const code = await runBroker(args, { stdout: capture().stream, stderr: err.stream, isTTY: false }, Promise.resolve());
    t.equal(code, 64, args.join(' '));
    t.match(err.text(), /tonari broker: /);
  }
});
