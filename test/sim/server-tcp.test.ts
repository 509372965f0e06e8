import net from 'node:net';
import t, { type Test } from 'tap';
import { ManualClock } from '../../agent/core/clock.js';
import { encodeMbap } from '../../agent/sim/protocol/mbap.js';
import { MapRegisterSpace, startModbusServer, type ModbusServerOptions } from '../../agent/sim/server/index.js';
import { closeClient, delay, newModbusClient, rejectionOf, waitFor, type ModbusClient } from './helpers.js';

function fixture(): MapRegisterSpace {
  const regs: Record<number, number> = {};
  [0x5375, 0x6e53, 1, 66].forEach((v, i) => { regs[40000 + i] = v; });
  for (let i = 0; i < 200; i++) regs[100 + i] = i;
  return new MapRegisterSpace({ 1: regs, 126: { 0: 0xbeef } }, { holes: [{ unit: 1, start: 150, count: 2 }] });
}

async function serve(t: Test, extra: Partial<ModbusServerOptions> = {}) {
  const server = await startModbusServer({ transport: { kind: 'tcp' }, registers: fixture(), ...extra });
  t.teardown(() => server.close());
  return server;
}

async function connect(t: Test, port: number, unit = 1, timeoutMs = 1000): Promise<ModbusClient> {
  const client = newModbusClient();
  t.teardown(() => closeClient(client));
  await client.connectTCP('127.0.0.1', { port });
  client.setID(unit);
  client.setTimeout(timeoutMs);
  return client;
}

t.test('reads, writes and exceptions over Modbus TCP', async (t) => {
  const server = await serve(t);
  const { host, port } = server.address();
  t.equal(host, '127.0.0.1');
  t.ok(port > 0);
  const client = await connect(t, port);

  const sun = await client.readHoldingRegisters(40000, 4);
  t.same(sun.data, [0x5375, 0x6e53, 1, 66]);
  t.equal(sun.buffer.subarray(0, 4).toString('latin1'), 'SunS');
  t.same((await client.readInputRegisters(100, 3)).data, [0, 1, 2], 'FC 4 falls back to the holding image');
  t.equal((await client.readHoldingRegisters(152, 125)).data.length, 125, "a full 125-register read");

  await client.writeRegisters(110, [7, 8, 9]);
  t.same((await client.readHoldingRegisters(110, 3)).data, [7, 8, 9]);
  await client.writeRegister(100, 0xabcd);
  t.same((await client.readHoldingRegisters(100, 1)).data, [0xabcd]);

  t.equal((await rejectionOf(client.readHoldingRegisters(100, 126))).modbusCode, 3, '126 registers is illegal value');
  t.equal((await rejectionOf(client.readHoldingRegisters(5000, 2))).modbusCode, 2, 'unmapped');
  t.equal((await rejectionOf(client.readHoldingRegisters(149, 2))).modbusCode, 2, 'read touching a hole');
  t.equal((await rejectionOf(client.readHoldingRegisters(299, 2))).modbusCode, 2, 'read running past the map');
  t.equal((await rejectionOf(client.writeRegisters(299, [1, 2]))).modbusCode, 2, 'write running past the map');
  t.equal((await client.readHoldingRegisters(299, 1)).data[0], 199, 'a failed write changes nothing');
  t.equal((await rejectionOf(client.readCoils(0, 1))).modbusCode, 1, 'coils are an illegal function');

  client.setID(9);
  t.equal((await rejectionOf(client.readHoldingRegisters(0, 1))).modbusCode, 0x0b, 'unknown unit -> gateway target failed');
  client.setID(126);
  t.same((await client.readHoldingRegisters(0, 1)).data, [0xbeef]);
  t.ok(server.requestCount() >= 16);
  t.equal(server.connectionCount(), 1);
});

t.test('unknownUnit silent makes the client time out', async (t) => {
  const server = await serve(t, { unknownUnit: 'silent' });
  const client = await connect(t, server.address().port, 9, 200);
  t.match((await rejectionOf(client.readHoldingRegisters(100, 1))).message, /timed out/i);
});

t.test('singleClient closes the first socket when a second connects', async (t) => {
  const server = await serve(t, { singleClient: true });
  const { port } = server.address();
  const first = await connect(t, port);
  t.same((await first.readHoldingRegisters(100, 1)).data, [0]);
  const firstClosed = new Promise<void>((resolve) => (first as unknown as { _port: { on(e: string, f: () => void): void } })._port.on('close', resolve));
  const second = await connect(t, port);
  await Promise.race([firstClosed, delay(2000).then(() => { throw new Error('first socket was not closed'); })]);
  t.same((await second.readHoldingRegisters(101, 1)).data, [1]);
  t.equal(server.connectionCount(), 1);
  t.equal(server.totalConnections(), 2);
  await rejectionOf(first.readHoldingRegisters(100, 1));
});

t.test('without singleClient both connections stay usable', async (t) => {
  const server = await serve(t);
  const { port } = server.address();
  const first = await connect(t, port);
  const second = await connect(t, port);
  await waitFor(() => server.connectionCount() === 2, 2000, 'two connections');
  t.same((await first.readHoldingRegisters(100, 1)).data, [0]);
  t.same((await second.readHoldingRegisters(101, 1)).data, [1]);
});

t.test('connect delay: an early request is ignored, a later one answered', async (t) => {
  const server = await serve(t, { connectDelayMs: 400 });
  const client = await connect(t, server.address().port, 1, 150);
  t.match((await rejectionOf(client.readHoldingRegisters(100, 1))).message, /timed out/i, 'deaf right after connect');
  await delay(400);
  client.setTimeout(1000);
  t.same((await client.readHoldingRegisters(102, 2)).data, [2, 3]);
  t.equal(server.requestCount(), 2, 'both requests arrived; only the late one was answered');
});

t.test('dropNextResponses times out n requests, then recovers', async (t) => {
  const server = await serve(t);
  const client = await connect(t, server.address().port, 1, 150);
  server.dropNextResponses(2);
  await rejectionOf(client.writeRegister(120, 42));
  await rejectionOf(client.readHoldingRegisters(120, 1));
  t.same((await client.readHoldingRegisters(120, 1)).data, [42], 'the dropped write was still applied');
});

t.test('injectCorruptResponse breaks the MBAP length of exactly one response', async (t) => {
  const server = await serve(t);
  const socket = net.connect(server.address().port, '127.0.0.1');
  t.teardown(() => { socket.destroy(); });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const replies: Buffer[] = [];
  socket.on('data', (d: Buffer) => replies.push(d));
  const request = (tid: number) => encodeMbap({ transactionId: tid, protocolId: 0, unitId: 1, pdu: Buffer.from('0300640001', 'hex') });
  server.injectCorruptResponse();
  socket.write(request(1));
  await waitFor(() => replies.length >= 1, 2000, 'first reply');
  socket.write(request(2));
  await waitFor(() => Buffer.concat(replies).length >= 22, 2000, 'second reply');
  const all = Buffer.concat(replies);
  t.equal(all.readUInt16BE(4), 5 + 0x100, 'first length field is impossible');
  t.equal(all.readUInt16BE(11 + 4), 5, 'second length field is right');
});

t.test('an insane MBAP length from the client drops the connection', async (t) => {
  const server = await serve(t);
  const socket = net.connect(server.address().port, '127.0.0.1');
  t.teardown(() => { socket.destroy(); });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  socket.write(Buffer.from('0001000003e801', 'hex'));
  await Promise.race([closed, delay(2000).then(() => { throw new Error('server kept the connection'); })]);
  t.equal(server.connectionCount(), 0);
});

t.test('response delay holds replies back by the clock, in order', async (t) => {
  const clock = new ManualClock(0);
  const server = await serve(t, { clock, responseDelayMs: 500, responseJitterMs: 100 });
  const client = await connect(t, server.address().port, 1, 5000);
  let answered = false;
  const pending = client.readHoldingRegisters(100, 2).then((r) => { answered = true; return r; });
  await waitFor(() => server.requestCount() === 1, 2000, 'request to arrive');
  await clock.advance(499);
  await delay(50);
  t.equal(answered, false, 'not before the delay');
  await clock.advance(101);
  t.same((await pending).data, [0, 1]);
});

t.test('restart: clients lose the connection and can reconnect after the downtime', async (t) => {
  const clock = new ManualClock(0);
  const server = await serve(t, { clock });
  const { port } = server.address();
  const client = await connect(t, port);
  t.same((await client.readHoldingRegisters(100, 1)).data, [0]);
  const restarted = server.restart(3000);
  await waitFor(() => server.connectionCount() === 0, 2000, 'sockets closed');
  const refused = newModbusClient();
  t.teardown(() => closeClient(refused));
  await rejectionOf(refused.connectTCP('127.0.0.1', { port }));
  await clock.advance(3000);
  await restarted;
  t.equal(server.address().port, port, 'same port after reboot');
  const again = await connect(t, port);
  t.same((await again.readHoldingRegisters(101, 1)).data, [1]);
  t.equal(server.totalConnections(), 2);
});
