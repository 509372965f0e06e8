// Discovery's I/O logic against a fake mDNS stack and a ManualClock.
import t from 'tap';
import { EventEmitter } from 'node:events';
import { ManualClock } from '../../agent/core/clock.js';
import { Discovery } from '../../agent/discovery/discovery.js';
import type { MdnsSocket, MdnsStack, MdnsStackOptions, PublishConfig, PublishedService } from '../../agent/discovery/mdns-adapter.js';
import type { DnsRecord } from '../../agent/discovery/packet.js';
import { newIdentity } from './helpers.js';

class FakeMdns extends EventEmitter implements MdnsSocket {
  queries: unknown[] = [];
  destroyed = false;
  answered: unknown[] = [];
  constructor() {
    super();
    // Stands in for bonjour-service's responder, which is registered first.
    this.on('query', (packet: unknown) => this.answered.push(packet));
  }
  query(q: unknown, cb?: (err?: Error | null) => void): void {
    this.queries.push(q);
    cb?.(null);
  }
  destroy(cb?: () => void): void {
    this.destroyed = true;
    cb?.();
  }
}

class FakeStack implements MdnsStack {
  readonly mdns = new FakeMdns();
  published: Array<{ config: PublishConfig; service: PublishedService }> = [];
  unpublished = 0;
  constructor(readonly options: MdnsStackOptions) {}
  publish(config: PublishConfig): PublishedService {
    const service = Object.assign(new EventEmitter(), { stopped: false, stop() { this.stopped = true; } });
    this.published.push({ config, service });
    return service;
  }
  unpublishAll(cb: () => void): void {
    this.unpublished++;
    cb();
  }
  destroy(cb: () => void): void {
    this.mdns.destroy(cb);
  }
}

const me = newIdentity();
const peer = newIdentity();
const ifaces = () => [{ address: '169.254.9.1', family: 'IPv4', netmask: '255.255.255.0' }];

function advert(id: { peerId: string; fingerprint: string }, ttl = 4500, port = 8883): { answers: DnsRecord[]; additionals: DnsRecord[] } {
  const fqdn = `${id.peerId}._tonari._tcp.local`;
  return {
    answers: [{ name: '_tonari._tcp.local', type: 'PTR', ttl, data: fqdn }],
    additionals: [
      { name: fqdn, type: 'SRV', ttl, data: { port, target: `${id.peerId}.local` } },
      { name: fqdn, type: 'TXT', ttl, data: [`id=${id.peerId}`, 'v=1', 'zone=z1', `port=${port}`, `fp=${id.fingerprint}`].map((s) => Buffer.from(s)) },
      { name: `${id.peerId}.local`, type: 'A', ttl, data: '169.254.9.2' },
    ],
  };
}

function setup() {
  const clock = new ManualClock(0);
  const stacks: FakeStack[] = [];
  const discovery = new Discovery({
    self: { ...me, zone: 'z1', port: 8883 }, clock, localInterfaces: ifaces,
    openStack: (options) => { const s = new FakeStack(options); stacks.push(s); return s; },
  });
  const events: unknown[][] = [];
  for (const name of ['peerSeen', 'peerUpdated', 'peerLost', 'peerConflict', 'nameConflict', 'state'] as const) {
    discovery.on(name, (...args: unknown[]) => events.push([name, ...args]));
  }
  return { clock, stacks, discovery, events };
}

const rinfo = (address = '169.254.9.2') => ({ address, family: 'IPv4', port: 5353, size: 100 });

t.test('bind failure: stays up, retries with backoff on the clock, then publishes and browses', async (t) => {
  const { clock, stacks, discovery, events } = setup();
  discovery.start();
  t.equal(stacks.length, 1);
  const busy = Object.assign(new Error('bind EADDRINUSE 0.0.0.0:5353'), { code: 'EADDRINUSE' });
  stacks[0]!.mdns.emit('error', busy);
  t.equal(discovery.state, 'retrying');
  t.equal(discovery.counters().bindFailures, 1);
  t.ok(stacks[0]!.mdns.destroyed, 'failed socket closed');
  await clock.advance(999);
  t.equal(stacks.length, 1, 'no retry before the backoff');
  await clock.advance(1);
  t.equal(stacks.length, 2);
  stacks[1]!.mdns.emit('error', busy);
  await clock.advance(1999);
  t.equal(stacks.length, 2, 'second retry waits 2 s');
  await clock.advance(1);
  t.equal(stacks.length, 3);
  stacks[2]!.mdns.emit('ready');
  t.equal(discovery.state, 'ready');
  t.equal(stacks[2]!.published.length, 1);
  t.same(stacks[2]!.published[0]!.config, { name: me.peerId, type: 'tonari', protocol: 'tcp', port: 8883, host: `${me.peerId}.local`, txt: { id: me.peerId, v: '1', zone: 'z1', port: '8883', fp: me.fingerprint } });
  t.same(stacks[2]!.mdns.queries, [{ questions: [{ name: '_tonari._tcp.local', type: 'PTR' }] }]);
  t.same(events.filter((e) => e[0] === 'state').map((e) => e[1]), ['binding', 'retrying', 'binding', 'retrying', 'binding', 'ready']);
  await discovery.stop();
});

t.test('errorCallback of bonjour-service logs instead of throwing', async (t) => {
  const { stacks, discovery } = setup();
  discovery.start();
  t.doesNotThrow(() => stacks[0]!.options.onError(new Error('send ENETUNREACH')));
  t.equal(discovery.counters().warnings, 1);
  t.doesNotThrow(() => stacks[0]!.mdns.emit('warning', Object.assign(new Error('addMembership EADDRNOTAVAIL'), { code: 'EADDRNOTAVAIL' })));
  t.equal(discovery.counters().warnings, 2);
  await discovery.stop();
});

t.test('sweep re-queries, SIGKILLed peer expires, restart is seen again, goodbye is immediate', async (t) => {
  const { clock, stacks, discovery, events } = setup();
  discovery.start();
  const mdns = stacks[0]!.mdns;
  mdns.emit('ready');
  mdns.emit('response', advert(peer), rinfo());
  t.match(events.find((e) => e[0] === 'peerSeen'), ['peerSeen', { peerId: peer.peerId, port: 8883, addresses: ['169.254.9.2'], zone: 'z1', version: 1 }]);
  await clock.advance(2000);
  t.equal(mdns.queries.length, 2, 'one query per sweep');
  mdns.emit('response', advert(peer), rinfo());
  // Peer killed at t=2000: nothing more from it.
  await clock.advance(6000);
  t.notOk(events.some((e) => e[0] === 'peerLost'), 'not lost before 6.5 s of silence');
  await clock.advance(2000);
  t.same(events.filter((e) => e[0] === 'peerLost'), [['peerLost', peer.peerId, 'timeout']]);
  t.same(discovery.peers(), []);
  mdns.emit('response', advert(peer), rinfo());
  t.equal(events.filter((e) => e[0] === 'peerSeen').length, 2, 'seen again after restart');
  mdns.emit('response', advert(peer, 0), rinfo());
  t.same(events.filter((e) => e[0] === 'peerLost').at(-1), ['peerLost', peer.peerId, 'goodbye']);
  await discovery.stop();
  t.equal(stacks[0]!.unpublished, 1, 'stop sends goodbyes');
  t.ok(mdns.destroyed);
});

t.test('own adverts, off-link sources, spoofs and a throwing listener', async (t) => {
  const { stacks, discovery, events } = setup();
  discovery.start();
  const mdns = stacks[0]!.mdns;
  mdns.emit('ready');
  mdns.emit('response', advert(me), rinfo('169.254.9.1'));
  t.equal(discovery.counters().own, 1);
  mdns.emit('response', advert(peer), rinfo('192.0.2.9'));
  t.equal(discovery.counters().offLink, 1);
  t.same(discovery.peers(), []);
  discovery.on('peerSeen', () => { throw new Error('listener bug'); });
  t.doesNotThrow(() => mdns.emit('response', advert(peer), rinfo()));
  t.equal(discovery.peers().length, 1, 'state kept despite the listener error');
  const spoof = advert(peer);
  const other = newIdentity();
  spoof.additionals[1] = { ...spoof.additionals[1]!, data: [`id=${peer.peerId}`, 'v=1', 'zone=z1', 'port=8883', `fp=${other.fingerprint}`].map((s) => Buffer.from(s)) };
  mdns.emit('response', spoof, rinfo('169.254.9.66'));
  mdns.emit('response', spoof, rinfo('169.254.9.66'));
  t.equal(discovery.counters().conflicts, 2, 'every spoof counted');
  t.same(events.filter((e) => e[0] === 'peerConflict'), [['peerConflict', { kind: 'fingerprint-mismatch', peerId: peer.peerId, claimedFingerprint: other.fingerprint, knownFingerprint: peer.fingerprint, source: '169.254.9.66' }]], 'but emitted once in the quiet period');
  t.equal(discovery.peers()[0]?.fingerprint, peer.fingerprint, 'nothing changed');
  const bad = advert(peer);
  bad.additionals[1] = { ...bad.additionals[1]!, data: [Buffer.from('id=nonsense')] };
  mdns.emit('response', bad, rinfo());
  t.equal(discovery.counters().malformed, 1);
  await discovery.stop();
});

t.test('responder guard: rate limit and on-link check in front of bonjour-service', async (t) => {
  const { clock, stacks, discovery } = setup();
  discovery.start();
  const mdns = stacks[0]!.mdns;
  mdns.emit('ready');
  const q = { type: 'query', questions: [{ name: '_tonari._tcp.local', type: 'PTR' }, { name: '_tonari._tcp.local', type: 'PTR' }] };
  mdns.emit('query', q, rinfo());
  mdns.emit('query', q, rinfo());
  mdns.emit('query', q, rinfo('8.8.8.8'));
  t.equal(mdns.answered.length, 1, 'one answer per second, off-link ignored');
  t.same((mdns.answered[0] as { questions: unknown[] }).questions.length, 1, 'duplicate question collapsed');
  await clock.advance(1000);
  mdns.emit('query', q, rinfo());
  t.equal(mdns.answered.length, 2);
  t.match(discovery.counters(), { queriesSeen: 4, offLink: 1, questionsDropped: 4 });
  await discovery.stop();
});

t.test('no "up" within 2 s is a name conflict; republished later; late up cancels', async (t) => {
  const { clock, stacks, discovery, events } = setup();
  discovery.start();
  const stack = stacks[0]!;
  stack.mdns.emit('ready');
  await clock.advance(1999);
  t.equal(discovery.counters().nameConflicts, 0);
  await clock.advance(1);
  t.equal(discovery.counters().nameConflicts, 1);
  t.same(events.filter((e) => e[0] === 'nameConflict'), [['nameConflict', me.peerId]]);
  await clock.advance(30_000);
  t.equal(stack.published.length, 2, 'republished after the back-off');
  t.equal(discovery.counters().republishes, 1);
  stack.published[1]!.service.emit('up');
  await clock.advance(60_000);
  t.equal(discovery.counters().nameConflicts, 1, 'no further conflict once up');
  t.equal(stack.published.length, 2);
  await discovery.stop();
});

t.test('changed local addresses re-announce', async (t) => {
  const clock = new ManualClock(0);
  let address = '169.254.9.1';
  const stacks: FakeStack[] = [];
  const discovery = new Discovery({
    self: { ...me, zone: 'z1', port: 8883 }, clock,
    localInterfaces: () => [{ address, family: 'IPv4', netmask: '255.255.255.0' }],
    openStack: (options) => { const s = new FakeStack(options); stacks.push(s); return s; },
  });
  discovery.start();
  stacks[0]!.mdns.emit('ready');
  stacks[0]!.published[0]!.service.emit('up');
  await clock.advance(4000);
  t.equal(stacks[0]!.published.length, 1);
  address = '169.254.9.5';
  await clock.advance(2000);
  t.equal(stacks[0]!.published.length, 2);
  t.equal(discovery.counters().republishes, 1);
  await discovery.stop();
});
