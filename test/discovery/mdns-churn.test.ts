// MD-6: interface churn. Flush the address of one host long enough for the
// other to lose it, re-add it: rediscovered within 15 s, nobody crashed.
import t from 'tap';
import { createLan, requireNetns } from '../system/netns.js';
import { AGENT_FIXTURE, ensureBuilt, LineProc, newIdentity } from './helpers.js';

t.test('address flush and re-add: peer rediscovered within 15 s', async (t) => {
  if (!requireNetns(t)) return;
  ensureBuilt();
  const lan = createLan(2);
  t.teardown(() => lan.destroy());
  const [h1, h2] = lan.hosts as [typeof lan.hosts[0], typeof lan.hosts[0]];
  const a = newIdentity();
  const b = newIdentity();
  const agentA = new LineProc(h1.node(AGENT_FIXTURE, [JSON.stringify({ ...a, zone: 'z1', port: 18883 })]), 'agentA');
  const agentB = new LineProc(h2.node(AGENT_FIXTURE, [JSON.stringify({ ...b, zone: 'z1', port: 18884 })]), 'agentB');
  t.teardown(() => [agentA, agentB].forEach((p) => p.kill('SIGKILL')));
  await agentA.waitFor((l) => l.ev === 'seen' && l.peer.peerId === b.peerId, 15_000, 'A sees B');
  await agentB.waitFor((l) => l.ev === 'seen' && l.peer.peerId === a.peerId, 15_000, 'B sees A');

  const mark = agentA.lines.length;
  t.equal(h2.run('ip', ['addr', 'flush', 'dev', h2.iface]).status, 0, 'address flushed');
  await agentA.waitFor((l) => l.ev === 'lost' && l.peerId === b.peerId, 15_000, 'A loses B while B has no address', mark);
  const mark2 = agentA.lines.length;
  t.equal(h2.run('ip', ['addr', 'add', `${h2.address}/24`, 'dev', h2.iface]).status, 0, 'address re-added');
  t.equal(h2.run('ip', ['route', 'replace', '224.0.0.0/4', 'dev', h2.iface]).status, 0, 'multicast route in place');
  const readdedAt = Date.now();
  const seen = await agentA.waitFor((l) => l.ev === 'seen' && l.peer.peerId === b.peerId, 15_000, 'B rediscovered', mark2);
  t.ok(seen.t - readdedAt <= 15_000, `rediscovered after ${seen.t - readdedAt} ms`);
  t.equal(seen.peer.addresses[0], h2.address);
  t.ok(agentA.running && agentB.running, 'both agents still running');
  for (const agent of [agentA, agentB]) t.notMatch(agent.stderr, /discovery_internal_error|discovery_listener_failed/);
});
