/**
 * Typed Modbus errors with a stable `kind`, and the mapping from what
 * modbus-serial and Node throw to those kinds.
 */
export type ModbusErrorKind =
  /** No answer within the timeout. */
  | 'timeout'
  /** The device answered with a Modbus exception (see `code`); the link is fine. */
  | 'exception'
  /** Could not connect, connection lost, or the link is backing off before reconnecting. */
  | 'connection'
  /** A reply that is not a valid answer to the request (CRC, length, unit, function). */
  | 'protocol'
  /** This unit failed repeatedly and is resting until its retry time. */
  | 'backoff'
  /** The link was closed by its owner. */
  | 'closed';

export class ModbusError extends Error {
  override readonly name = 'ModbusError';
  readonly kind: ModbusErrorKind;
  /** Modbus exception code for kind 'exception' (2 = illegal data address). */
  readonly code: number | undefined;
  /** Epoch ms when a 'backoff' or backing-off 'connection' error stops applying. */
  readonly retryAt: number | undefined;

  constructor(kind: ModbusErrorKind, message: string, extra: { code?: number; retryAt?: number; cause?: unknown } = {}) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.kind = kind;
    this.code = extra.code;
    this.retryAt = extra.retryAt;
  }
}

export function isModbusError(err: unknown, kind?: ModbusErrorKind): err is ModbusError {
  return err instanceof ModbusError && (kind === undefined || err.kind === kind);
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND',
  'EAI_AGAIN', 'EADDRNOTAVAIL', 'ENOENT', 'EACCES', 'EBUSY', 'ERR_SOCKET_CLOSED', 'ERR_STREAM_DESTROYED',
]);

interface LooseError { name?: unknown; message?: unknown; code?: unknown; errno?: unknown; modbusCode?: unknown }

/**
 * Kind of an error thrown by modbus-serial or Node during a request.
 * Unknown errors count as 'protocol' so the link is reset rather than trusted.
 */
export function classifyRequestError(err: unknown): { kind: ModbusErrorKind; code?: number } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as LooseError;
  if (typeof e.modbusCode === 'number') return { kind: 'exception', code: e.modbusCode };
  if (e.name === 'TransactionTimedOutError' || e.errno === 'ETIMEDOUT') return { kind: 'timeout' };
  if (e.name === 'PortNotOpenError' || e.name === 'SerialPortError') return { kind: 'connection' };
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return { kind: 'connection' };
  if (typeof e.errno === 'string' && CONNECTION_CODES.has(e.errno)) return { kind: 'connection' };
  const message = typeof e.message === 'string' ? e.message : '';
  if (/port not open|not open|closed|destroyed|write after end/i.test(message)) return { kind: 'connection' };
  return { kind: 'protocol' };
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && typeof (err as LooseError).message === 'string') return (err as { message: string }).message;
  return String(err);
}
