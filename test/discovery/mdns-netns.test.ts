// System test: three agents in their own network namespaces on one bridged
// LAN find each other over real mDNS; SIGKILL, restart and graceful stop.
import t from 'tap';
import { createLan, requireNetns, type Lan } from '../system/netns.js';
import { AGENT_FIXTURE, ensureBuilt, LineProc, newIdentity, type Identity, type Json } from './helpers.js';

const LOST_DEADLINE_MS = 15_000;

t.test('three agents: seen, SIGKILL lost, restart seen, SIGTERM lost promptly', async (t) => {
  if (!requireNetns(t)) return;
  ensureBuilt();
  const lan: Lan = createLan(3);
  t.teardown(() => lan.destroy());
  const ids: Identity[] = lan.hosts.map(() => newIdentity());
  const port = (i: number) => 18883 + i;
  const start = (i: number): LineProc => new LineProc(
    lan.hosts[i]!.node(AGENT_FIXTURE, [JSON.stringify({ ...ids[i], zone: `zone-${i}`, port: port(i) })]),
    `agent${i}`,
  );
  const procs = [start(0), start(1), start(2)];
  t.teardown(() => procs.forEach((p) => p.kill('SIGKILL')));

  const seenBy = (p: LineProc, who: number, from = 0): Promise<Json> =>
    p.waitFor((l) => l.ev === 'seen' && l.peer.peerId === ids[who]!.peerId, 15_000, `seen ${who}`, from);

  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      if (i === j) continue;
      const line = await seenBy(procs[i]!, j);
      t.match(line.peer, {
        peerId: ids[j]!.peerId, fingerprint: ids[j]!.fingerprint, zone: `zone-${j}`, port: port(j), version: 1,
        host: `${ids[j]!.peerId}.local`, source: lan.hosts[j]!.address,
      }, `agent${i} sees agent${j} with its TXT`);
      t.equal(line.peer.addresses[0], lan.hosts[j]!.address, 'IPv4 address first');
    }
  }
  procs.forEach((p, i) => t.notOk(p.lines.some((l) => l.ev === 'seen' && l.peer.peerId === ids[i]!.peerId), `${p.label} does not report itself`));

  // SIGKILL agent 2: no goodbye, the sweep must notice.
  const mark = procs.map((p) => p.lines.length);
  const killedAt = Date.now();
  procs[2]!.kill('SIGKILL');
  for (const i of [0, 1]) {
    const lost = await procs[i]!.waitFor((l) => l.ev === 'lost' && l.peerId === ids[2]!.peerId, LOST_DEADLINE_MS + 2000, 'lost 2', mark[i]);
    t.equal(lost.reason, 'timeout');
    t.ok(lost.t - killedAt <= LOST_DEADLINE_MS, `agent${i} reported the SIGKILLed peer lost after ${lost.t - killedAt} ms`);
  }

  // Restart with the same identity: seen again.
  const mark2 = procs.map((p) => p.lines.length);
  procs[2] = start(2);
  for (const i of [0, 1]) await seenBy(procs[i]!, 2, mark2[i]);
  await seenBy(procs[2]!, 0);
  await seenBy(procs[2]!, 1);
  t.pass('restarted agent seen again and sees the others');

  // Graceful stop: goodbye, lost promptly.
  const mark3 = procs.map((p) => p.lines.length);
  const termAt = Date.now();
  procs[1]!.kill('SIGTERM');
  const exit = await procs[1]!.exited;
  t.equal(exit.code, 0, 'SIGTERM exits cleanly');
  for (const i of [0, 2]) {
    const lost = await procs[i]!.waitFor((l) => l.ev === 'lost' && l.peerId === ids[1]!.peerId, 5000, 'lost 1', mark3[i]);
    t.equal(lost.reason, 'goodbye', `agent${i}: goodbye after ${lost.t - termAt} ms`);
  }
  for (const p of procs) {
    const last = p.lines.filter((l) => l.ev === 'counters').at(-1);
    if (last) t.equal(last.counters.conflicts, 0, `${p.label}: no conflicts on a clean LAN`);
    t.notMatch(p.stderr, /discovery_internal_error|discovery_listener_failed/, `${p.label}: no internal errors`);
  }
});
