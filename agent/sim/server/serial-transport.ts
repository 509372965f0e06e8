/** Serves RTU on a serial device (e.g. one end of a socat pty pair). */
import { SerialPort } from 'serialport';
import { Session, type DeviceState } from './session.js';
import { createRtuDecoder } from './wire-codecs.js';

export class SerialTransport {
  private port: SerialPort | undefined;
  private session: Session | undefined;
  private opened = 0;

  constructor(private readonly device: DeviceState, private readonly path: string, private readonly baudRate: number) {}

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    const session = new Session(
      this.device,
      createRtuDecoder(),
      { write: (bytes) => { if (port.isOpen) port.write(bytes); }, destroy: () => {} },
      true,
    );
    port.on('data', (chunk: Buffer) => session.onData(chunk));
    port.on('error', (err) => this.device.logger.warn({ err }, 'modbus sim serial error'));
    this.port = port;
    this.session = session;
    this.opened += 1;
  }

  connectionCount(): number {
    return this.port?.isOpen ? 1 : 0;
  }

  totalConnections(): number {
    return this.opened;
  }

  async shutdown(): Promise<void> {
    this.session?.close();
    this.session = undefined;
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
