/** Listens on TCP and runs one Session per accepted socket. */
import net from 'node:net';
import { Session, type DeviceState } from './session.js';
import type { RequestDecoder } from './wire-codecs.js';

export interface TcpTransportOptions {
  host: string;
  port: number;
  makeDecoder: () => RequestDecoder;
  /** A new connection closes every earlier one (Huawei/SolarEdge). */
  singleClient: boolean;
}

export class TcpTransport {
  private server: net.Server | undefined;
  private readonly sockets = new Map<net.Socket, Session>();
  private accepted = 0;
  private port: number;

  constructor(private readonly device: DeviceState, private readonly options: TcpTransportOptions) {
    this.port = options.port;
  }

  async listen(): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.device.logger.error({ err }, 'modbus sim listener error'));
    const bound = server.address();
    if (bound && typeof bound === 'object') this.port = bound.port;
    this.server = server;
  }

  address(): { host: string; port: number } {
    return { host: this.options.host, port: this.port };
  }

  connectionCount(): number {
    return this.sockets.size;
  }

  totalConnections(): number {
    return this.accepted;
  }

  /** Destroys every socket and stops listening. */
  async shutdown(): Promise<void> {
    for (const socket of [...this.sockets.keys()]) this.drop(socket);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.accepted += 1;
    if (this.options.singleClient) {
      for (const earlier of [...this.sockets.keys()]) this.drop(earlier);
    }
    socket.setNoDelay(true);
    const session = new Session(
      this.device,
      this.options.makeDecoder(),
      { write: (bytes) => { if (!socket.destroyed) socket.write(bytes); }, destroy: () => this.drop(socket) },
      false,
    );
    this.sockets.set(socket, session);
    socket.on('data', (chunk: Buffer) => session.onData(chunk));
    socket.on('error', (err) => this.device.logger.debug({ err }, 'modbus sim socket error'));
    socket.on('close', () => {
      session.close();
      this.sockets.delete(socket);
    });
  }

  private drop(socket: net.Socket): void {
    this.sockets.get(socket)?.close();
    this.sockets.delete(socket);
    socket.destroy();
  }
}
