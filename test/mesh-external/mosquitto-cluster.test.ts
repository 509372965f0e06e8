/**
 * External-broker mode against Debian's Mosquitto: agents configured with
 * mesh.broker (parsed from YAML) reach each other only through one shared
 * Mosquitto with TLS 1.3, client certificates (the agents' own identity
 * certificates, CN = peer id = MQTT user name) and a per-client topic pattern
 * ACL under a community prefix. Keys come from the retained status topics;
 * envelopes are the same signed ones as in the embedded mesh.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { MqttClient } from 'mqtt';
import t from 'tap';
import type { RunningNeighbours } from '../../agent/app/neighbours.js';
import { configToYaml, defaultConfig, parseConfigText } from '../../agent/config/index.js';
import { ClusterUnavailableError, type Mesh } from '../../agent/mesh/mesh.js';
import type { Envelope } from '../../agent/mesh/envelope-schema.js';
import { eventually, freePort, makeNodes, removeNodes, start, type Node } from '../app/helpers.js';
import { requireTool, toolAvailable } from '../helpers/tools.js';

const MOSQUITTO = '/usr/sbin/mosquitto';
const hasMosquitto = toolAvailable(MOSQUITTO, ['-h']) || spawnSync(MOSQUITTO, ['-h']).status !== null;
const hasOpenssl = toolAvailable('openssl', ['version']);
const PREFIX = 'community-a';

function sh(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** A CA and a server certificate for cluster.test / 127.0.0.1 signed by it; the SPKI pin computed by openssl as docs/protocol.md tells operators. */
function makeServerPki(dir: string): { caFile: string; pin: string } {
  sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=tonari test community CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], dir);
  sh('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=cluster.test'], dir);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:cluster.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  sh('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext'], dir);
  const der = spawnSync('sh', ['-c', 'openssl x509 -in server.pem -pubkey -noout | openssl pkey -pubin -outform der | sha256sum'], { cwd: dir, encoding: 'utf8' });
  return { caFile: join(dir, 'ca.pem'), pin: der.stdout.split(' ')[0]! };
}

function writeMosquittoConfig(dir: string, port: number, clientCerts: string[]): string {
  writeFileSync(join(dir, 'clients.pem'), clientCerts.join(''));
  // The per-client topic pattern: %u is the user name, which is the certificate's CN, which is the peer id.
  writeFileSync(join(dir, 'acl.conf'), [
    `pattern write ${PREFIX}/tonari/v1/%u/#`,
    `pattern read ${PREFIX}/tonari/v1/+/status`,
    `pattern read ${PREFIX}/tonari/v1/+/pub/#`,
    `pattern read ${PREFIX}/tonari/v1/+/to/%u/#`,
    '',
  ].join('\n'));
  const conf = join(dir, 'mosquitto.conf');
  // Started as root, mosquitto drops to its own user, which must be able to read the throwaway test PKI.
  chmodSync(dir, 0o755);
  for (const file of ['clients.pem', 'acl.conf', 'server.pem', 'server.key']) chmodSync(join(dir, file), 0o644);
  writeFileSync(conf, [
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    `listener ${port} 127.0.0.1`,
    `cafile ${join(dir, 'clients.pem')}`,
    `certfile ${join(dir, 'server.pem')}`,
    `keyfile ${join(dir, 'server.key')}`,
    'require_certificate true',
    'use_identity_as_username true',
    'tls_version tlsv1.3',
    'allow_anonymous false',
    `acl_file ${join(dir, 'acl.conf')}`,
    '',
  ].join('\n'));
  return conf;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

async function startMosquitto(conf: string, port: number): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => { log = (log + chunk.toString()).slice(-20_000); });
  if (!(await eventually(() => portOpen(port), 10_000))) {
    child.kill('SIGKILL');
    throw new Error(`mosquitto did not listen on ${port}: ${log}`);
  }
  return { child, log: () => log };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

/** The agent's config as an installer writes it: YAML with mesh.broker, parsed by the real loader. */
function externalConfig(me: Node, trusted: Node[], port: number, auth: { pin: string } | { caFile: string }) {
  const base = defaultConfig();
  const yaml = configToYaml({
    ...base,
    stateDir: me.stateDir,
    mesh: {
      ...base.mesh,
      broker: {
        url: `mqtts://127.0.0.1:${port}`,
        topicPrefix: PREFIX,
        ...('pin' in auth ? { fingerprint: auth.pin } : { caFile: auth.caFile, servername: 'cluster.test' }),
      },
    },
    trust: { peers: trusted.map((p) => ({ fingerprint: p.identity.fingerprint, name: p.name })) },
  });
  const config = parseConfigText(yaml, `${me.name}.yaml`);
  return { stateDir: config.stateDir, household: config.household, mesh: config.mesh, trust: config.trust };
}

function collect(mesh: Mesh): Envelope[] {
  const got: Envelope[] = [];
  mesh.onEnvelope((envelope) => got.push(envelope));
  return got;
}

const fullyMeshed = (agents: RunningNeighbours[], n: number) =>
  agents.every((a) => {
    const peers = a.mesh.peers().filter((p) => agents.some((b) => b.identity.peerId === p.peerId));
    return peers.length === n && peers.every((p) => p.state === 'connected' && p.transport === 'cluster');
  });

t.test('agents in external-broker mode mesh through a real Mosquitto with TLS and a per-client topic pattern', async (t) => {
  if (!requireTool(t, hasMosquitto, 'mosquitto', 'mosquitto')) return;
  if (!requireTool(t, hasOpenssl, 'openssl', 'openssl')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tn-cluster-'));
  const nodes = await makeNodes(['a', 'b', 'c', 'd']);
  const [na, nb, nc, nd] = nodes as [Node, Node, Node, Node];
  const agents = new Map<string, RunningNeighbours>();
  let mosquitto: { child: ChildProcess; log: () => string } | undefined;
  t.teardown(async () => {
    await Promise.all([...agents.values()].map((a) => a.stop()));
    if (mosquitto) await stopProcess(mosquitto.child);
    removeNodes(nodes);
    rmSync(dir, { recursive: true, force: true });
  });

  const { caFile, pin } = makeServerPki(dir);
  t.match(pin, /^[0-9a-f]{64}$/, 'openssl computed the SPKI pin');
  const port = await freePort();
  // d holds a certificate the cluster accepts, but no agent trusts d.
  const conf = writeMosquittoConfig(dir, port, nodes.map((n) => n.identity.certPem));
  mosquitto = await startMosquitto(conf, port);

  const trio = [na, nb, nc];
  const others = (me: Node) => trio.filter((n) => n !== me);
  const configs = new Map<Node, ReturnType<typeof externalConfig>>([
    [na, externalConfig(na, others(na), port, { pin })],
    [nb, externalConfig(nb, others(nb), port, { caFile })],
    [nc, externalConfig(nc, others(nc), port, { caFile })],
    [nd, externalConfig(nd, trio, port, { pin })],
  ]);
  for (const node of nodes) agents.set(node.name, await start(configs.get(node)!));
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => agents.get(name)!) as [RunningNeighbours, RunningNeighbours, RunningNeighbours, RunningNeighbours];
  t.equal(a.broker, undefined, 'no embedded broker in external-broker mode');
  t.equal(a.discovery, undefined, 'and no mDNS');
  t.equal(a.mesh.mode, 'external');

  t.ok(await eventually(() => fullyMeshed([a, b, c], 2), 15_000), `a, b and c see each other connected through the cluster (errors: ${JSON.stringify([a, b, c].map((x) => x.mesh.clusterStatus()?.lastError))}; mosquitto: ${mosquitto.log().slice(-600)})`);
  t.ok(a.mesh.peers().every((p) => p.address.port === port), 'the peers\' address is the cluster');

  const gotB = collect(b.mesh);
  const gotC = collect(c.mesh);
  const gotD = collect(d.mesh);

  await t.test('public messages reach every trusted neighbour, signed by the sender', async (t) => {
    const sent = await a.mesh.publish('offer', { wh: 1500, sen: 1200 });
    t.ok(await eventually(() => gotB.some((e) => e.id === sent.id) && gotC.some((e) => e.id === sent.id), 10_000));
    t.same(gotB.find((e) => e.id === sent.id)?.body, { wh: 1500, sen: 1200 });
    t.equal(gotB.find((e) => e.id === sent.id)?.from, na.identity.peerId);
  });

  await t.test('a direct message reaches its recipient only: the cluster withholds it from everyone else', async (t) => {
    // d subscribes to b's inbox with its valid certificate: the pattern ACL refuses it.
    const probe = new MqttClient(() => tlsConnect({ host: '127.0.0.1', port, key: nd.identity.keyPem, cert: nd.identity.certPem, ca: [readFileSync(caFile, 'utf8')], servername: 'cluster.test' }), {
      clientId: 'probe', protocolVersion: 4, reconnectPeriod: 0, clean: true,
    });
    t.teardown(() => { probe.end(true); });
    await new Promise<void>((resolve, reject) => { probe.once('connect', () => resolve()); probe.once('error', reject); });
    const stolen: string[] = [];
    probe.on('message', (topic) => stolen.push(topic));
    // Mosquitto 2.0 grants a wildcard subscription and applies the read ACL to each message it would deliver.
    await probe.subscribeAsync(`${PREFIX}/tonari/v1/+/to/${nb.identity.peerId}/#`, { qos: 1 });

    const sent = await a.mesh.send(nb.identity.peerId, 'accept', { order: 'x1' });
    t.ok(await eventually(() => gotB.some((e) => e.id === sent.id), 10_000), 'b got it');
    await new Promise((r) => setTimeout(r, 300));
    t.notOk(gotC.some((e) => e.id === sent.id), 'c did not');
    t.notOk(gotD.some((e) => e.id === sent.id), 'd (subscribed to what is addressed to d) did not');
    t.same(stolen, [], 'a client subscribing to b\'s inbox gets nothing');

    // Impersonation: d publishes on a's root. The cluster drops it; nobody counts anything because nothing arrives.
    const before = b.mesh.rejections.snapshot().total;
    const receivedBefore = gotB.length;
    await probe.publishAsync(`${PREFIX}/tonari/v1/${na.identity.peerId}/pub/offer`, '{"forged":true}', { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    t.equal(gotB.length, receivedBefore, 'the forged publication never reached b');
    t.equal(b.mesh.rejections.snapshot().total, before, 'and was not even seen');
  });

  await t.test('an agent nobody trusts is heard but refused and counted', async (t) => {
    await d.mesh.publish('offer', { wh: 99 });
    t.ok(await eventually(() => (a.mesh.rejections.snapshot().byReason.unknown_peer ?? 0) > 0, 10_000), 'a counts unknown_peer');
    t.ok(a.mesh.untrustedCandidates.has(nd.identity.fingerprint), 'd\'s key is a refused candidate');
    t.ok(a.candidates.list().some((cand) => cand.peerId === nd.identity.peerId && cand.source === 'cluster'), 'and a pairing candidate from the cluster');
    t.notOk(a.mesh.peers().some((p) => p.peerId === nd.identity.peerId), 'not a neighbour');
    t.ok(d.mesh.peers().every((p) => p.state === 'connected'), 'd itself trusts a, b and c and hears them (public topics are readable)');
  });

  await t.test('a wrong pin never connects, and says why', async (t) => {
    const [ne] = await makeNodes(['e']);
    t.teardown(() => removeNodes([ne!]));
    const wrong = externalConfig(ne!, trio, port, { pin: 'ab'.repeat(32) });
    const e = await start(wrong);
    t.teardown(() => e.stop());
    t.ok(await eventually(() => /does not match the pin/.test(e.mesh.clusterStatus()?.lastError ?? ''), 10_000), e.mesh.clusterStatus()?.lastError ?? 'no error yet');
    t.equal(e.mesh.clusterStatus()?.connects, 0);
  });

  await t.test('a neighbour that leaves is seen offline, and rejoins', async (t) => {
    await c.stop();
    agents.delete('c');
    t.ok(await eventually(() => a.mesh.peers().find((p) => p.peerId === nc.identity.peerId)?.state === 'waiting', 10_000), 'a sees c gone');
    t.equal(a.mesh.peers().find((p) => p.peerId === nc.identity.peerId)?.online, false);
    const c2 = await start(configs.get(nc)!);
    agents.set('c', c2);
    t.ok(await eventually(() => fullyMeshed([a, b, c2], 2), 15_000), 'c rejoined');
  });

  await t.test('when the cluster goes away nothing is queued; when it is back the mesh recovers', async (t) => {
    await stopProcess(mosquitto!.child);
    t.ok(await eventually(() => a.mesh.clusterStatus()?.state !== 'connected', 10_000), 'a noticed');
    await t.rejects(a.mesh.publish('offer', { wh: 1 }), ClusterUnavailableError, 'publishing fails at once instead of queueing');
    t.ok((a.mesh.clusterStatus()?.publishesDropped ?? 0) >= 1, 'and is counted');
    mosquitto = await startMosquitto(conf, port);
    const all = [a, b, agents.get('c')!];
    // Mosquitto forgot the retained statuses (no persistence): each agent announces itself again on reconnect.
    t.ok(await eventually(() => fullyMeshed(all, 2), 20_000), 'full mesh again');
    const gotA = collect(a.mesh);
    const sent = await b.mesh.publish('offer', { wh: 7 });
    t.ok(await eventually(() => gotA.some((e) => e.id === sent.id), 10_000), 'and messages flow');
  });
});
