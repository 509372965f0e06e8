/**
 * The demo's loopback relays, over real sockets: each household reaches a
 * neighbour's broker from its own 127.0.100.x address, bytes pass both ways
 * unchanged, and a close on either side closes the other.
 */
import net from 'node:net';
import t from 'tap';
import { householdSourceAddress, startLoopbackRelays } from '../../agent/app/community-demo/loopback-relay.js';
import { freePorts } from '../../agent/app/community-demo/prepare.js';

interface Target { port: number; remotes: string[]; closed: number; server: net.Server }

/** An echo server that remembers where each connection came from. */
async function echoTarget(): Promise<Target> {
  const target: Target = { port: 0, remotes: [], closed: 0, server: net.createServer() };
  target.server.on('connection', (socket) => {
    target.remotes.push(socket.remoteAddress ?? '?');
    socket.on('error', () => {});
    socket.on('close', () => { target.closed++; });
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => target.server.listen(0, '127.0.0.1', resolve));
  target.port = (target.server.address() as net.AddressInfo).port;
  return target;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function echo(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (chunk: Buffer) => {
      got += chunk.toString();
      if (got.length >= text.length) { socket.off('data', onData); resolve(got); }
    };
    socket.on('data', onData);
    socket.write(text);
  });
}

const closed = (socket: net.Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

async function until(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return check();
}

t.test('household addresses', async (t) => {
  t.equal(householdSourceAddress(0), '127.0.100.1');
  t.equal(householdSourceAddress(19), '127.0.100.20');
  t.throws(() => householdSourceAddress(-1));
  t.throws(() => householdSourceAddress(254));
});

t.test('each household reaches the broker from its own address; bytes pass unchanged; closes propagate', { skip: process.platform !== 'linux' && 'binding 127.0.100.x needs Linux' }, async (t) => {
  const target = await echoTarget();
  t.teardown(() => { target.server.close(); });
  const relays = await startLoopbackRelays([{ from: 0, to: 1, targetPort: target.port }, { from: 2, to: 1, targetPort: target.port }]);
  t.teardown(() => relays.close());
  t.not(relays.portFor(0, 1), relays.portFor(2, 1), 'one port per pair');
  t.throws(() => relays.portFor(1, 0), /no relay from household 1 to 0/);

  const a = await connect(relays.portFor(0, 1));
  const c = await connect(relays.portFor(2, 1));
  const payload = Buffer.alloc(200_000, 7).toString('latin1');
  t.equal(await echo(a, 'hello'), 'hello');
  t.equal((await echo(c, payload)).length, payload.length, 'a large write arrives whole');
  t.same(target.remotes.sort(), ['127.0.100.1', '127.0.100.3'], 'the broker sees two addresses, not 127.0.0.1 twice');
  t.equal(relays.unboundSources, 0);

  a.destroy();
  t.ok(await until(() => target.closed === 1), 'the client closing closes the broker side');
  t.notOk(c.destroyed, 'the other pair is untouched');

  await relays.close();
  await closed(c);
  t.ok(await until(() => target.closed === 2), 'closing the relays closes every connection');
});

t.test('a broker that is not listening: the client is closed, not left hanging', async (t) => {
  const [port] = await freePorts(1);
  const relays = await startLoopbackRelays([{ from: 0, to: 1, targetPort: port! }]);
  t.teardown(() => relays.close());
  const client = await connect(relays.portFor(0, 1));
  client.on('error', () => {});
  await closed(client);
  t.pass('closed');
});

t.test('freePorts gives distinct free ports', async (t) => {
  const ports = await freePorts(10);
  t.equal(new Set(ports).size, 10);
  for (const port of ports) {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
