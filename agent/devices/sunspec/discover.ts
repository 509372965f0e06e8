import { errorKind, type RegisterReader } from '../reader.js';

/** "SunS" as two registers. */
export const SUNSPEC_MARKER = [0x5375, 0x6e53] as const;
export const DEFAULT_BASE_ADDRESSES = [40000, 0, 50000] as const;
const END_MARKER = 0xffff;

export interface ChainModel {
  id: number;
  /** Address of the register holding the model id. */
  address: number;
  /** Body length as reported by the device (trusted over the specification). */
  length: number;
}

/** One logical device in the chain: it starts at a common model (1). */
export interface ChainDevice {
  index: number;
  models: ChainModel[];
}

export type ChainEnd = 'end-marker' | 'exception' | 'timeout' | 'zero' | 'address-limit' | 'model-limit';

export interface SunSpecChain {
  baseAddress: number;
  devices: ChainDevice[];
  /** How the walk stopped; anything but 'end-marker' is a device that bends the spec, and is tolerated. */
  end: ChainEnd;
}

export interface DiscoverOptions {
  baseAddresses?: readonly number[];
  maxModels?: number;
  /** Stop probing at the first timeout instead of trying the next base address (a unit that does not answer at all). */
  giveUpOnTimeout?: boolean;
  onProgress?: (event: DiscoverProgress) => void;
}

export type DiscoverProgress =
  | { type: 'probe'; baseAddress: number }
  | { type: 'model'; id: number; address: number; length: number };

/** Thrown when no base address holds the SunSpec marker. */
export class NotSunSpecError extends Error {
  constructor(readonly probed: readonly number[], readonly lastError?: unknown) {
    super(`no SunSpec marker at ${probed.join(', ')}`);
    this.name = 'NotSunSpecError';
  }
}

/** Errors that mean "nothing more here" rather than "the link is broken". */
function isEndOfData(err: unknown): 'exception' | 'timeout' | undefined {
  const kind = errorKind(err);
  return kind === 'exception' || kind === 'timeout' ? kind : undefined;
}

async function findBase(reader: RegisterReader, bases: readonly number[], options: DiscoverOptions): Promise<number> {
  let lastError: unknown;
  for (const base of bases) {
    options.onProgress?.({ type: 'probe', baseAddress: base });
    try {
      const words = await reader.read(3, base, 2);
      if (words[0] === SUNSPEC_MARKER[0] && words[1] === SUNSPEC_MARKER[1]) return base;
    } catch (err) {
      const why = isEndOfData(err);
      if (!why) throw err;
      lastError = err;
      if (why === 'timeout' && options.giveUpOnTimeout) break;
    }
  }
  throw new NotSunSpecError(bases, lastError);
}

/**
 * Reads a model header. Tries both registers in one request; devices that
 * raise an exception for a read running past the end of their map (SMA) get
 * the id alone, then the length alone.
 */
async function readHeader(reader: RegisterReader, address: number): Promise<{ id: number; length?: number } | { end: ChainEnd }> {
  try {
    const [id, length] = await reader.read(3, address, 2);
    return { id: id ?? END_MARKER, length: length ?? 0 };
  } catch (err) {
    const why = isEndOfData(err);
    if (!why) throw err;
    try {
      const [id] = await reader.read(3, address, 1);
      return { id: id ?? END_MARKER };
    } catch (err2) {
      const why2 = isEndOfData(err2);
      if (!why2) throw err2;
      return { end: why2 };
    }
  }
}

/**
 * Finds the SunSpec marker and walks the model chain. Tolerates what real
 * devices do: no end marker, an exception or a timeout at the end, a zero id,
 * lengths that differ from the specification, and several devices in one
 * chain (each common model 1 starts the next device).
 */
export async function discoverSunSpec(reader: RegisterReader, options: DiscoverOptions = {}): Promise<SunSpecChain> {
  const bases = options.baseAddresses ?? DEFAULT_BASE_ADDRESSES;
  const maxModels = options.maxModels ?? 100;
  const baseAddress = await findBase(reader, bases, options);
  const devices: ChainDevice[] = [];
  let address = baseAddress + 2;
  let end: ChainEnd = 'model-limit';

  for (let count = 0; count < maxModels; count++) {
    if (address + 1 > 0xffff) { end = 'address-limit'; break; }
    const header = await readHeader(reader, address);
    if ('end' in header) { end = header.end; break; }
    if (header.id === END_MARKER) { end = 'end-marker'; break; }
    if (header.id === 0) { end = 'zero'; break; }
    let length = header.length;
    if (length === undefined) {
      try {
        [length] = await reader.read(3, address + 1, 1);
      } catch (err) {
        const why = isEndOfData(err);
        if (!why) throw err;
        end = why;
        break;
      }
      length ??= 0;
    }
    if (header.id === 1 || devices.length === 0) devices.push({ index: devices.length, models: [] });
    devices[devices.length - 1]!.models.push({ id: header.id, address, length });
    options.onProgress?.({ type: 'model', id: header.id, address, length });
    address += 2 + length;
  }
  return { baseAddress, devices, end };
}
