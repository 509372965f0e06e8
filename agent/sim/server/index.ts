export { startModbusServer, type ModbusServerHandle, type ModbusServerOptions, type ModbusTransportOptions } from './modbus-server.js';
export { MapRegisterSpace, type RegisterSpace, type RegisterException, type RegisterHole, type MapRegisterSpaceOptions } from './register-space.js';
export { rtuWireTimeMs, interFrameGapMs, charTimeMs, type WireTimeOptions } from './wire-time.js';
export type { UnknownUnitPolicy } from './answer-request.js';
export type { WireTimeEmulation } from './session.js';
