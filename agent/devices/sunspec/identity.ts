import { errorKind, type RegisterReader } from '../reader.js';
import { MAX_READ_REGISTERS } from '../planner.js';
import { decodeModel } from './decode.js';
import type { ChainDevice } from './discover.js';
import { COMMON } from './models/common.js';

export interface DeviceIdentity {
  manufacturer: string | undefined;
  model: string | undefined;
  serial: string | undefined;
  version: string | undefined;
  options: string | undefined;
  deviceAddress: number | undefined;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Reads the common model (1) of a chain device: manufacturer, model, serial,
 * version. Returns undefined when the device has no common model or refuses
 * the read; identity is for people, never needed to read values.
 */
export async function readIdentity(reader: RegisterReader, device: ChainDevice): Promise<DeviceIdentity | undefined> {
  const common = device.models.find((m) => m.id === COMMON.id);
  if (!common) return undefined;
  const count = Math.min(2 + common.length, MAX_READ_REGISTERS);
  let words: number[];
  try {
    words = await reader.read(3, common.address, count);
  } catch (err) {
    const kind = errorKind(err);
    if (kind === 'exception' || kind === 'timeout') return undefined;
    throw err;
  }
  const { values } = decodeModel(COMMON, words, 0, common.length);
  return {
    manufacturer: text(values.Mn),
    model: text(values.Md),
    serial: text(values.SN),
    version: text(values.Vr),
    options: text(values.Opt),
    deviceAddress: typeof values.DA === 'number' ? values.DA : undefined,
  };
}
