/** Third-party client interop: Debian's mosquitto_sub against the broker's TLS listener. */
import { spawn } from 'node:child_process';
import t from 'tap';
import { requireTool, toolAvailable } from '../helpers/tools.js';
import { makeIdentity, startTestBroker, type TestIdentity } from './helpers.js';

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs a command asynchronously (the broker lives in this process, so no spawnSync). */
function run(command: string, args: string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

const hasMosquitto = toolAvailable('mosquitto_sub', ['--help']);

t.test('mosquitto_sub over mutual TLS', async (t) => {
  if (!requireTool(t, hasMosquitto, 'mosquitto_sub', 'mosquitto-clients')) return;
  const owner = makeIdentity('owner');
  const alice = makeIdentity('alice');
  const bob = makeIdentity('bob');
  const tb = await startTestBroker(t, owner, [alice, bob]);
  const { port } = tb.broker.tlsAddress();
  const O = owner.peerId;
  // --cafile = the owner's self-signed certificate (pins it); --insecure skips the host name check only.
  const sub = (self: TestIdentity | undefined, topic: string, extra: string[] = []) => run('mosquitto_sub', [
    '-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311', '--cafile', owner.certFile, '--insecure',
    ...(self ? ['--cert', self.certFile, '--key', self.keyFile, '-i', self.peerId] : ['-i', alice.peerId]),
    '-t', topic, '-C', '1', '-W', '10', '-v', ...extra,
  ]);

  await tb.broker.publish(`tonari/v1/${O}/status`, 'online', { qos: 1, retain: true });

  t.test('a trusted certificate may read the owner\'s status', async (t) => {
    const res = await sub(alice, `tonari/v1/${O}/status`);
    t.equal(res.code, 0, res.stderr);
    t.equal(res.stdout, `tonari/v1/${O}/status online\n`);
  });

  t.test('and the public subtree', async (t) => {
    const res = sub(alice, `tonari/v1/${O}/pub/#`);
    // publish repeatedly until mosquitto_sub has subscribed and received one (bounded)
    let done = false;
    void res.then(() => { done = true; });
    for (let i = 0; i < 200 && !done; i++) {
      await tb.broker.publish(`tonari/v1/${O}/pub/offer`, 'w=1500');
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await res;
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, `tonari/v1/${O}/pub/offer w=1500\n`);
  });

  t.test('but not messages to another neighbour', async (t) => {
    const before = tb.broker.stats().rejected.acl;
    const res = await sub(alice, `tonari/v1/${O}/to/${bob.peerId}/x`);
    // mosquitto_sub 2.0.11 reports the SUBACK 0x80 and exits at once, with status 0
    t.match(res.stderr, /All subscription requests were denied/);
    t.equal(res.stdout, '');
    t.equal(tb.broker.stats().rejected.acl, before + 1);
  });

  t.test('nor the whole namespace', async (t) => {
    const res = await sub(alice, 'tonari/v1/#');
    t.match(res.stderr, /All subscription requests were denied/);
    t.equal(res.stdout, '');
  });

  t.test('a foreign client id is refused at CONNECT', async (t) => {
    const res = await sub(alice, `tonari/v1/${O}/status`, ['-i', bob.peerId]);
    t.not(res.code, 0);
    t.match(res.stderr, /not authori[sz]ed/i);
    t.equal(res.stdout, '');
  });

  t.test('without a certificate the handshake is refused', async (t) => {
    const before = tb.broker.stats().tlsRejected.no_cert + tb.broker.stats().tlsRejected.handshake;
    const res = await sub(undefined, `tonari/v1/${O}/status`);
    t.not(res.code, 0);
    t.equal(res.stdout, '');
    t.ok(tb.broker.stats().tlsRejected.no_cert + tb.broker.stats().tlsRejected.handshake > before, 'counted');
    t.equal(tb.broker.stats().clients, 0);
  });

  t.test('with an unknown certificate the connection is refused', async (t) => {
    const mallory = makeIdentity('mallory');
    const res = await sub(mallory, `tonari/v1/${O}/status`);
    t.not(res.code, 0);
    t.equal(res.stdout, '');
    t.same(tb.unknown, [mallory.fingerprint]);
  });
});
