/**
 * A tiny hand-written Modbus/TCP server for fault tests: it records every
 * request and connection, counts requests outstanding at once, and lets each
 * test decide the reply (registers, exception, raw bytes, silence, delay).
 * Listens on 127.0.0.1 with an ephemeral port.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface RawRequest {
  connection: number;
  tid: number;
  unit: number;
  fc: number;
  address: number;
  count: number;
  values: number[];
  receivedAt: number;
}

export type RawReply =
  | { registers: number[]; delayMs?: number }
  | { exception: number; delayMs?: number }
  | { ok: true; delayMs?: number }
  /** Bytes sent as-is instead of a proper reply. */
  | { raw: Buffer; delayMs?: number }
  | { silence: true };

export interface RawServer {
  port: number;
  requests: RawRequest[];
  connections: number;
  connectedAt: number[];
  maxOutstanding: number;
  close(): Promise<void>;
}

function parseRequest(pdu: Buffer): { fc: number; address: number; count: number; values: number[] } {
  const fc = pdu[0]!;
  const address = pdu.readUInt16BE(1);
  if (fc === 6) return { fc, address, count: 1, values: [pdu.readUInt16BE(3)] };
  const count = pdu.readUInt16BE(3);
  const values: number[] = [];
  if (fc === 16) for (let i = 0; i < count; i++) values.push(pdu.readUInt16BE(6 + 2 * i));
  return { fc, address, count, values };
}

function replyPdu(req: RawRequest, reply: RawReply): Buffer | undefined {
  if ('registers' in reply) {
    const pdu = Buffer.alloc(2 + 2 * reply.registers.length);
    pdu[0] = req.fc;
    pdu[1] = 2 * reply.registers.length;
    reply.registers.forEach((r, i) => pdu.writeUInt16BE(r, 2 + 2 * i));
    return pdu;
  }
  if ('exception' in reply) return Buffer.from([req.fc | 0x80, reply.exception]);
  if ('ok' in reply) {
    const pdu = Buffer.alloc(5);
    pdu[0] = req.fc;
    pdu.writeUInt16BE(req.address, 1);
    pdu.writeUInt16BE(req.fc === 6 ? req.values[0]! : req.count, 3);
    return pdu;
  }
  return undefined;
}

function frame(tid: number, unit: number, pdu: Buffer): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt16BE(tid, 0);
  head.writeUInt16BE(0, 2);
  head.writeUInt16BE(pdu.length + 1, 4);
  head[6] = unit;
  return Buffer.concat([head, pdu]);
}

export async function startRawServer(respond: (req: RawRequest) => RawReply, port = 0): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let outstanding = 0;
  const state: RawServer = {
    port: 0, requests: [], connections: 0, connectedAt: [], maxOutstanding: 0,
    close: () => new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  const server = net.createServer((socket) => {
    const connection = ++state.connections;
    state.connectedAt.push(performance.now());
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = Buffer.alloc(0);
    socket.on('data', (data) => {
      buffer = Buffer.concat([buffer, data]);
      while (buffer.length >= 7 && buffer.length >= 6 + buffer.readUInt16BE(4)) {
        const length = buffer.readUInt16BE(4);
        const tid = buffer.readUInt16BE(0);
        const unit = buffer[6]!;
        const parsed = parseRequest(buffer.subarray(7, 6 + length));
        buffer = buffer.subarray(6 + length);
        const req: RawRequest = { connection, tid, unit, ...parsed, receivedAt: performance.now() };
        state.requests.push(req);
        outstanding++;
        state.maxOutstanding = Math.max(state.maxOutstanding, outstanding);
        const reply = respond(req);
        if ('silence' in reply) { outstanding--; continue; }
        const send = (): void => {
          outstanding--;
          if (socket.destroyed) return;
          socket.write('raw' in reply ? reply.raw : frame(tid, unit, replyPdu(req, reply)!));
        };
        if (reply.delayMs) {
          const t = setTimeout(() => { timers.delete(t); send(); }, reply.delayMs);
          timers.add(t);
        } else send();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, () => resolve());
  });
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

/** Polls `condition` every few real milliseconds, up to `limitMs`. */
export async function waitFor(condition: () => boolean, limitMs = 3000): Promise<boolean> {
  for (let waited = 0; waited < limitMs; waited += 5) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return condition();
}
