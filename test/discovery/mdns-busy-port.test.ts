// MD-1 / F4: UDP 5353 already bound exclusively in the namespace. The agent
// must stay up, log mdns_bind_failed, keep retrying, and recover when freed.
import t from 'tap';
import { createLan, requireNetns } from '../system/netns.js';
import { AGENT_FIXTURE, ensureBuilt, LineProc, newIdentity } from './helpers.js';

const HOLD_5353 = `
const s = require('dgram').createSocket({ type: 'udp4', reuseAddr: false });
s.on('error', (e) => { console.log(JSON.stringify({ ev: 'holdError', code: e.code })); process.exit(2); });
s.bind(5353, '0.0.0.0', () => console.log(JSON.stringify({ ev: 'holding' })));
setTimeout(() => process.exit(0), 120000);
`;

t.test('busy port 5353: agent survives, retries, recovers', async (t) => {
  if (!requireNetns(t)) return;
  ensureBuilt();
  const lan = createLan(2);
  t.teardown(() => lan.destroy());
  const [h1, h2] = lan.hosts;
  const holder = new LineProc(h1!.node('-e', [HOLD_5353]), 'holder');
  t.teardown(() => holder.kill('SIGKILL'));
  await holder.waitFor((l) => l.ev === 'holding', 10_000, 'port held');

  const me = newIdentity();
  const other = newIdentity();
  const agent = new LineProc(h1!.node(AGENT_FIXTURE, [JSON.stringify({ ...me, zone: 'z1', port: 18883, bindRetry: { initialMs: 500, maxMs: 2000 } })]), 'agent');
  const watcher = new LineProc(h2!.node(AGENT_FIXTURE, [JSON.stringify({ ...other, zone: 'z1', port: 18884 })]), 'watcher');
  t.teardown(() => { agent.kill('SIGKILL'); watcher.kill('SIGKILL'); });

  await agent.waitUntil(() => (agent.stderr.includes('"msg":"mdns_bind_failed"') ? true : undefined), 10_000, 'mdns_bind_failed log');
  t.match(agent.stderr, /"code":"EADDRINUSE"/, 'the failure names EADDRINUSE');
  // Several retries later the process is still alive and its event loop still turns.
  const beats = await agent.waitUntil(() => {
    const c = agent.lines.filter((l) => l.ev === 'counters');
    return c.length >= 4 ? c : undefined;
  }, 15_000, 'heartbeats while unbound');
  t.ok(agent.running, 'agent process still running');
  t.ok(beats.at(-1).counters.bindFailures >= 2, `retried (${beats.at(-1).counters.bindFailures} bind failures)`);
  t.not(beats.at(-1).state, 'ready');
  t.notOk(watcher.lines.some((l) => l.ev === 'seen'), 'nobody saw the unbound agent');

  holder.kill('SIGKILL');
  await holder.exited;
  await agent.waitFor((l) => l.ev === 'state' && l.state === 'ready', 10_000, 'ready after the port is freed');
  // The log line goes to stderr, the state event to stdout: they may arrive in either order.
  for (let i = 0; i < 50 && !/"msg":"mdns_bind_recovered"/.test(agent.stderr); i++) await new Promise((r) => setTimeout(r, 100));
  t.match(agent.stderr, /"msg":"mdns_bind_recovered"/);
  const seen = await watcher.waitFor((l) => l.ev === 'seen' && l.peer.peerId === me.peerId, 15_000, 'recovered agent seen');
  t.equal(seen.peer.port, 18883);
  await agent.waitFor((l) => l.ev === 'seen' && l.peer.peerId === other.peerId, 15_000, 'recovered agent browses');
  t.ok(agent.running);
  t.notMatch(agent.stderr, /discovery_internal_error|discovery_listener_failed/);
});
