import type { RegisterException, RegisterSpace } from '../server/register-space.js';
import { ExceptionCode } from '../protocol/pdu.js';
import { modelDef } from '../../devices/sunspec/registry.js';
import type { SimulatedHousehold } from '../physics/simulated-household.js';
import { renderHousehold, type DeviceImage, type Identity } from './image.js';
import type { SimLayout } from './layout.js';

const illegalAddress: RegisterException = { exception: ExceptionCode.IllegalDataAddress };

/**
 * Serves a simulated household as SunSpec devices. Every read shows the
 * physics at the clock's current time; writes are accepted only on points the
 * specification marks read-write, and read back afterwards.
 */
export class SimulatedSunSpecSpace implements RegisterSpace {
  private cache: { timeMs: number; images: Map<number, DeviceImage> } | undefined;
  private readonly overrides = new Map<number, Map<number, number>>();

  constructor(private readonly household: SimulatedHousehold, private readonly layout: SimLayout, private readonly identity: Identity) {}

  units(): number[] {
    return [...this.images().keys()];
  }

  hasUnit(unit: number): boolean {
    return this.images().has(unit);
  }

  read(unit: number, _fc: 3 | 4, address: number, count: number): number[] | RegisterException {
    const image = this.images().get(unit);
    if (!image) return illegalAddress;
    const start = address - image.baseAddress;
    if (start < 0 || start + count > image.words.length) return illegalAddress;
    const words = image.words.slice(start, start + count);
    const overrides = this.overrides.get(unit);
    if (overrides) words.forEach((_, i) => { const w = overrides.get(address + i); if (w !== undefined) words[i] = w; });
    return words;
  }

  write(unit: number, address: number, values: number[]): void | RegisterException {
    const image = this.images().get(unit);
    if (!image) return illegalAddress;
    for (let a = address; a < address + values.length; a++) {
      if (!this.isWritable(image, a)) return illegalAddress;
    }
    const overrides = this.overrides.get(unit) ?? new Map<number, number>();
    values.forEach((w, i) => overrides.set(address + i, w & 0xffff));
    this.overrides.set(unit, overrides);
  }

  /** The current register images (re-rendered when the household has moved on). */
  images(): Map<number, DeviceImage> {
    const state = this.household.advanceToNow();
    if (this.cache?.timeMs !== state.timeMs) {
      const images = renderHousehold(state, this.household.params, this.layout, this.identity);
      this.cache = { timeMs: state.timeMs, images: new Map(images.map((i) => [i.unit, i])) };
    }
    return this.cache.images;
  }

  private isWritable(image: DeviceImage, address: number): boolean {
    const owner = [...image.models].reverse().find((m) => m.address <= address);
    const def = owner && modelDef(owner.id);
    if (!owner || !def) return false;
    const offset = address - owner.address;
    return def.points.some((p) => p.access === 'RW' && offset >= p.offset && offset < p.offset + p.size);
  }
}
