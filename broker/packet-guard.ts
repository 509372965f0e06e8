/**
 * A byte-level guard between a socket and aedes (MQ-3, F1).
 *
 * Neither aedes nor mqtt-packet has a maximum packet size: the parser buffers
 * whatever remaining length a fixed header announces (up to 256 MiB). The
 * guard reads MQTT fixed headers as the bytes stream past (type byte plus the
 * remaining-length varint, which may be split across chunks), skips packet
 * bodies without copying them, and destroys the connection as soon as a header
 * announces more than the limit or the varint is malformed. The chunk that
 * carries the offending header is never handed to aedes, so aedes's parser
 * never holds more than one permitted packet.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

export type GuardViolation =
  | { reason: 'too_big'; remainingLength: number; packetType: number }
  | { reason: 'malformed'; detail: string; packetType: number };

/** MQTT 3.1.1 control packet types a client may send (1..14); 0 and 15 are reserved. */
const RESERVED_TYPES = new Set([0, 15]);

/**
 * Incremental MQTT fixed-header scanner. `feed` returns the first violation in
 * the chunk, or undefined when every header seen so far is acceptable. After a
 * violation the scanner must not be fed again.
 */
export class FixedHeaderScanner {
  private state: 'type' | 'length' | 'body' = 'type';
  private packetType = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;
  /** Packets whose fixed header has been accepted. */
  packets = 0;

  constructor(readonly maxRemainingLength: number) {
    if (!Number.isInteger(maxRemainingLength) || maxRemainingLength < 2) throw new RangeError(`maxRemainingLength must be an integer >= 2, got ${maxRemainingLength}`);
  }

  feed(chunk: Uint8Array): GuardViolation | undefined {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.state === 'body') {
        const skip = Math.min(this.remaining, n - i);
        i += skip;
        this.remaining -= skip;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === 'type') {
        this.packetType = byte >> 4;
        if (RESERVED_TYPES.has(this.packetType)) return { reason: 'malformed', detail: `reserved packet type ${this.packetType}`, packetType: this.packetType };
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      // state === 'length': one byte of the remaining-length varint
      this.length += (byte & 0x7f) * this.multiplier;
      this.lengthBytes++;
      // The value only grows with further bytes, so a partial value over the limit is already a violation.
      if (this.length > this.maxRemainingLength) return { reason: 'too_big', remainingLength: this.length, packetType: this.packetType };
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return { reason: 'malformed', detail: 'remaining length longer than 4 bytes', packetType: this.packetType };
        this.multiplier *= 128;
        continue;
      }
      this.packets++;
      this.remaining = this.length;
      this.state = this.remaining > 0 ? 'body' : 'type';
    }
    return undefined;
  }
}

export interface GuardedConnectionOptions {
  maxPacketBytes: number;
  onViolation: (violation: GuardViolation) => void;
}

/**
 * The stream aedes sees instead of the socket: reads pass through the scanner
 * (with backpressure to the socket), writes go straight to the socket.
 */
export class GuardedConnection extends Duplex {
  private readonly scanner: FixedHeaderScanner;
  private violated = false;

  constructor(readonly socket: Socket, private readonly options: GuardedConnectionOptions) {
    super({ allowHalfOpen: false });
    this.scanner = new FixedHeaderScanner(options.maxPacketBytes);
    // MQTT is request/response: Nagle's delay against the peer's delayed ACK costs ~40 ms a message.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => { if (!this.destroyed) this.destroy(); });
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  private onData(chunk: Buffer): void {
    if (this.violated || this.destroyed) return;
    const violation = this.scanner.feed(chunk);
    if (violation) {
      this.violated = true;
      // Stop reading at once; nothing of this chunk reaches aedes.
      this.socket.pause();
      try {
        this.options.onViolation(violation);
      } finally {
        this.socket.destroy();
        this.destroy(new Error(violation.reason === 'too_big'
          ? `packet too big: remaining length ${violation.remainingLength} > ${this.options.maxPacketBytes}`
          : `malformed packet: ${violation.detail}`));
      }
      return;
    }
    if (!this.push(chunk)) this.socket.pause();
  }

  override _read(): void {
    if (!this.violated && !this.socket.destroyed) this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.socket.destroyed) {
      callback(new Error('connection closed'));
      return;
    }
    if (this.socket.write(chunk)) callback();
    else this.socket.once('drain', () => callback());
  }

  /** mqtt-packet writes one packet in several small pieces: one write (one TLS record) for all of them. */
  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this._write(Buffer.concat(chunks.map((c) => c.chunk)), 'binary', callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}
