import t from 'tap';
import net from 'node:net';
import mqtt from 'mqtt';
import { endClient } from '../../agent/mesh/neighbour-link.js';

/** A bare TCP peer that accepts any MQTT CONNECT and records every byte the client sends after it. */
async function rawBroker(answerConnect: boolean) {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let connected = false;
    socket.on('data', (chunk) => {
      if (!connected && chunk[0] === 0x10) {
        connected = true;
        if (answerConnect) socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
        return;
      }
      received.push(chunk);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port, received,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

t.test('a connected client sends DISCONNECT when it is ended', async (t) => {
  const broker = await rawBroker(true);
  t.teardown(() => broker.close());
  const client = mqtt.connect({ host: '127.0.0.1', port: broker.port, reconnectPeriod: 0, keepalive: 0 });
  await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject); });
  await endClient(client, 2000);
  await new Promise((r) => setTimeout(r, 100));
  const bytes = Buffer.concat(broker.received);
  t.ok(bytes.includes(Buffer.from([0xe0, 0x00])), `DISCONNECT (e0 00) reached the broker: ${bytes.toString('hex')}`);
});

t.test('a client whose broker never answers is dropped at once, not waited for', async (t) => {
  const broker = await rawBroker(false);
  t.teardown(() => broker.close());
  const client = mqtt.connect({ host: '127.0.0.1', port: broker.port, reconnectPeriod: 0, keepalive: 0, connectTimeout: 30_000 });
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  await endClient(client, 5000);
  t.ok(Date.now() - started < 4000, 'ended well before the deadline: nothing to disconnect');
  t.notOk(Buffer.concat(broker.received).includes(Buffer.from([0xe0, 0x00])), 'no DISCONNECT without a session');
});
