/**
 * One connection (TCP socket or serial port) to the simulated device: decodes
 * requests, applies the quirks (deafness, silence, delays, drops, corruption)
 * and writes responses. Transport code only feeds bytes in and closes it.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { SeededRandom } from '../physics/random.js';
import { answerRequest, type UnknownUnitPolicy } from './answer-request.js';
import type { RegisterSpace } from './register-space.js';
import type { RequestDecoder } from './wire-codecs.js';
import { rtuWireTimeMs } from './wire-time.js';

export interface WireTimeEmulation {
  baudRate: number;
  bitsPerChar?: number;
  turnaroundMs?: number;
}

export interface DeviceBehaviour {
  connectDelayMs: number;
  responseDelayMs: number;
  responseJitterMs: number;
  unknownUnit: UnknownUnitPolicy;
  emulateWireTime?: WireTimeEmulation;
  /** RTU only: a partial frame older than this is discarded, like after t3.5 of silence. */
  rtuStaleFrameMs: number;
}

/** State shared by every session of one device. */
export class DeviceState {
  requests = 0;
  private dropCount = 0;
  private corruptCount = 0;
  /** A device answers one request at a time: the clock time its last reply goes out. */
  private busyUntil = 0;

  constructor(
    readonly space: RegisterSpace,
    readonly behaviour: DeviceBehaviour,
    readonly clock: Clock,
    readonly random: SeededRandom,
    readonly logger: Logger,
  ) {}

  dropNext(n: number): void {
    this.dropCount += Math.max(0, Math.floor(n));
  }

  corruptNext(): void {
    this.corruptCount += 1;
  }

  takeDrop(): boolean {
    if (this.dropCount === 0) return false;
    this.dropCount -= 1;
    return true;
  }

  takeCorrupt(): boolean {
    if (this.corruptCount === 0) return false;
    this.corruptCount -= 1;
    return true;
  }

  /** Returns the delay from now until this reply may be sent, and reserves the device until then. */
  reserveReplySlot(processingMs: number): number {
    const now = this.clock.now();
    const sendAt = Math.max(now, this.busyUntil) + processingMs;
    this.busyUntil = sendAt;
    return sendAt - now;
  }
}

export interface SessionSink {
  write(bytes: Buffer): void;
  /** Ends the connection (fatal framing error). */
  destroy(): void;
}

export class Session {
  private readonly acceptedAt: number;
  private lastDataAt: number;
  private readonly timers = new Set<TimerHandle>();
  private closed = false;

  constructor(
    private readonly device: DeviceState,
    private readonly decoder: RequestDecoder,
    private readonly sink: SessionSink,
    /** RTU on a serial line: unit 0 is a broadcast and never answered. */
    private readonly serialBroadcast: boolean,
  ) {
    this.acceptedAt = device.clock.now();
    this.lastDataAt = this.acceptedAt;
  }

  onData(chunk: Buffer): void {
    if (this.closed) return;
    const { clock, behaviour, logger } = this.device;
    const now = clock.now();
    if (this.decoder.framing === 'rtu' && this.decoder.bufferedBytes() > 0 && now - this.lastDataAt > behaviour.rtuStaleFrameMs) {
      this.decoder.reset();
    }
    this.lastDataAt = now;
    const { requests, fatal } = this.decoder.push(chunk);
    for (const request of requests) {
      this.device.requests += 1;
      if (now - this.acceptedAt < behaviour.connectDelayMs) {
        logger.debug({ unit: request.unitId }, 'request ignored: device deaf after connect');
        continue;
      }
      const broadcast = this.serialBroadcast && request.unitId === 0;
      const reply = answerRequest(this.device.space, request.unitId, request.pdu, broadcast ? 'silent' : behaviour.unknownUnit);
      if (reply === null || broadcast) continue;
      if (this.device.takeDrop()) {
        logger.debug({ unit: request.unitId }, 'response dropped on purpose');
        continue;
      }
      const bytes = request.encodeReply(reply, this.device.takeCorrupt());
      // Wire time is for RTU frames: unit id + PDU + CRC, whatever the transport.
      this.send(bytes, this.processingMs(request.pdu.length + 3, reply.length + 3));
    }
    if (fatal) {
      logger.warn({ reason: fatal }, 'dropping connection: framing out of sync');
      this.close();
      this.sink.destroy();
    }
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
  }

  private processingMs(requestBytes: number, responseBytes: number): number {
    const { behaviour, random } = this.device;
    let ms = behaviour.responseDelayMs + (behaviour.responseJitterMs > 0 ? random.uniform() * behaviour.responseJitterMs : 0);
    const wire = behaviour.emulateWireTime;
    if (wire) {
      ms += rtuWireTimeMs(requestBytes, responseBytes, wire.baudRate, {
        bitsPerChar: wire.bitsPerChar ?? 10,
        turnaroundMs: wire.turnaroundMs ?? 0,
      });
    }
    return ms;
  }

  private send(bytes: Buffer, processingMs: number): void {
    const delay = this.device.reserveReplySlot(processingMs);
    if (delay <= 0) {
      this.sink.write(bytes);
      return;
    }
    const timer = this.device.clock.setTimer(() => {
      this.timers.delete(timer);
      if (!this.closed) this.sink.write(bytes);
    }, delay);
    this.timers.add(timer);
  }
}
