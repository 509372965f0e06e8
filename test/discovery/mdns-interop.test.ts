// Interop with software nobody here wrote: python-zeroconf (/usr/bin/python3)
// browses our advert and publishes adverts we browse, including a spoof of a
// known peer id with another fingerprint (MD-5: an event, no change).
import t from 'tap';
import path from 'node:path';
import { pythonModuleAvailable, requireTool } from '../helpers/tools.js';
import { createLan, requireNetns } from '../system/netns.js';
import { AGENT_FIXTURE, ensureBuilt, FIXTURES, LineProc, newIdentity } from './helpers.js';

const PY = '/usr/bin/python3';

t.test('python-zeroconf both ways, and a spoofed advert', async (t) => {
  if (!requireNetns(t)) return;
  if (!requireTool(t, pythonModuleAvailable('zeroconf'), 'python3-zeroconf for /usr/bin/python3', 'python3-zeroconf')) return;
  ensureBuilt();
  const lan = createLan(4);
  t.teardown(() => lan.destroy());
  const [hA, hBrowse, hZc, hB] = lan.hosts as [typeof lan.hosts[0], typeof lan.hosts[0], typeof lan.hosts[0], typeof lan.hosts[0]];
  const a = newIdentity();
  const b = newIdentity();
  const z = newIdentity();
  const other = newIdentity();

  const agentA = new LineProc(hA.node(AGENT_FIXTURE, [JSON.stringify({ ...a, zone: 'z1', port: 18883 })]), 'agentA');
  const agentB = new LineProc(hB.node(AGENT_FIXTURE, [JSON.stringify({ ...b, zone: 'z1', port: 18884 })]), 'agentB');
  const browser = new LineProc(hBrowse.exec(PY, [path.join(FIXTURES, 'zc_browse.py'), '60']), 'zc-browse');
  const zcTxt = { id: z.peerId, v: '1', zone: 'zc-zone', port: '18885', fp: z.fingerprint };
  const publisher = new LineProc(hZc.exec(PY, [path.join(FIXTURES, 'zc_publish.py'), JSON.stringify({ name: z.peerId, port: 18885, address: hZc.address, txt: zcTxt })]), 'zc-publish');
  t.teardown(() => [agentA, agentB, browser, publisher].forEach((p) => p.kill('SIGKILL')));

  // zeroconf sees our advert with the right TXT, port and address.
  const added = await browser.waitFor((l) => l.ev === 'added' && l.name === `${a.peerId}._tonari._tcp.local.`, 20_000, 'our advert in zeroconf');
  t.same(added.txt, { id: a.peerId, v: '1', zone: 'z1', port: '18883', fp: a.fingerprint });
  t.equal(added.port, 18883);
  t.ok(added.addresses.includes(hA.address), `zeroconf resolved ${JSON.stringify(added.addresses)}`);
  t.equal(added.server, `${a.peerId}.local.`);

  // We see zeroconf's advert.
  await publisher.waitFor((l) => l.ev === 'registered', 20_000, 'zeroconf registered');
  for (const agent of [agentA, agentB]) {
    const seen = await agent.waitFor((l) => l.ev === 'seen' && l.peer.peerId === z.peerId, 20_000, 'zeroconf advert');
    t.match(seen.peer, { fingerprint: z.fingerprint, zone: 'zc-zone', port: 18885, version: 1, host: `${z.peerId}-zc.local`, source: hZc.address });
    t.equal(seen.peer.addresses[0], hZc.address);
  }
  // Its unregister (goodbye) is seen.
  const markA = agentA.lines.length;
  publisher.kill('SIGTERM');
  await publisher.waitFor((l) => l.ev === 'unregistered', 10_000, 'zeroconf unregistered');
  const lost = await agentA.waitFor((l) => l.ev === 'lost' && l.peerId === z.peerId, 10_000, 'zeroconf goodbye', markA);
  t.equal(lost.reason, 'goodbye');

  // Spoof: agent A's id with another fingerprint, from the zeroconf host.
  const bSawA = await agentB.waitFor((l) => l.ev === 'seen' && l.peer.peerId === a.peerId, 20_000, 'B sees A');
  const markB = agentB.lines.length;
  const markA2 = agentA.lines.length;
  const spoof = new LineProc(hZc.exec(PY, [path.join(FIXTURES, 'zc_publish.py'), JSON.stringify({
    name: a.peerId, port: 19999, address: hZc.address, cooperating: true,
    txt: { id: a.peerId, v: '1', zone: 'z1', port: '19999', fp: other.fingerprint },
  })]), 'zc-spoof');
  t.teardown(() => spoof.kill('SIGKILL'));
  const conflict = await agentB.waitFor((l) => l.ev === 'conflict', 20_000, 'conflict event at B', markB);
  t.same(conflict.conflict, { kind: 'fingerprint-mismatch', peerId: a.peerId, claimedFingerprint: other.fingerprint, knownFingerprint: a.fingerprint, source: hZc.address });
  const own = await agentA.waitFor((l) => l.ev === 'conflict', 20_000, 'conflict event at A', markA2);
  t.match(own.conflict, { kind: 'own-id-claimed', peerId: a.peerId, claimedFingerprint: other.fingerprint, source: hZc.address });
  // Let the spoof run for a few sweeps: B's view of A does not change.
  await new Promise((r) => setTimeout(r, 5000));
  const after = agentB.lines.slice(markB);
  t.notOk(after.some((l) => (l.ev === 'updated' || l.ev === 'lost' || l.ev === 'seen') && (l.peer?.peerId ?? l.peerId) === a.peerId), 'no seen/updated/lost for A while spoofed');
  const counters = agentB.lines.filter((l) => l.ev === 'counters').at(-1).counters;
  t.ok(counters.conflicts >= 1, `B counted ${counters.conflicts} conflicts`);
  t.equal(bSawA.peer.fingerprint, a.fingerprint);
  for (const agent of [agentA, agentB]) t.notMatch(agent.stderr, /discovery_internal_error|discovery_listener_failed/);
});
