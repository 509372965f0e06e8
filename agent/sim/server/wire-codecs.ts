/** Adapts MBAP and RTU framing to the transport-agnostic session. */
import { MbapFrameExtractor, encodeMbap } from '../protocol/mbap.js';
import { RtuRequestExtractor, encodeRtu } from '../protocol/rtu.js';

export interface WireRequest {
  unitId: number;
  pdu: Buffer;
  /** Frames a response PDU for this request; `corrupt` breaks the framing on purpose. */
  encodeReply(pdu: Buffer, corrupt: boolean): Buffer;
}

export interface RequestDecoder {
  readonly framing: 'mbap' | 'rtu';
  push(chunk: Uint8Array): { requests: WireRequest[]; fatal?: string };
  /** Drops a partial frame (RTU: after a silent interval). */
  reset(): void;
  bufferedBytes(): number;
}

export function createMbapDecoder(): RequestDecoder {
  const extractor = new MbapFrameExtractor();
  return {
    framing: 'mbap',
    push(chunk) {
      const result = extractor.push(chunk);
      const requests = result.frames.map((frame): WireRequest => ({
        unitId: frame.unitId,
        pdu: frame.pdu,
        encodeReply(pdu, corrupt) {
          const out = encodeMbap({ transactionId: frame.transactionId, protocolId: 0, unitId: frame.unitId, pdu });
          // An impossible length (> 254) so a careful client can tell; a naive one waits and times out.
          if (corrupt) out.writeUInt16BE(out.readUInt16BE(4) + 0x100, 4);
          return out;
        },
      }));
      return result.error ? { requests, fatal: result.error } : { requests };
    },
    reset() {},
    bufferedBytes: () => extractor.bufferedBytes(),
  };
}

export function createRtuDecoder(): RequestDecoder {
  const extractor = new RtuRequestExtractor();
  return {
    framing: 'rtu',
    push(chunk) {
      const result = extractor.push(chunk);
      return {
        requests: result.frames.map((frame): WireRequest => ({
          unitId: frame.unitId,
          pdu: frame.pdu,
          encodeReply(pdu, corrupt) {
            const out = encodeRtu({ unitId: frame.unitId, pdu });
            if (corrupt) out[out.length - 1]! ^= 0xff;
            return out;
          },
        })),
      };
    },
    reset() {
      extractor.reset();
    },
    bufferedBytes: () => extractor.bufferedBytes(),
  };
}
