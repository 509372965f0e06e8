/**
 * The one place that talks to modbus-serial. A transport is one connection:
 * the link makes a fresh one for every (re)connect and destroys the old one
 * first, so modbus-serial's internal state (e.g. the receive buffer wedged by
 * a corrupt MBAP length, security.md F7) never outlives a reconnect.
 */
import ModbusRTU from 'modbus-serial';
import type { LinkSpec } from './types.js';
import { ModbusError } from './errors.js';

export interface ModbusTransport {
  connect(): Promise<void>;
  readRegisters(unit: number, fc: 3 | 4, address: number, count: number): Promise<number[]>;
  writeRegisters(unit: number, address: number, values: readonly number[], fc: 6 | 16): Promise<void>;
  /** Tears the connection down. Never rejects. */
  destroy(): Promise<void>;
  /** Calls `listener` once if the connection goes away by itself (peer closed, port error). */
  onLost(listener: (reason: Error) => void): void;
}

export type TransportFactory = (spec: LinkSpec) => ModbusTransport;

type Client = InstanceType<typeof ModbusRTU.default>;

function protocolError(message: string): ModbusError {
  return new ModbusError('protocol', message);
}

class ModbusSerialTransport implements ModbusTransport {
  private readonly client: Client = new ModbusRTU.default();
  private lostListener: ((reason: Error) => void) | null = null;
  private lostReason: Error | null = null;
  private destroyed = false;

  constructor(private readonly spec: LinkSpec) {
    // modbus-serial relays serial port errors as 'error' events; unhandled, they would crash the process.
    this.client.on('error', (err: unknown) => this.markLost(err instanceof Error ? err : new Error(String(err))));
    this.client.on('close', () => this.markLost(new Error('connection closed')));
  }

  async connect(): Promise<void> {
    const spec = this.spec;
    // Safety net only: the link races every request against its own clock.
    this.client.setTimeout(spec.timeout);
    if (spec.type === 'tcp') await this.client.connectTCP(spec.host, { port: spec.port });
    // Raw RTU frames (with CRC) over TCP is modbus-serial's "Telnet" port. Its connectTcpRTUBuffered,
    // despite the name, sends Modbus/TCP MBAP frames, which a transparent RS-485 gateway would garble.
    else if (spec.type === 'rtu-over-tcp') await this.client.connectTelnet(spec.host, { port: spec.port });
    else {
      await this.client.connectRTUBuffered(spec.path, {
        baudRate: spec.baudRate, parity: spec.parity, dataBits: spec.dataBits, stopBits: spec.stopBits,
      });
    }
  }

  async readRegisters(unit: number, fc: 3 | 4, address: number, count: number): Promise<number[]> {
    this.client.setID(unit);
    const reply = fc === 3 ? await this.client.readHoldingRegisters(address, count) : await this.client.readInputRegisters(address, count);
    const data: unknown = reply?.data;
    if (!Array.isArray(data) || data.length !== count) {
      throw protocolError(`expected ${count} registers from unit ${unit} at ${address}, got ${Array.isArray(data) ? data.length : typeof data}`);
    }
    for (const word of data) {
      if (!Number.isInteger(word) || word < 0 || word > 0xffff) throw protocolError(`register value ${String(word)} is not a 16-bit word`);
    }
    return data as number[];
  }

  async writeRegisters(unit: number, address: number, values: readonly number[], fc: 6 | 16): Promise<void> {
    this.client.setID(unit);
    if (fc === 6) {
      const reply = await this.client.writeRegister(address, values[0]!);
      if (reply?.address !== address || reply?.value !== values[0]) throw protocolError(`FC6 echo does not match the write to ${address}`);
      return;
    }
    const reply = await this.client.writeRegisters(address, [...values]);
    if (reply?.address !== address || reply?.length !== values.length) throw protocolError(`FC16 reply does not match the write of ${values.length} registers at ${address}`);
  }

  destroy(): Promise<void> {
    if (this.destroyed) return Promise.resolve();
    this.destroyed = true;
    // The 'error' and 'close' listeners stay attached (as no-ops now): a late serial error must not crash the process.
    return new Promise<void>((resolve) => {
      const done = (): void => resolve();
      try {
        // TCP ports can be destroyed at once; modbus-serial's destroy() does not close serial ports, close() does.
        if (this.spec.type === 'rtu') this.client.close(done); else this.client.destroy(done);
      } catch {
        resolve();
      }
    });
  }

  onLost(listener: (reason: Error) => void): void {
    this.lostListener = listener;
    if (this.lostReason) listener(this.lostReason);
  }

  private markLost(reason: Error): void {
    if (this.lostReason || this.destroyed) return;
    this.lostReason = reason;
    this.lostListener?.(reason);
  }
}

export const modbusSerialTransport: TransportFactory = (spec) => new ModbusSerialTransport(spec);
