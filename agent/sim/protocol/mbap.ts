/**
 * Modbus TCP framing: a 7-byte MBAP header (transaction id, protocol id 0,
 * length of unit id + PDU, unit id) followed by the PDU.
 */

export interface MbapFrame {
  transactionId: number;
  protocolId: number;
  unitId: number;
  pdu: Buffer;
}

export const MBAP_HEADER_BYTES = 7;
/** Length field counts the unit id plus a PDU of at most 253 bytes. */
export const MAX_MBAP_LENGTH = 254;

export function encodeMbap(frame: MbapFrame): Buffer {
  const out = Buffer.alloc(MBAP_HEADER_BYTES + frame.pdu.length);
  out.writeUInt16BE(frame.transactionId & 0xffff, 0);
  out.writeUInt16BE(frame.protocolId & 0xffff, 2);
  out.writeUInt16BE(frame.pdu.length + 1, 4);
  out[6] = frame.unitId & 0xff;
  frame.pdu.copy(out, MBAP_HEADER_BYTES);
  return out;
}

export type MbapPushResult = { frames: MbapFrame[]; error?: string };

/**
 * Splits a TCP byte stream into MBAP frames. Keeps partial frames between
 * pushes. A header with a length outside 2..254 or a non-zero protocol id
 * means the stream is out of sync; the caller should drop the connection
 * (there is no way to resynchronise MBAP).
 */
export class MbapFrameExtractor {
  private pending: Buffer = Buffer.alloc(0);
  private broken: string | undefined;

  push(chunk: Uint8Array): MbapPushResult {
    if (this.broken) return { frames: [], error: this.broken };
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const frames: MbapFrame[] = [];
    while (this.pending.length >= MBAP_HEADER_BYTES) {
      const protocolId = this.pending.readUInt16BE(2);
      const length = this.pending.readUInt16BE(4);
      if (protocolId !== 0 || length < 2 || length > MAX_MBAP_LENGTH) {
        this.broken = protocolId !== 0 ? `protocol id ${protocolId} is not Modbus` : `insane MBAP length ${length}`;
        this.pending = Buffer.alloc(0);
        return { frames, error: this.broken };
      }
      const total = MBAP_HEADER_BYTES - 1 + length;
      if (this.pending.length < total) break;
      frames.push({
        transactionId: this.pending.readUInt16BE(0),
        protocolId,
        unitId: this.pending[6]!,
        pdu: Buffer.from(this.pending.subarray(MBAP_HEADER_BYTES, total)),
      });
      this.pending = this.pending.subarray(total);
    }
    return { frames };
  }

  /** Bytes held back waiting for the rest of a frame. */
  bufferedBytes(): number {
    return this.pending.length;
  }
}
