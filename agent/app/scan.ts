import type { ModbusLink } from '../devices/modbus/index.js';
import { errorKind, exceptionCode } from '../devices/reader.js';

/** Gateway exceptions (10 path unavailable, 11 target failed to respond): nobody is at that unit. */
const noDeviceThere = (err: unknown) => {
  const kind = errorKind(err);
  const code = exceptionCode(err);
  return kind === 'timeout' || kind === 'backoff' || code === 10 || code === 11;
};
import { discoverSunSpec, NotSunSpecError } from '../devices/sunspec/discover.js';
import { readIdentity } from '../devices/sunspec/identity.js';
import { unitReader } from './devices.js';

/** Unit ids real devices use most (SMA 126, Kostal 71, GoodWe 247, Fronius meters 200/240, Victron 100). */
export const COMMON_UNITS = [1, 2, 3, 126, 71, 247, 100, 200, 240] as const;

export interface FoundDevice {
  unit: number;
  manufacturer: string | null;
  model: string | null;
  serial: string | null;
  version: string | null;
  models: number[];
  baseAddress: number;
}

export type ScanEvent =
  | { type: 'unit'; unit: number; index: number; total: number }
  | { type: 'found'; device: FoundDevice; subdevice: number }
  /** 'unreachable': the link could not connect (host down, port closed, serial port missing), so the unit was never asked. */
  | { type: 'none'; unit: number; why: 'no answer' | 'not SunSpec' | 'unreachable' | 'error'; detail?: string };

/**
 * Looks for SunSpec devices at each unit id of one link. Every device of a
 * chain is reported (a SolarEdge inverter and its meters share one unit).
 */
export async function scanUnits(link: ModbusLink, units: readonly number[], onEvent: (e: ScanEvent) => void = () => {}): Promise<FoundDevice[]> {
  const found: FoundDevice[] = [];
  for (const [index, unit] of units.entries()) {
    onEvent({ type: 'unit', unit, index, total: units.length });
    const reader = unitReader(link, unit);
    try {
      const chain = await discoverSunSpec(reader, { giveUpOnTimeout: true });
      for (const device of chain.devices) {
        const identity = await readIdentity(reader, device);
        const entry: FoundDevice = {
          unit,
          manufacturer: identity?.manufacturer ?? null,
          model: identity?.model ?? null,
          serial: identity?.serial ?? null,
          version: identity?.version ?? null,
          models: device.models.map((m) => m.id),
          baseAddress: chain.baseAddress,
        };
        found.push(entry);
        onEvent({ type: 'found', device: entry, subdevice: device.index });
      }
    } catch (err) {
      if (err instanceof NotSunSpecError) {
        onEvent({ type: 'none', unit, why: noDeviceThere(err.lastError) ? 'no answer' : 'not SunSpec' });
      } else {
        const why = noDeviceThere(err) ? 'no answer' : errorKind(err) === 'connection' ? 'unreachable' : 'error';
        onEvent({ type: 'none', unit, why, detail: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  return found;
}

/** "1,2,126" or "1-5,126" to unit ids; throws on anything else. */
export function parseUnitList(text: string): number[] {
  const units: number[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!range) throw new Error(`"${part}" is not a unit id or range (expected e.g. 1,2,126 or 1-10)`);
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (from > to || to > 247) throw new Error(`"${part}": unit ids run from 0 to 247`);
    for (let u = from; u <= to; u++) if (!units.includes(u)) units.push(u);
  }
  if (units.length === 0) throw new Error('no unit ids given');
  return units;
}
