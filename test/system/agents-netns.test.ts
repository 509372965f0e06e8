// System test: real `tonari run` agents, each in its own network namespace on one
// bridged LAN (169.254.x.0/24), meet over real mDNS multicast and mesh up over
// pinned mutual TLS. One is SIGKILLed and must be seen gone within 15 s, then
// comes back with the same state directory and rejoins; a fourth agent whose key
// nobody trusts (no pairing window open) is discovered but refused.
//
// Everything is observed the way an operator would: `tonari identity --json`,
// `tonari peers [--json]` against each agent's control socket, and the agents'
// pino JSON logs.
import t from 'tap';
import type { NeighbourRow } from '../../agent/control/protocol.js';
import type { Json } from '../discovery/helpers.js';
import { ensureCliBuilt, makeBaseDir, pollUntil, refusalCounts, RunAgent } from './agents.js';
import { createLan, requireNetns, type Lan } from './netns.js';

/** The bound: a SIGKILLed neighbour is seen gone within this, measured from the kill. */
const GONE_DEADLINE_MS = 15_000;
/** Start to a full mesh (and restart to rejoined). Generous: it is a bound, not a target. */
const MESH_DEADLINE_MS = 30_000;
/** The untrusted agent is discovered and its knock refused within this. */
const REFUSAL_DEADLINE_MS = 20_000;
const ZONE = 'netns-test';
const PORT = 8883;

const rowOf = (rows: NeighbourRow[] | undefined, peerId: string) => rows?.find((r) => r.peerId === peerId);
const brief = (rows: NeighbourRow[] | undefined) =>
  rows === undefined ? 'no answer' : JSON.stringify(rows.map((r) => ({ peer: r.name ?? r.peerId, state: r.state, source: r.source, address: r.address })));

t.test('tonari run agents in namespaces: discover, mesh, lose a SIGKILLed one within 15 s, rejoin, refuse an unknown one', async (t) => {
  if (!requireNetns(t)) return;
  ensureCliBuilt();

  const lan: Lan = createLan(4, { prefix: 'tonari-run' });
  t.teardown(() => lan.destroy());
  const base = makeBaseDir();
  t.teardown(() => base.remove());

  const [A, B, C, D] = ['a', 'b', 'c', 'd'].map((label, i) => new RunAgent(lan.hosts[i]!, label, base.dir)) as [RunAgent, RunAgent, RunAgent, RunAgent];
  const all = [A, B, C, D];
  // However the test ends, say what the agents said.
  t.teardown(() => {
    if (!t.passing()) {
      for (const agent of all) {
        const tail = agent.logLines().slice(-40).map((l) => JSON.stringify(l)).join('\n');
        t.comment(`--- ${agent.label} log tail ---\n${tail}\n--- ${agent.label} stderr ---\n${agent.stderr().slice(-2000)}`);
      }
    }
  });

  // Each agent's identity first: `tonari identity --json` creates the key in its state directory.
  const ids = await Promise.all(all.map((a) => a.loadIdentity()));
  t.equal(new Set(ids.map((i) => i.fingerprint)).size, 4, 'four distinct keys');
  const [idA, idB, idC, idD] = ids as [typeof ids[0], typeof ids[0], typeof ids[0], typeof ids[0]];
  const trio = [A, B, C];
  const trusted = (self: RunAgent) => trio.filter((o) => o !== self).map((o) => ({ name: o.label, fingerprint: o.identity!.fingerprint }));
  for (const agent of trio) agent.writeConfig({ name: agent.label, zone: ZONE, port: PORT, trusts: trusted(agent) });
  // D trusts the three (so it does knock on their brokers), but none of them trusts D.
  D.writeConfig({ name: 'd', zone: ZONE, port: PORT, trusts: trio.map((o) => ({ name: o.label, fingerprint: o.identity!.fingerprint })), logLevel: 'debug' });

  // ---- 1. A, B and C discover each other by multicast and mesh up ----
  const startedAt = Date.now();
  for (const agent of trio) agent.start();

  /** Polls `tonari peers --json` on `agent` until `ok(rows)`; returns the rows and when they were seen. */
  const watch = async (agent: RunAgent, ok: (rows: NeighbourRow[]) => boolean, deadlineMs: number, what: string) => {
    let last: NeighbourRow[] | undefined;
    const rows = await pollUntil(async () => {
      last = await agent.peers();
      return last !== undefined && ok(last) ? last : undefined;
    }, deadlineMs, `${agent.label}: ${what}`, { describe: () => brief(last) });
    return { rows, at: Date.now() };
  };
  const connectedTo = (others: RunAgent[]) => (rows: NeighbourRow[]) =>
    others.every((o) => rowOf(rows, o.identity!.peerId)?.state === 'connected');

  const meshed = await Promise.all(trio.map((agent) => watch(agent, connectedTo(trio.filter((o) => o !== agent)), MESH_DEADLINE_MS, 'both others connected')));
  const meshMs = Math.max(...meshed.map((m) => m.at)) - startedAt;
  t.comment(`full mesh of three seen by tonari peers ${meshMs} ms after start`);
  trio.forEach((agent, i) => {
    for (const other of trio.filter((o) => o !== agent)) {
      t.match(rowOf(meshed[i]!.rows, other.identity!.peerId), {
        name: other.label, fingerprint: other.identity!.fingerprint, state: 'connected',
        source: 'mdns', address: { host: other.host.address, port: PORT },
      }, `${agent.label} is linked to ${other.label}, found by mDNS at its namespace address`);
    }
  });
  for (const agent of trio) {
    const lines = agent.logLines();
    t.match(lines.find((l: Json) => l.msg === 'embedded broker listening'), { tls: `${agent.host.address}:${PORT}`, local: null }, `${agent.label}: broker on its namespace address`);
    t.ok(lines.some((l: Json) => l.msg === 'discovery state' && l.state === 'ready'), `${agent.label}: discovery ready`);
  }

  // ---- 2. SIGKILL C: A and B see it gone within 15 s ----
  const killedAt = Date.now();
  C.kill('SIGKILL');
  const exit = await C.proc!.exited;
  t.equal(exit.signal, 'SIGKILL', 'C died of SIGKILL (no goodbye)');
  const gone = await Promise.all([A, B].map(async (agent) => {
    // Not connected any more (the link drops), then gone: the mDNS liveness sweep lost it,
    // its link is closed and no address is left (state `unreachable`: trusted, nowhere).
    const down = await watch(agent, (rows) => rowOf(rows, idC.peerId)?.state !== 'connected', GONE_DEADLINE_MS, 'C not connected');
    const lost = await watch(agent, (rows) => {
      const row = rowOf(rows, idC.peerId);
      return row?.state === 'unreachable' && row.address === null;
    }, Math.max(0, killedAt + GONE_DEADLINE_MS - Date.now()), 'C gone (unreachable)');
    return { agent, downMs: down.at - killedAt, goneMs: lost.at - killedAt };
  }));
  for (const { agent, downMs, goneMs } of gone) {
    t.comment(`${agent.label}: C not connected after ${downMs} ms, gone after ${goneMs} ms (tonari peers)`);
    t.ok(goneMs <= GONE_DEADLINE_MS, `${agent.label} saw the SIGKILLed C gone after ${goneMs} ms (≤ ${GONE_DEADLINE_MS})`);
    const lostLine = agent.logLines().find((l: Json) => l.msg === 'neighbour lost' && l.peer === idC.peerId && l.time >= killedAt);
    t.match(lostLine, { reason: 'timeout' }, `${agent.label} logged C lost by the liveness sweep`);
    if (lostLine) t.ok(lostLine.time - killedAt <= GONE_DEADLINE_MS, `${agent.label} logged C lost ${lostLine.time - killedAt} ms after the kill`);
  }
  // A and B keep their own link meanwhile.
  t.ok(connectedTo([B])((await A.peers()) ?? []), 'A still linked to B');
  t.ok(connectedTo([A])((await B.peers()) ?? []), 'B still linked to A');

  // ---- 3. C comes back with the same state directory and rejoins ----
  const restartedAt = Date.now();
  C.start();
  const rejoined = await Promise.all([
    watch(A, connectedTo([C]), MESH_DEADLINE_MS, 'C connected again'),
    watch(B, connectedTo([C]), MESH_DEADLINE_MS, 'C connected again'),
    watch(C, connectedTo([A, B]), MESH_DEADLINE_MS, 'A and B connected after restart'),
  ]);
  const rejoinMs = Math.max(...rejoined.map((r) => r.at)) - restartedAt;
  t.comment(`C rejoined (all three links up both ways) ${rejoinMs} ms after restart`);
  t.match(rowOf(rejoined[0].rows, idC.peerId), { fingerprint: idC.fingerprint, source: 'mdns', address: { host: C.host.address, port: PORT } }, 'A links to the same key at the same address');
  t.match(C.proc!.lines.find((l: Json) => l.msg?.startsWith('agent identity')), { peerId: idC.peerId, fingerprint: idC.fingerprint }, 'C kept its identity across the kill');

  // ---- 4. D, whose key nobody trusts, outside any pairing window: discovered, refused ----
  const dStartedAt = Date.now();
  D.start();
  const seenD = await Promise.all(trio.map((agent) => watch(agent, (rows) => {
    const row = rowOf(rows, idD.peerId);
    return row?.state === 'untrusted' && row.source === 'mdns' && row.address !== null;
  }, REFUSAL_DEADLINE_MS, 'D listed as untrusted from mDNS')));
  trio.forEach((agent, i) => {
    t.match(rowOf(seenD[i]!.rows, idD.peerId), { fingerprint: idD.fingerprint, state: 'untrusted', name: null, address: { host: D.host.address, port: PORT } }, `${agent.label} discovered D by mDNS and lists it untrusted`);
  });
  // D trusts A, so it dials A's broker; A refuses it at TLS (its key is unknown) and logs why.
  const refusedLine = await pollUntil(async () => A.logLines().find((l: Json) =>
    l.event === 'broker_rejected' && l.reason === 'tls_rejected' && l.fingerprint === idD.fingerprint), REFUSAL_DEADLINE_MS, 'A logging D refused at TLS');
  t.match(refusedLine, { level: 40, detail: `unknown_peer: fingerprint ${idD.fingerprint}`, remote: new RegExp(`^${D.host.address.replace(/\./g, '\\.')}:\\d+$`) }, 'A refused D\'s TLS connection: unknown_peer, from D\'s address');
  t.comment(`A refused D at TLS ${refusedLine.time - dStartedAt} ms after D started`);
  // D's own view: its link to A goes down before MQTT ever connects, and it never comes up.
  t.ok(D.logLines().some((l: Json) => l.msg === 'neighbour link down; reconnecting later' && l.peer === idA.peerId), 'D logged its link to A down (closed by A)');
  t.notOk(D.logLines().some((l: Json) => l.msg === 'neighbour linked'), 'D never linked to anyone');

  // A's counters, as `tonari peers` prints them: the broker's TLS refusal, the trust store's
  // refusal of the proposal (no window), and the mesh's refusal of D's advert.
  const table = await pollUntil(async () => {
    const res = await A.peersTable();
    return res.code === 0 && (refusalCounts(res.stdout, 'refused connections').unknown_peer ?? 0) >= 1 ? res.stdout : undefined;
  }, REFUSAL_DEADLINE_MS, 'A counting D\'s TLS refusal');
  t.comment(`A's tonari peers:\n${table}`);
  t.ok((refusalCounts(table, 'refused connections').unknown_peer ?? 0) >= 1, 'A counts TLS refusals: unknown_peer');
  t.ok((refusalCounts(table, 'broker').tls_rejected ?? 0) >= 1, 'A counts broker refusals: tls_rejected');
  t.ok((refusalCounts(table, 'pairing').unknown_peer ?? 0) >= 1, 'A\'s trust store refused D: unknown_peer (no pairing window)');
  t.ok((refusalCounts(table, 'messages').unknown_peer ?? 0) >= 1, 'A\'s mesh refused D\'s advert as an untrusted candidate: unknown_peer');
  t.notMatch(table, /pairing window open/, 'no pairing window is open on A');
  t.match(table, new RegExp(`^${idD.peerId}\\s+-\\s+untrusted\\s+${D.host.address.replace(/\./g, '\\.')}:${PORT}\\s`, 'm'), 'the table shows D untrusted');

  // Nobody links to D, D is linked to nobody, and the trio is undisturbed.
  for (const agent of trio) {
    const rows = (await agent.peers()) ?? [];
    t.not(rowOf(rows, idD.peerId)?.state, 'connected', `${agent.label} is not linked to D`);
    t.ok(connectedTo(trio.filter((o) => o !== agent))(rows), `${agent.label} still linked to the other two`);
  }
  const dRows = await D.peers();
  t.ok(dRows !== undefined, 'D answers tonari peers');
  for (const other of trio) {
    const row = rowOf(dRows, other.identity!.peerId);
    t.ok(row !== undefined && row.state !== 'connected', `D has no link up to ${other.label} (${row?.state ?? 'no row'})`);
  }

  for (const agent of all) {
    t.notMatch(agent.stderr(), /\S/, `${agent.label}: nothing on stderr`);
    t.notOk(agent.logLines().some((l: Json) => l.level >= 50), `${agent.label}: no error lines in its log`);
  }
  t.comment(`whole scenario: ${Date.now() - startedAt} ms`);
});
