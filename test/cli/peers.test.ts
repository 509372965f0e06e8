/**
 * The built CLI against a running agent's control socket: `tonari peers [--json]`,
 * `tonari pair --window … --code FP=CODE`, and `tonari pair --add/--remove` going
 * through the agent. The agents run in this process (started through startNeighbours).
 * Also `tonari run --demo` with its mesh on loopback.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import type { RunningNeighbours } from '../../agent/app/neighbours.js';
import type { NeighbourRow } from '../../agent/control/protocol.js';
import { eventually, makeNodes, nodeConfig, removeNodes, start, type Node } from '../app/helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'dist/agent/cli/bin.js');
const exec = promisify(execFile);

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

t.before(async () => {
  // Build when dist is missing or older than the sources, so the test never runs stale code.
  const newest = Math.max(await newestSource(join(root, 'agent')), await newestSource(join(root, 'broker')));
  if (!existsSync(bin) || statSync(bin).mtimeMs < newest) await exec('npm', ['run', 'build'], { cwd: root, timeout: 120_000 });
});

/** Runs the CLI without blocking this process's event loop (the agents answer from here). */
async function tonari(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { timeout: 30_000, env: { ...process.env, STATE_DIRECTORY: '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

t.test('tonari peers [--json] asks the running agent', async (t) => {
  const nodes = await makeNodes(['a', 'b']);
  const [na, nb] = nodes as [Node, Node];
  const agents: RunningNeighbours[] = [];
  t.teardown(async () => { await Promise.all(agents.map((a) => a.stop())); removeNodes(nodes); });
  agents.push(await start(nodeConfig(na, { staticPeers: [nb], trusted: [nb] })));
  agents.push(await start(nodeConfig(nb, { staticPeers: [na], trusted: [na] })));
  t.ok(await eventually(() => agents.every((a) => a.mesh.peers()[0]?.state === 'connected' && a.mesh.peers()[0]?.rttMs !== undefined)));

  const json = await tonari(['peers', '--state-dir', na.stateDir, '--json']);
  t.equal(json.code, 0, json.stderr);
  const lines = json.stdout.trim().split('\n');
  t.equal(lines.length, 1, 'one line');
  const rows = JSON.parse(lines[0]!) as NeighbourRow[];
  t.ok(Array.isArray(rows), 'a JSON array');
  t.match(rows, [{ peerId: nb.identity.peerId, name: 'b', fingerprint: nb.identity.fingerprint, state: 'connected', source: 'static', address: { host: '127.0.0.1', port: nb.port }, rttMs: Number, rejections: {} }]);

  const table = await tonari(['peers', '--state-dir', nb.stateDir]);
  t.equal(table.code, 0, table.stderr);
  const out = table.stdout.split('\n');
  t.match(out[0], `this agent ${nb.identity.peerId}, zone default`);
  t.match(out[1], /^PEER ID\s+NAME\s+STATE\s+ADDRESS\s+LAST SEEN\s+RTT\s+REJECTED$/);
  t.match(out[2], new RegExp(`^${na.identity.peerId}\\s+a\\s+connected\\s+127\\.0\\.0\\.1:${na.port}\\s+\\d+s ago\\s+\\d+ ms\\s+-$`));
  t.match(out[3], /^refused connections: /);
});

t.test('tonari peers and pair --window without a running agent: exit 69 and say so', async (t) => {
  const nodes = await makeNodes(['lonely']);
  t.teardown(() => removeNodes(nodes));
  const peers = await tonari(['peers', '--state-dir', nodes[0]!.stateDir, '--json']);
  t.equal(peers.code, 69);
  t.equal(peers.stdout, '');
  t.match(peers.stderr, /no running tonari agent answers at .*control\.sock \(no control socket\)\n/);
  t.match(peers.stderr, /tonari peers: no agent runs with state directory .*: start it \(sudo systemctl start tonari, or tonari run --config FILE\)/, 'and what to do next');
  const pair = await tonari(['pair', '--state-dir', nodes[0]!.stateDir, '--window', '1m']);
  t.equal(pair.code, 69);
  t.match(pair.stderr, /--window needs a running agent/);
  t.match(pair.stderr, /tonari pair: no agent runs with state directory/);
});

t.test('tonari pair --window --code FP=CODE pairs a knocking neighbour; --remove goes through the agent', async (t) => {
  const nodes = await makeNodes(['a', 'b', 'c']);
  const [na, nb, nc] = nodes as [Node, Node, Node];
  const agents: RunningNeighbours[] = [];
  t.teardown(async () => { await Promise.all(agents.map((a) => a.stop())); removeNodes(nodes); });
  const a = await start(nodeConfig(na, { staticPeers: [nb, nc], trusted: [] }));
  agents.push(a);
  agents.push(await start(nodeConfig(nb, { staticPeers: [na], trusted: [na] })));
  agents.push(await start(nodeConfig(nc, { staticPeers: [na], trusted: [na] })));

  const wrongCode = na.identity.checkCode; // a valid code, but a's own
  const pair = await tonari(['pair', '--state-dir', na.stateDir, '--window', '30s',
    '--code', `${nb.identity.fingerprint}=${nb.identity.checkCode}`, '--code', `${nc.identity.fingerprint}=${wrongCode}`]);
  t.equal(pair.code, 1, 'exit 1: one neighbour was refused');
  t.match(pair.stdout, `this agent: ${na.identity.peerId}, check code ${na.identity.checkCode}`);
  t.match(pair.stdout, `neighbour waiting: ${nb.identity.peerId}`);
  t.match(pair.stdout, `paired ${nb.identity.peerId}`);
  t.match(pair.stderr, `${nc.identity.peerId} refused: the check code does not belong to this fingerprint`);
  t.ok(a.trust.isTrusted(nb.identity.fingerprint));
  t.notOk(a.trust.isTrusted(nc.identity.fingerprint));
  t.equal(a.trust.pairingOpen(), false, 'the window is closed when the job is done');
  t.ok(await eventually(() => a.mesh.peers().some((p) => p.peerId === nb.identity.peerId && p.state === 'connected')), 'a and b linked');

  const add = await tonari(['pair', '--state-dir', na.stateDir, '--add', nc.identity.fingerprint, '--code', nc.identity.checkCode, '--name', 'Suzuki']);
  t.equal(add.code, 0, add.stderr);
  t.equal(add.stdout, `paired ${nc.identity.peerId} (Suzuki)\n`);
  t.ok(await eventually(() => a.mesh.peers().some((p) => p.peerId === nc.identity.peerId && p.state === 'connected')), '--add through the running agent links at once');

  const remove = await tonari(['pair', '--state-dir', na.stateDir, '--remove', nb.identity.fingerprint]);
  t.equal(remove.code, 0, remove.stderr);
  t.ok(await eventually(() => !a.broker!.stats().peers.includes(nb.identity.peerId), 5000), 'b\'s session closed by the running agent');
  const list = await tonari(['pair', '--state-dir', na.stateDir, '--list']);
  t.match(list.stdout, nc.identity.fingerprint);
  t.notMatch(list.stdout, nb.identity.fingerprint);
});

t.test('tonari run --demo runs the mesh on loopback with its state in ./.tonari-demo, and cleans up on SIGINT', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'tn-demo-'));
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }));
  const child = spawn(process.execPath, [bin, 'run', '--demo'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => { child.kill('SIGKILL'); });
  const stateDir = join(cwd, '.tonari-demo');
  let peers: { code: number; stdout: string; stderr: string } | undefined;
  t.ok(await eventually(async () => {
    peers = await tonari(['peers', '--state-dir', stateDir, '--json']);
    return peers.code === 0;
  }, 20_000), `the demo answers on its control socket (${output.slice(-500)})`);
  t.equal(peers!.stdout, '[]\n', 'alone: no neighbours');
  const lines = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const broker = lines.find((l) => l.msg === 'embedded broker listening');
  t.match(broker, { tls: /^127\.0\.0\.1:\d+$/, local: null }, 'broker on loopback only, no plaintext listener');
  t.match(lines.find((l) => l.msg === 'discovery state'), { state: 'off' }, 'no multicast');
  t.ok(lines.some((l) => typeof l.checkCode === 'string' && typeof l.peerId === 'string'), 'identity logged');
  t.notOk(output.includes('PRIVATE KEY'), 'never the key');
  child.kill('SIGINT');
  t.equal(await exited, 0);
  t.notOk(existsSync(join(stateDir, 'control.sock')), 'control socket removed');
  t.ok(existsSync(join(stateDir, 'identity.key')), 'the demo keeps its identity for the next run');
});
