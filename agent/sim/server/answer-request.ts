import {
  ExceptionCode,
  buildExceptionPdu,
  buildReadResponsePdu,
  buildWriteResponsePdu,
  parseRequestPdu,
} from '../protocol/pdu.js';
import type { RegisterSpace } from './register-space.js';

export type UnknownUnitPolicy = 'silent' | 'exception';

/**
 * Computes the response PDU for one request PDU, or `null` when the device
 * stays silent (unknown unit with the 'silent' policy). Applies writes.
 */
export function answerRequest(space: RegisterSpace, unitId: number, pdu: Buffer, unknownUnit: UnknownUnitPolicy): Buffer | null {
  const fc = pdu[0] ?? 0;
  if (!space.hasUnit(unitId)) {
    return unknownUnit === 'silent' ? null : buildExceptionPdu(fc, ExceptionCode.GatewayTargetFailedToRespond);
  }
  const parsed = parseRequestPdu(pdu);
  if (!parsed.ok) return buildExceptionPdu(parsed.functionCode, parsed.exception);
  const request = parsed.request;
  try {
    if (request.kind === 'read') {
      const result = space.read(unitId, request.functionCode, request.address, request.count);
      if (!Array.isArray(result)) return buildExceptionPdu(request.functionCode, result.exception);
      if (result.length !== request.count) return buildExceptionPdu(request.functionCode, ExceptionCode.ServerDeviceFailure);
      return buildReadResponsePdu(request.functionCode, result);
    }
    const values = request.kind === 'write-single' ? [request.value] : request.values;
    const result = space.write(unitId, request.address, values);
    if (result) return buildExceptionPdu(request.functionCode, result.exception);
    return buildWriteResponsePdu(request);
  } catch {
    return buildExceptionPdu(request.functionCode, ExceptionCode.ServerDeviceFailure);
  }
}
