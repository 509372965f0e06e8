/**
 * ModbusLink in rtu-over-tcp mode (an RS-485 gateway passing raw RTU frames)
 * against a small RTU-framing server on 127.0.0.1.
 */
import t from 'tap';
import net from 'node:net';
import { ModbusLink } from '../../agent/devices/modbus/link.js';
import { ModbusError } from '../../agent/devices/modbus/errors.js';

function crc16(buf: Buffer): number {
  let crc = 0xffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >> 1) ^ 0xa001 : crc >> 1;
  }
  return crc;
}

function withCrc(body: Buffer): Buffer {
  const out = Buffer.alloc(body.length + 2);
  body.copy(out);
  out.writeUInt16LE(crc16(body), body.length);
  return out;
}

t.test('rtu-over-tcp reads, exceptions and a bad CRC', async (t) => {
  let corruptNext = false;
  const seen: number[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.on('data', (frame) => {
      // Requests are 8-byte RTU frames: unit, fc, address, count, crc.
      const unit = frame[0]!;
      const fc = frame[1]!;
      const address = frame.readUInt16BE(2);
      const count = frame.readUInt16BE(4);
      seen.push(unit);
      if (unit !== 5) return; // other units stay silent, like a dead meter on the bus
      if (address >= 9000) { socket.write(withCrc(Buffer.from([unit, fc | 0x80, 2]))); return; }
      const body = Buffer.alloc(3 + 2 * count);
      body[0] = unit; body[1] = fc; body[2] = 2 * count;
      for (let i = 0; i < count; i++) body.writeUInt16BE(address + i, 3 + 2 * i);
      const reply = withCrc(body);
      if (corruptNext) { corruptNext = false; reply[reply.length - 1]! ^= 0xff; }
      socket.write(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  const link = new ModbusLink({ name: 'gw', type: 'rtu-over-tcp', host: '127.0.0.1', port, timeout: 150, connectDelay: 0, interRequestDelay: 0 });
  t.teardown(async () => { await link.close(); await new Promise((r) => server.close(r)); });

  t.same(await link.read(5, 3, 100, 3), [100, 101, 102]);
  t.same(await link.read(5, 4, 200, 1), [200]);
  const exc = await link.read(5, 3, 9000, 1).catch((e: unknown) => e);
  t.match(exc, { kind: 'exception', code: 2 });
  corruptNext = true;
  const crc = await link.read(5, 3, 300, 1).catch((e: unknown) => e);
  t.ok(crc instanceof ModbusError);
  t.equal((crc as ModbusError).kind, 'protocol');
  t.same(await link.read(5, 3, 301, 1), [301], 'reconnected after the garbled reply');
  const silent = await link.read(6, 3, 1, 1).catch((e: unknown) => e);
  t.match(silent, { kind: 'timeout' });
  t.same(await link.read(5, 3, 302, 1), [302], 'a silent unit does not disturb the next request');
  t.equal(link.stats().connects, 2);
});
