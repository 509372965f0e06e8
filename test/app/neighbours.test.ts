/**
 * The neighbours composition over real sockets on 127.0.0.1: agents started through
 * startNeighbours with static peers and allow-lists (no mDNS) link up, and the control
 * socket shows them, pairs a stranger and removes it again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { RunningNeighbours } from '../../agent/app/neighbours.js';
import { askAgent, ControlClient, ControlRequestError, controlSocketPath } from '../../agent/control/client.js';
import type { IdentityResult, PeersResult, PendingResult } from '../../agent/control/protocol.js';
import { ControlSocketError } from '../../agent/control/server.js';
import { checkCodeOf } from '../../agent/identity/check-code.js';
import type { PeerCandidate } from '../../agent/discovery/index.js';
import { eventually, makeNodes, nodeConfig, removeNodes, silentStack, start, type Node } from './helpers.js';

function stopAll(agents: RunningNeighbours[]) {
  return Promise.all(agents.splice(0).map((a) => a.stop()));
}

t.test('three agents link over static peers and allow-lists; tonari peers data shows them connected with RTT', async (t) => {
  const nodes = await makeNodes(['a', 'b', 'c']);
  const agents: RunningNeighbours[] = [];
  t.teardown(async () => { await stopAll(agents); removeNodes(nodes); });
  for (const me of nodes) {
    const others = nodes.filter((n) => n !== me);
    agents.push(await start(nodeConfig(me, { staticPeers: others, trusted: others })));
  }
  const [a, b] = agents as [RunningNeighbours, RunningNeighbours, RunningNeighbours];
  const [na, nb, nc] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];

  t.ok(await eventually(() => agents.every((x) => x.mesh.peers().length === 2 && x.mesh.peers().every((p) => p.state === 'connected'))), 'full mesh');
  t.ok(await eventually(() => agents.every((x) => x.broker!.stats().peers.length === 2)), 'every broker holds both neighbours');

  const identity = await askAgent<IdentityResult>(na.stateDir, 'identity');
  t.same(
    { peerId: identity.peerId, fingerprint: identity.fingerprint, checkCode: identity.checkCode, zone: identity.zone, broker: identity.broker, local: identity.local, discovery: identity.discovery },
    { peerId: na.identity.peerId, fingerprint: na.identity.fingerprint, checkCode: na.identity.checkCode, zone: 'default', broker: { host: '127.0.0.1', port: na.port }, local: null, discovery: 'off' },
  );

  let report: PeersResult | undefined;
  t.ok(await eventually(async () => {
    report = await askAgent<PeersResult>(na.stateDir, 'peers');
    return report.peers.length === 2 && report.peers.every((p) => p.state === 'connected' && typeof p.rttMs === 'number');
  }), 'both neighbours connected, each with a round-trip time (keepalive 1 s)');
  t.same(report!.peers.map((p) => [p.peerId, p.name, p.source, p.address?.port]).sort(), [
    [nb.identity.peerId, 'b', 'static', nb.port], [nc.identity.peerId, 'c', 'static', nc.port],
  ].sort());
  t.ok(report!.peers.every((p) => p.lastSeenAgeMs !== null && p.lastSeenAgeMs >= 0 && p.lastSeenAgeMs < 10_000));
  t.equal(report!.self.peerId, na.identity.peerId);
  t.equal(report!.pairing.open, false);

  // Signed messages flow through the composed mesh.
  const got: string[] = [];
  b.mesh.onEnvelope((envelope, via) => got.push(`${envelope.type} via ${via}`));
  await a.mesh.publish('hello', { text: 'hi' });
  t.ok(await eventually(() => got.length === 1), 'b hears a');
  t.same(got, [`hello via ${na.identity.peerId}`]);

  // Stopping a: its retained status turns offline for b, and its control socket goes away.
  await a.stop();
  agents.splice(agents.indexOf(a), 1);
  t.notOk(existsSync(controlSocketPath(na.stateDir)), 'control socket removed at stop');
  t.ok(await eventually(() => b.mesh.peers().find((p) => p.peerId === na.identity.peerId)?.state !== 'connected'), 'b sees the link to a drop');
  t.ok(b.mesh.peers().find((p) => p.peerId === na.identity.peerId), 'a stays a static neighbour of b (it reconnects later)');
});

t.test('pairing over the control socket: a stranger waits, a wrong code is refused, the right one links, removal closes its sessions', async (t) => {
  const nodes = await makeNodes(['a', 'b']);
  const [na, nb] = nodes as [typeof nodes[0], typeof nodes[0]];
  const agents: RunningNeighbours[] = [];
  const client: { c?: ControlClient } = {};
  t.teardown(async () => { client.c?.close(); await stopAll(agents); removeNodes(nodes); });
  // a knows where b is but does not trust it; b trusts a and keeps knocking on a's broker.
  const a = await start(nodeConfig(na, { staticPeers: [nb], trusted: [] }));
  agents.push(a);
  const b = await start(nodeConfig(nb, { staticPeers: [na], trusted: [na] }));
  agents.push(b);

  const c = await ControlClient.connect(controlSocketPath(na.stateDir));
  client.c = c;
  t.ok(await eventually(async () => {
    const report = await c.request<PeersResult>('peers');
    return (report.refused.tls.unknown_peer ?? 0) > 0 && (report.refused.trust.unknown_peer ?? 0) > 0;
  }), 'outside a window b is refused at the handshake and counted');
  const before = await c.request<PeersResult>('peers');
  t.same(before.peers.map((p) => [p.peerId, p.state]), [[nb.identity.peerId, 'untrusted']], 'b listed as an untrusted candidate');
  t.same(a.mesh.peers(), [], 'no link to an untrusted key');

  const opened = await c.request<{ closesAt: number; checkCode: string }>('pair-open', { windowMs: 60_000 });
  t.equal(opened.checkCode, na.identity.checkCode, 'pair-open shows our own check code');
  let pending: PendingResult | undefined;
  t.ok(await eventually(async () => {
    pending = await c.request<PendingResult>('pair-pending');
    return pending.pending.length === 1;
  }), 'b waits for its code');
  t.equal(pending!.open, true);
  t.equal(pending!.pending[0]!.fingerprint, nb.identity.fingerprint);
  t.equal(pending!.pending[0]!.peerId, nb.identity.peerId);

  const wrong = checkCodeOf('00'.repeat(32));
  const refusal = await c.request('pair-confirm', { fingerprint: nb.identity.fingerprint, code: wrong }).catch((e: unknown) => e);
  t.type(refusal, ControlRequestError);
  t.equal((refusal as ControlRequestError).code, 'wrong_code');
  t.notOk(a.trust.isTrusted(nb.identity.fingerprint), 'a wrong code trusts nothing');
  t.equal((await c.request<PendingResult>('pair-pending')).pending.length, 1, 'still waiting after one wrong code');

  const confirmed = await c.request<{ peerId: string }>('pair-confirm', { fingerprint: nb.identity.fingerprint.toUpperCase(), code: nb.identity.checkCode });
  t.equal(confirmed.peerId, nb.identity.peerId);
  t.ok(await eventually(() => a.mesh.peers().some((p) => p.peerId === nb.identity.peerId && p.state === 'connected')), 'a links to b');
  t.ok(await eventually(() => b.mesh.peers().some((p) => p.peerId === na.identity.peerId && p.state === 'connected')), 'b\'s knocking link gets in');
  t.ok(await eventually(() => a.broker!.stats().peers.includes(nb.identity.peerId)));
  const file = JSON.parse(readFileSync(join(na.stateDir, 'trusted-peers.json'), 'utf8')) as { peers: { fingerprint: string }[] };
  t.same(file.peers.map((p) => p.fingerprint), [nb.identity.fingerprint], 'the pairing is saved');

  const removedAt = Date.now();
  t.same(await c.request('pair-remove', { fingerprint: nb.identity.fingerprint }), { fingerprint: nb.identity.fingerprint });
  t.ok(await eventually(() => !a.broker!.stats().peers.includes(nb.identity.peerId) && a.mesh.peers().length === 0, 5000), 'b\'s sessions closed');
  t.ok(Date.now() - removedAt < 5000, `within 5 s (${Date.now() - removedAt} ms)`);
  t.ok(await eventually(() => b.mesh.peers().find((p) => p.peerId === na.identity.peerId)?.state !== 'connected', 5000), 'b is out');
  const refusedBefore = (await c.request<PeersResult>('peers')).refused.tls.unknown_peer ?? 0;
  t.ok(await eventually(async () => ((await c.request<PeersResult>('peers')).refused.tls.unknown_peer ?? 0) > refusedBefore), 'and refused again afterwards');

  const again = await c.request('pair-remove', { fingerprint: nb.identity.fingerprint }).catch((e: unknown) => e);
  t.equal((again as ControlRequestError).code, 'not_found');
  const configured = await askAgent('' + nb.stateDir, 'pair-remove', { fingerprint: na.identity.fingerprint }).catch((e: unknown) => e);
  t.equal((configured as ControlRequestError).code, 'configured', 'an allow-listed neighbour is removed in the config only');
  await c.request('pair-close');
  t.equal((await c.request<PendingResult>('pair-pending')).open, false);
});

t.test('a second agent on the same state directory is refused and leaves nothing running', async (t) => {
  const nodes = await makeNodes(['a']);
  const [na] = nodes as [typeof nodes[0]];
  const agents: RunningNeighbours[] = [];
  t.teardown(async () => { await stopAll(agents); removeNodes(nodes); });
  agents.push(await start(nodeConfig(na, { staticPeers: [], trusted: [] })));
  const other = { ...nodeConfig(na, { staticPeers: [], trusted: [] }) };
  other.mesh = { ...other.mesh, listen: { host: '127.0.0.1', port: 0 } };
  const error = await start(other).then(() => undefined, (e: unknown) => e);
  t.type(error, ControlSocketError);
  t.equal((error as ControlSocketError).code, 'in_use');
  t.ok(existsSync(controlSocketPath(na.stateDir)), 'the first agent\'s socket is untouched');
  t.equal((await askAgent<IdentityResult>(na.stateDir, 'identity')).broker?.port, na.port, 'and it still answers');
});

t.test('discovery feeds the mesh: adverts in our zone link, other zones are ignored, lost mDNS peers are forgotten, static ones stay', async (t) => {
  const nodes = await makeNodes(['a', 'b', 'c']);
  const [na, nb, nc] = nodes as [Node, Node, Node];
  const agents: RunningNeighbours[] = [];
  t.teardown(async () => { await stopAll(agents); removeNodes(nodes); });
  const config = nodeConfig(na, { staticPeers: [nc], trusted: [nb, nc] });
  const a = await start({ ...config, mesh: { ...config.mesh, discovery: true } }, { discovery: { openStack: silentStack } });
  agents.push(a);
  agents.push(await start(nodeConfig(nb, { staticPeers: [], trusted: [na] })));
  agents.push(await start(nodeConfig(nc, { staticPeers: [], trusted: [na] })));
  const discovery = a.discovery!;
  t.ok(discovery, 'discovery runs');
  t.equal((await askAgent<IdentityResult>(na.stateDir, 'identity')).discovery, 'binding');

  const advert = (n: Node, over: Partial<PeerCandidate> = {}): PeerCandidate => ({
    peerId: n.identity.peerId, fingerprint: n.identity.fingerprint, zone: 'default', host: `${n.identity.peerId}.local`,
    addresses: ['127.0.0.1'], port: n.port, version: 1, source: '127.0.0.1', ...over,
  });
  const linked = (n: Node) => a.mesh.peers().find((p) => p.peerId === n.identity.peerId);

  discovery.emit('peerSeen', advert(nb, { zone: 'kita' }));
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(linked(nb), 'an advert from another zone is ignored');

  discovery.emit('peerSeen', advert(nb));
  t.ok(await eventually(() => linked(nb)?.state === 'connected'), 'an advert in our zone links a trusted neighbour');
  t.ok(await eventually(() => linked(nc)?.state === 'connected'), 'the static neighbour links too');
  const rows = (await askAgent<PeersResult>(na.stateDir, 'peers')).peers;
  t.same(rows.map((r) => [r.peerId, r.source]).sort(), [[nb.identity.peerId, 'mdns'], [nc.identity.peerId, 'static']].sort());

  discovery.emit('peerSeen', advert(nc, { port: 1 }));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(linked(nc)?.address.port, nc.port, 'mDNS never overrides a static address');

  discovery.emit('peerLost', nb.identity.peerId, 'timeout');
  t.ok(await eventually(() => linked(nb) === undefined), 'a neighbour lost over mDNS is forgotten');
  discovery.emit('peerLost', nc.identity.peerId, 'timeout');
  await new Promise((r) => setTimeout(r, 100));
  t.equal(linked(nc)?.state, 'connected', 'a static neighbour is not');
});
