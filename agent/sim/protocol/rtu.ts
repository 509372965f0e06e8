/**
 * Modbus RTU framing as seen by a slave: unit id, PDU, CRC (low byte first).
 * A stream has no delimiters other than silence, so request length is taken
 * from the function code; frames with a bad CRC are discarded silently.
 */
import { appendCrc, crc16Modbus, hasValidCrc } from './crc16.js';

export interface RtuFrame {
  unitId: number;
  pdu: Buffer;
}

/** Largest RTU ADU: unit + 253-byte PDU + CRC. */
export const MAX_RTU_FRAME_BYTES = 256;
const MIN_RTU_FRAME_BYTES = 4;

export function encodeRtu(frame: RtuFrame): Buffer {
  return appendCrc(Buffer.concat([Buffer.from([frame.unitId & 0xff]), frame.pdu]));
}

/**
 * Total length of a request frame that starts at `buf[0]`, or `undefined`
 * while not enough bytes have arrived to tell, or `null` for function codes
 * whose length is not known from the header.
 */
export function rtuRequestLength(buf: Uint8Array): number | undefined | null {
  if (buf.length < 2) return undefined;
  const fc = buf[1]!;
  if (fc >= 1 && fc <= 6) return 8; // unit fc addr(2) qty/value(2) crc(2)
  if (fc === 15 || fc === 16) {
    if (buf.length < 7) return undefined;
    return 9 + buf[6]!; // unit fc addr(2) qty(2) byteCount data crc(2)
  }
  return null;
}

export type RtuPushResult = { frames: RtuFrame[]; discardedBytes: number };

export class RtuRequestExtractor {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): RtuPushResult {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const frames: RtuFrame[] = [];
    let discardedBytes = 0;
    // Each pass consumes at least one byte or stops, so this is bounded by the buffer length.
    while (this.pending.length > 0) {
      const length = this.frameLengthAtStart();
      if (length === undefined) break;
      if (length === null) {
        // Unknown length and no CRC match yet: a slave would wait for silence.
        // Give up on the first byte once a full ADU could have arrived.
        if (this.pending.length < MAX_RTU_FRAME_BYTES) break;
        this.pending = this.pending.subarray(1);
        discardedBytes += 1;
        continue;
      }
      if (length > MAX_RTU_FRAME_BYTES) {
        this.pending = this.pending.subarray(1);
        discardedBytes += 1;
        continue;
      }
      if (this.pending.length < length) break;
      const frame = this.pending.subarray(0, length);
      this.pending = this.pending.subarray(length);
      if (!hasValidCrc(frame)) {
        discardedBytes += length;
        continue;
      }
      frames.push({ unitId: frame[0]!, pdu: Buffer.from(frame.subarray(1, length - 2)) });
    }
    return { frames, discardedBytes };
  }

  /** Forgets a partial frame, as a slave does after a silent interval. */
  reset(): number {
    const dropped = this.pending.length;
    this.pending = Buffer.alloc(0);
    return dropped;
  }

  bufferedBytes(): number {
    return this.pending.length;
  }

  private frameLengthAtStart(): number | undefined | null {
    const known = rtuRequestLength(this.pending);
    if (known !== null) return known;
    // Unsupported function code: accept the shortest prefix whose CRC matches,
    // so the server can still answer "illegal function".
    const limit = Math.min(this.pending.length, MAX_RTU_FRAME_BYTES);
    for (let len = MIN_RTU_FRAME_BYTES; len <= limit; len++) {
      const crc = crc16Modbus(this.pending, 0, len - 2);
      if (this.pending[len - 2] === (crc & 0xff) && this.pending[len - 1] === crc >>> 8) return len;
    }
    return null;
  }
}
