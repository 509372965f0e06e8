import net from 'node:net';
import t, { type Test } from 'tap';
import { SerialPort } from 'serialport';
import { encodeRtu } from '../../agent/sim/protocol/rtu.js';
import { MapRegisterSpace, rtuWireTimeMs, startModbusServer, type ModbusServerOptions } from '../../agent/sim/server/index.js';
import { closeClient, missingTool, delay, newModbusClient, rejectionOf, startPtyPair, waitFor, type PtyPair } from './helpers.js';

function fixture(): MapRegisterSpace {
  const regs: Record<number, number> = {};
  for (let i = 0; i < 300; i++) regs[40000 + i] = (i * 7) & 0xffff;
  return new MapRegisterSpace({ 1: regs, 2: { 0: 2 } });
}

const expected = (address: number, count: number) => Array.from({ length: count }, (_, i) => ((address - 40000 + i) * 7) & 0xffff);

t.test('rtuWireTimeMs matches the devices.md table', async (t) => {
  // 8N1, 20 ms turnaround: 2 regs at 9600 ≈ 45 ms, 125 regs at 9600 ≈ 301 ms, 125 regs at 115200 ≈ 46 ms.
  t.equal(Math.round(rtuWireTimeMs(8, 5 + 2 * 2, 9600, { turnaroundMs: 20 })), 45);
  t.equal(Math.round(rtuWireTimeMs(8, 5 + 2 * 125, 9600, { turnaroundMs: 20 })), 301);
  t.equal(Math.round(rtuWireTimeMs(8, 5 + 2 * 125, 115200, { turnaroundMs: 20 })), 46);
  t.equal(Math.round(rtuWireTimeMs(8, 5 + 2 * 50, 19200, { turnaroundMs: 20 })), 83);
  t.ok(rtuWireTimeMs(8, 255, 9600, { bitsPerChar: 11 }) > rtuWireTimeMs(8, 255, 9600), '8E1 is slower than 8N1');
  t.throws(() => rtuWireTimeMs(8, 8, 0));
});

async function serveRtuOverTcp(t: Test, extra: Partial<ModbusServerOptions> = {}) {
  const server = await startModbusServer({ transport: { kind: 'rtu-over-tcp' }, registers: fixture(), ...extra });
  t.teardown(() => server.close());
  const client = newModbusClient();
  t.teardown(() => closeClient(client));
  // modbus-serial's raw RTU-over-TCP client is connectTelnet; connectTcpRTUBuffered speaks MBAP (see below).
  await client.connectTelnet('127.0.0.1', { port: server.address().port });
  client.setID(1);
  client.setTimeout(1000);
  return { server, client };
}

t.test('RTU over TCP (transparent gateway) with modbus-serial', async (t) => {
  const { server, client } = await serveRtuOverTcp(t);
  t.same((await client.readHoldingRegisters(40000, 10)).data, expected(40000, 10));
  await client.writeRegisters(40010, [1, 2, 3]);
  t.same((await client.readHoldingRegisters(40010, 3)).data, [1, 2, 3]);
  t.equal((await rejectionOf(client.readHoldingRegisters(40299, 2))).modbusCode, 2);
  client.setID(2);
  t.same((await client.readInputRegisters(0, 1)).data, [2]);
  client.setID(77);
  client.setTimeout(200);
  t.match((await rejectionOf(client.readHoldingRegisters(0, 1))).message, /timed out/i, 'unknown unit is silent on RTU');
  t.equal(server.requestCount(), 6);
});

t.test('RTU over TCP carries raw RTU frames (checked with a plain socket)', async (t) => {
  const server = await startModbusServer({ transport: { kind: 'rtu-over-tcp' }, registers: fixture() });
  t.teardown(() => server.close());
  const socket = net.connect(server.address().port, '127.0.0.1');
  t.teardown(() => { socket.destroy(); });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  const request = encodeRtu({ unitId: 1, pdu: Buffer.from('039C410002', 'hex') });
  socket.write(request.subarray(0, 3));
  await delay(20);
  socket.write(request.subarray(3));
  await waitFor(() => Buffer.concat(received).length >= 9, 2000, 'reply');
  t.same(Buffer.concat(received), encodeRtu({ unitId: 1, pdu: Buffer.from('0304' + '0007' + '000e', 'hex') }));
});

t.test('trap: modbus-serial connectTcpRTUBuffered speaks MBAP, so it only works against an MBAP server', async (t) => {
  const mbap = await startModbusServer({ transport: { kind: 'tcp' }, registers: fixture() });
  t.teardown(() => mbap.close());
  const rtu = await startModbusServer({ transport: { kind: 'rtu-over-tcp' }, registers: fixture() });
  t.teardown(() => rtu.close());
  for (const [server, works] of [[mbap, true], [rtu, false]] as const) {
    const client = newModbusClient();
    t.teardown(() => closeClient(client));
    await client.connectTcpRTUBuffered('127.0.0.1', { port: server.address().port });
    client.setID(1);
    client.setTimeout(300);
    if (works) t.same((await client.readHoldingRegisters(40000, 2)).data, expected(40000, 2), 'MBAP server answers');
    else await rejectionOf(client.readHoldingRegisters(40000, 2));
  }
});

t.test('RTU over TCP: a corrupted CRC is rejected by the client, the next reply is fine', async (t) => {
  const { server, client } = await serveRtuOverTcp(t);
  server.injectCorruptResponse();
  client.setTimeout(300);
  const err = await rejectionOf(client.readHoldingRegisters(40000, 2));
  t.match(err.message, /crc|timed out/i);
  client.setTimeout(1000);
  t.same((await client.readHoldingRegisters(40002, 2)).data, expected(40002, 2));
});

t.test('emulateWireTime: a 125-register read at 9600 baud takes at least the wire time', async (t) => {
  const wire = { baudRate: 9600, turnaroundMs: 20 };
  const { client } = await serveRtuOverTcp(t, { emulateWireTime: wire });
  const theory = rtuWireTimeMs(8, 5 + 2 * 125, 9600, { turnaroundMs: 20 });
  t.ok(theory > 290 && theory < 310);
  await client.readHoldingRegisters(40000, 1); // warm up the socket
  const started = performance.now();
  const result = await client.readHoldingRegisters(40000, 125);
  const elapsed = performance.now() - started;
  t.same(result.data, expected(40000, 125));
  t.ok(elapsed >= theory - 1, `elapsed ${elapsed.toFixed(1)} ms >= theoretical ${theory.toFixed(1)} ms`);
});

const noSocat = missingTool('socat');

t.test('RTU on a socat pty pair', { skip: noSocat }, async (t) => {
  const pty: PtyPair = await startPtyPair();
  t.teardown(() => pty.close());
  const server = await startModbusServer({ transport: { kind: 'rtu', path: pty.b, baudRate: 9600 }, registers: fixture() });
  t.teardown(() => server.close());
  t.throws(() => server.address(), /TCP/);
  t.equal(server.connectionCount(), 1);

  const client = newModbusClient();
  t.teardown(() => closeClient(client));
  await client.connectRTUBuffered(pty.a, { baudRate: 9600 });
  client.setID(1);
  client.setTimeout(1000);
  t.same((await client.readHoldingRegisters(40000, 125)).data, expected(40000, 125));
  await client.writeRegister(40005, 0x1234);
  t.same((await client.readHoldingRegisters(40005, 1)).data, [0x1234]);
  t.equal((await rejectionOf(client.readHoldingRegisters(40299, 2))).modbusCode, 2);

  server.dropNextResponses(1);
  client.setTimeout(200);
  await rejectionOf(client.readHoldingRegisters(40000, 1));
  client.setTimeout(1000);
  t.same((await client.readHoldingRegisters(40001, 1)).data, expected(40001, 1), 'answers again after a drop');

  const restarted = server.restart(50);
  await waitFor(() => server.connectionCount() === 0, 2000, 'port closed');
  await restarted;
  t.equal(server.connectionCount(), 1);
  t.same((await client.readHoldingRegisters(40002, 1)).data, expected(40002, 1), 'answers after a reboot');
});

t.test('RTU on a pty: a bad-CRC request is ignored silently, broadcasts are not answered', { skip: noSocat }, async (t) => {
  const pty = await startPtyPair();
  t.teardown(() => pty.close());
  const registers = fixture();
  const server = await startModbusServer({ transport: { kind: 'rtu', path: pty.b, baudRate: 9600 }, registers });
  t.teardown(() => server.close());
  const port = new SerialPort({ path: pty.a, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  t.teardown(() => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())));
  const received: Buffer[] = [];
  port.on('data', (d: Buffer) => received.push(d));

  const bad = Buffer.from('01030000000ACDC5', 'hex');
  port.write(bad);
  await delay(150);
  t.equal(received.length, 0, 'no reply to a bad CRC');
  t.equal(server.requestCount(), 0);

  port.write(encodeRtu({ unitId: 0, pdu: Buffer.from('06000000AA', 'hex') }));
  await waitFor(() => server.requestCount() === 1, 2000, 'broadcast to arrive');
  await delay(100);
  t.equal(received.length, 0, 'no reply to a broadcast');

  const good = encodeRtu({ unitId: 1, pdu: Buffer.from('039C400002', 'hex') });
  port.write(good);
  await waitFor(() => Buffer.concat(received).length >= 9, 2000, 'reply');
  t.same(Buffer.concat(received), encodeRtu({ unitId: 1, pdu: Buffer.from('0304' + '0000' + '0007', 'hex') }));
});
