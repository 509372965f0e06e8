export { ModbusLink, DEFAULT_LINK_POLICY, type LinkPolicy, type LinkDeps, type LinkStats, type UnitStats } from './link.js';
export { LinkPool } from './pool.js';
export { ModbusError, isModbusError, classifyRequestError, type ModbusErrorKind } from './errors.js';
export { endpointKey, type LinkSpec } from './types.js';
export { modbusSerialTransport, type ModbusTransport, type TransportFactory } from './transport.js';
export type { RequestStats } from './stats.js';
export type { BackoffPolicy } from './backoff.js';
export type { UnitHealthPolicy } from './unit-health.js';
export { MAX_READ_COUNT, MAX_WRITE_COUNT } from './limits.js';
