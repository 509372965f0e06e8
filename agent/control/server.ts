/**
 * The control socket's I/O: a unix domain socket (mode 0600) in the state
 * directory, one JSON request per line, answered in order by the handler.
 * Lines are size-limited before they are parsed; connections are few and time out
 * when idle. A socket file left by a killed agent is replaced; one that still
 * answers means another agent runs on this state directory.
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import net, { type Socket } from 'node:net';
import type { Logger } from '../core/log.js';
import type { ControlHandler } from './handler.js';
import { MAX_REQUEST_BYTES, type ControlResponse } from './protocol.js';

export class ControlSocketError extends Error {
  constructor(message: string, readonly code: 'in_use' | 'not_a_socket' | 'listen') {
    super(message);
    this.name = 'ControlSocketError';
  }
}

export interface ControlServerOptions {
  path: string;
  handler: ControlHandler;
  log: Logger;
  maxRequestBytes?: number;
  maxConnections?: number;
  /** A connection with no request for this long is closed. Default 60 s. */
  idleTimeoutMs?: number;
}

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** True if something accepts connections on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

async function clearStale(path: string): Promise<void> {
  let stat;
  try {
    stat = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!stat.isSocket()) throw new ControlSocketError(`${path} exists and is not a socket; move it away`, 'not_a_socket');
  if (await answers(path)) throw new ControlSocketError(`another tonari agent is running on this state directory (${path} answers)`, 'in_use');
  await unlink(path);
}

function encode(response: ControlResponse): string {
  return `${JSON.stringify(response)}\n`;
}

export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const { path, handler, log } = options;
  const maxBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
  const maxConnections = options.maxConnections ?? 8;
  const idleMs = options.idleTimeoutMs ?? 60_000;
  const sockets = new Set<Socket>();

  await clearStale(path);

  const serve = (socket: Socket) => {
    if (sockets.size >= maxConnections) {
      socket.end(encode({ ok: false, error: { code: 'internal', message: 'too many control connections' } }));
      return;
    }
    sockets.add(socket);
    socket.setTimeout(idleMs, () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (let newline = buffered.indexOf(0x0a); newline !== -1; newline = buffered.indexOf(0x0a)) {
        const line = buffered.subarray(0, newline);
        buffered = buffered.subarray(newline + 1);
        if (line.length > maxBytes) return tooBig(socket);
        if (line.toString('utf8').trim() === '') continue;
        queue = queue.then(() => answer(socket, line));
      }
      if (buffered.length > maxBytes) tooBig(socket);
    });
  };

  const tooBig = (socket: Socket) => {
    socket.removeAllListeners('data');
    socket.end(encode({ ok: false, error: { code: 'too_big', message: `a request may be at most ${maxBytes} bytes` } }));
  };

  const answer = async (socket: Socket, line: Buffer) => {
    let request: unknown;
    try {
      request = JSON.parse(line.toString('utf8'));
    } catch {
      if (!socket.destroyed) socket.write(encode({ ok: false, error: { code: 'malformed', message: 'a request is one JSON object per line' } }));
      return;
    }
    const response = await handler(request);
    if (!socket.destroyed) socket.write(encode(response));
  };

  const server = net.createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new ControlSocketError(`cannot listen on ${path}: ${error.message}`, 'listen')));
    server.listen(path, () => resolve());
  });
  server.on('error', (error) => log.error({ err: error.message }, 'control socket error'));
  // The state directory is 0700 already; the socket itself is for the owner only as well.
  await chmod(path, 0o600);
  log.info({ path }, 'control socket listening');

  return {
    path,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(path).catch(() => {});
    },
  };
}
