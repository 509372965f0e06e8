/**
 * A Modbus slave for the household simulator, with the transport-level
 * quirks of real devices (devices.md §b.9, §c) and fault injection.
 */
import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/log.js';
import { SeededRandom } from '../physics/random.js';
import type { UnknownUnitPolicy } from './answer-request.js';
import type { RegisterSpace } from './register-space.js';
import { SerialTransport } from './serial-transport.js';
import { DeviceState, type WireTimeEmulation } from './session.js';
import { TcpTransport } from './tcp-transport.js';
import { createMbapDecoder, createRtuDecoder } from './wire-codecs.js';

export type ModbusTransportOptions =
  | { kind: 'tcp'; host?: string; port?: number }
  /** RTU frames over a TCP socket, like a transparent RS-485 gateway. */
  | { kind: 'rtu-over-tcp'; host?: string; port?: number }
  | { kind: 'rtu'; path: string; baudRate: number };

export interface ModbusServerOptions {
  transport: ModbusTransportOptions;
  registers: RegisterSpace;
  clock?: Clock;
  logger?: Logger;
  /** Seed for response jitter. */
  seed?: number;
  /** A new TCP connection closes the previous ones. */
  singleClient?: boolean;
  /** Requests within this many ms after a connection is accepted (or the port opened) are ignored. */
  connectDelayMs?: number;
  responseDelayMs?: number;
  /** Uniform extra delay in [0, responseJitterMs). */
  responseJitterMs?: number;
  /** Default: 'exception' (0x0B) on tcp, 'silent' on RTU kinds. */
  unknownUnit?: UnknownUnitPolicy;
  /** Delay each reply by the RS-485 wire time of request and response (see `rtuWireTimeMs`). */
  emulateWireTime?: WireTimeEmulation;
  /** RTU: a partial frame older than this is discarded (default 100 ms). */
  rtuStaleFrameMs?: number;
}

export interface ModbusServerHandle {
  readonly kind: ModbusTransportOptions['kind'];
  /** Bound address for TCP kinds; throws for a serial port. */
  address(): { host: string; port: number };
  connectionCount(): number;
  totalConnections(): number;
  /** Requests decoded (including ones ignored while deaf or unanswered). */
  requestCount(): number;
  /** The next response gets a broken MBAP length field (TCP) or a bad CRC (RTU). */
  injectCorruptResponse(): void;
  /** The next `n` responses are not sent (the client times out); writes still apply. */
  dropNextResponses(n: number): void;
  /** Simulates a reboot: closes everything, listens/opens again after `downMs` of clock time. */
  restart(downMs: number): Promise<void>;
  close(): Promise<void>;
}

interface Transport {
  connectionCount(): number;
  totalConnections(): number;
  shutdown(): Promise<void>;
}

export async function startModbusServer(options: ModbusServerOptions): Promise<ModbusServerHandle> {
  const clock = options.clock ?? systemClock;
  const kind = options.transport.kind;
  const device = new DeviceState(
    options.registers,
    {
      connectDelayMs: options.connectDelayMs ?? 0,
      responseDelayMs: options.responseDelayMs ?? 0,
      responseJitterMs: options.responseJitterMs ?? 0,
      unknownUnit: options.unknownUnit ?? (kind === 'tcp' ? 'exception' : 'silent'),
      emulateWireTime: options.emulateWireTime,
      rtuStaleFrameMs: options.rtuStaleFrameMs ?? 100,
    },
    clock,
    new SeededRandom(options.seed ?? 1),
    options.logger ?? silentLogger(),
  );

  let transport: Transport;
  let bringUp: () => Promise<void>;
  let tcp: TcpTransport | undefined;
  if (options.transport.kind === 'rtu') {
    const serial = new SerialTransport(device, options.transport.path, options.transport.baudRate);
    transport = serial;
    bringUp = () => serial.open();
  } else {
    const makeDecoder = options.transport.kind === 'tcp' ? createMbapDecoder : createRtuDecoder;
    tcp = new TcpTransport(device, {
      host: options.transport.host ?? '127.0.0.1',
      port: options.transport.port ?? 0,
      makeDecoder,
      singleClient: options.singleClient ?? false,
    });
    transport = tcp;
    bringUp = () => tcp!.listen();
  }
  await bringUp();

  let closed = false;
  return {
    kind,
    address() {
      if (!tcp) throw new Error('address() is only available for TCP transports');
      return tcp.address();
    },
    connectionCount: () => transport.connectionCount(),
    totalConnections: () => transport.totalConnections(),
    requestCount: () => device.requests,
    injectCorruptResponse: () => device.corruptNext(),
    dropNextResponses: (n) => device.dropNext(n),
    async restart(downMs) {
      await transport.shutdown();
      await clock.sleep(downMs);
      if (!closed) await bringUp();
    },
    async close() {
      closed = true;
      await transport.shutdown();
    },
  };
}
