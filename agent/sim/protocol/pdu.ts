/**
 * Modbus request/response PDUs (function code + data, without unit id or
 * framing) for the register functions the simulator serves: FC 3, 4, 6, 16.
 */

export const ExceptionCode = {
  IllegalFunction: 0x01,
  IllegalDataAddress: 0x02,
  IllegalDataValue: 0x03,
  ServerDeviceFailure: 0x04,
  GatewayTargetFailedToRespond: 0x0b,
} as const;

export const MAX_READ_REGISTERS = 125;
export const MAX_WRITE_REGISTERS = 123;

export type ReadRequest = { kind: 'read'; functionCode: 3 | 4; address: number; count: number };
export type WriteSingleRequest = { kind: 'write-single'; functionCode: 6; address: number; value: number };
export type WriteMultipleRequest = { kind: 'write-multiple'; functionCode: 16; address: number; values: number[] };
export type ModbusRequest = ReadRequest | WriteSingleRequest | WriteMultipleRequest;

export type ParsedRequest =
  | { ok: true; request: ModbusRequest }
  | { ok: false; functionCode: number; exception: number };

function reject(functionCode: number, exception: number): ParsedRequest {
  return { ok: false, functionCode, exception };
}

/**
 * Validates in the order of the Modbus application protocol spec (§6):
 * function code, then quantity/byte count (exception 3), then address range
 * (exception 2). Whether addresses exist is left to the register space.
 */
export function parseRequestPdu(pdu: Uint8Array): ParsedRequest {
  if (pdu.length < 1) return reject(0, ExceptionCode.IllegalFunction);
  const fc = pdu[0]!;
  const view = Buffer.from(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  switch (fc) {
    case 3:
    case 4: {
      if (pdu.length !== 5) return reject(fc, ExceptionCode.IllegalDataValue);
      const address = view.readUInt16BE(1);
      const count = view.readUInt16BE(3);
      if (count < 1 || count > MAX_READ_REGISTERS) return reject(fc, ExceptionCode.IllegalDataValue);
      if (address + count > 0x10000) return reject(fc, ExceptionCode.IllegalDataAddress);
      return { ok: true, request: { kind: 'read', functionCode: fc, address, count } };
    }
    case 6: {
      if (pdu.length !== 5) return reject(fc, ExceptionCode.IllegalDataValue);
      return { ok: true, request: { kind: 'write-single', functionCode: 6, address: view.readUInt16BE(1), value: view.readUInt16BE(3) } };
    }
    case 16: {
      if (pdu.length < 6) return reject(fc, ExceptionCode.IllegalDataValue);
      const address = view.readUInt16BE(1);
      const count = view.readUInt16BE(3);
      const byteCount = pdu[5]!;
      if (count < 1 || count > MAX_WRITE_REGISTERS || byteCount !== count * 2 || pdu.length !== 6 + byteCount) {
        return reject(fc, ExceptionCode.IllegalDataValue);
      }
      if (address + count > 0x10000) return reject(fc, ExceptionCode.IllegalDataAddress);
      const values: number[] = [];
      for (let i = 0; i < count; i++) values.push(view.readUInt16BE(6 + 2 * i));
      return { ok: true, request: { kind: 'write-multiple', functionCode: 16, address, values } };
    }
    default:
      return reject(fc, ExceptionCode.IllegalFunction);
  }
}

/** Encodes a request PDU (used by tests and by anything that plays client). */
export function buildRequestPdu(request: ModbusRequest): Buffer {
  switch (request.kind) {
    case 'read': {
      const out = Buffer.alloc(5);
      out[0] = request.functionCode;
      out.writeUInt16BE(request.address, 1);
      out.writeUInt16BE(request.count, 3);
      return out;
    }
    case 'write-single': {
      const out = Buffer.alloc(5);
      out[0] = 6;
      out.writeUInt16BE(request.address, 1);
      out.writeUInt16BE(request.value & 0xffff, 3);
      return out;
    }
    case 'write-multiple': {
      const out = Buffer.alloc(6 + 2 * request.values.length);
      out[0] = 16;
      out.writeUInt16BE(request.address, 1);
      out.writeUInt16BE(request.values.length, 3);
      out[5] = 2 * request.values.length;
      request.values.forEach((v, i) => out.writeUInt16BE(v & 0xffff, 6 + 2 * i));
      return out;
    }
  }
}

export function buildExceptionPdu(functionCode: number, exception: number): Buffer {
  return Buffer.from([(functionCode | 0x80) & 0xff, exception & 0xff]);
}

/** FC 3/4 response: fc, byte count, registers big-endian. */
export function buildReadResponsePdu(functionCode: 3 | 4, registers: readonly number[]): Buffer {
  const out = Buffer.alloc(2 + 2 * registers.length);
  out[0] = functionCode;
  out[1] = 2 * registers.length;
  registers.forEach((v, i) => out.writeUInt16BE(v & 0xffff, 2 + 2 * i));
  return out;
}

/** FC 6 echoes the request; FC 16 answers with address and quantity. */
export function buildWriteResponsePdu(request: WriteSingleRequest | WriteMultipleRequest): Buffer {
  if (request.kind === 'write-single') return buildRequestPdu(request);
  const out = Buffer.alloc(5);
  out[0] = 16;
  out.writeUInt16BE(request.address, 1);
  out.writeUInt16BE(request.values.length, 3);
  return out;
}
