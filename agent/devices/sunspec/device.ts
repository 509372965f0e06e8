import type { Logger } from '../../core/log.js';
import type { DeviceMeasurement, Role } from '../../household/quantities.js';
import { BlockReader, type RegisterImage } from '../block-reader.js';
import type { PollableDevice } from '../device.js';
import { MAX_READ_REGISTERS, type WantedSpan } from '../planner.js';
import type { RegisterReader, RegisterWriter } from '../reader.js';
import { WriteAllowList, WriteRefusedError, type WritableRange } from '../write-policy.js';
import { placePoint, writePoint } from './write.js';
import { decodeModel, type DecodedModel } from './decode.js';
import { discoverSunSpec, type ChainDevice, type SunSpecChain } from './discover.js';
import { householdModels, unservedRoles, type HouseholdModels, type PlacedModel } from './roles.js';
import { householdSpans } from './spans.js';
import { readIdentity, type DeviceIdentity } from './identity.js';
import { measurementOf, type PvSources } from './measurement.js';

export interface SunSpecDeviceOptions {
  name: string;
  roles: readonly Role[];
  reader: RegisterReader;
  /** Probe only this base address; default: 40000, 0, 50000. */
  baseAddress?: number | undefined;
  /** Which logical device of the chain (0 = the first common model). */
  subdevice: number;
  invertGrid: boolean;
  maxGap: number;
  log: Logger;
  /** Points the installer allows to be written, with their ranges; empty = read-only. */
  writable?: readonly WritableRange[];
  /** Needed only when `writable` lists points. */
  writer?: RegisterWriter;
}

/** Consecutive failed polls after which the model chain is discovered again (the device may have been replaced or updated). */
const REDISCOVER_AFTER_FAILURES = 3;

export class SubdeviceMissingError extends Error {
  constructor(readonly subdevice: number, readonly found: number) {
    super(`the SunSpec chain holds ${found} device(s); subdevice ${subdevice} does not exist`);
    this.name = 'SubdeviceMissingError';
  }
}

interface Setup {
  chain: SunSpecChain;
  device: ChainDevice;
  identity: DeviceIdentity | undefined;
  models: HouseholdModels;
  spans: WantedSpan[];
  blocks: BlockReader;
  pvSources: PvSources;
}

/**
 * A SunSpec device: discovers its model chain once, then reads the points the
 * household needs in as few requests as the planner allows, each value in the
 * same request as its scale factor.
 */
export class SunSpecDevice implements PollableDevice {
  readonly name: string;
  readonly roles: readonly Role[];
  private setup: Setup | undefined;
  private failures = 0;
  private readonly allowList: WriteAllowList;

  constructor(private readonly options: SunSpecDeviceOptions) {
    this.name = options.name;
    this.roles = options.roles;
    this.allowList = new WriteAllowList(options.name, options.writable ?? []);
  }

  /**
   * Writes an engineering value (e.g. 124:OutWRte = 50 %) to an allow-listed
   * point, scaled with the point's scale factor, and confirms it by reading back.
   */
  async write(point: string, value: number): Promise<void> {
    this.allowList.check(point, value);
    const writer = this.options.writer;
    if (!writer) throw new WriteRefusedError(this.name, point, 'the device was built without a writer');
    const setup = this.setup ?? (this.setup = await this.discover());
    await writePoint({ read: (fc, a, c) => this.options.reader.read(fc, a, c), write: (a, v) => writer.write(a, v) }, placePoint(setup.device, point), value);
    this.options.log.info({ device: this.name, point, value }, 'wrote point');
  }

  /** The identity and models found, once discovered. */
  describe(): { identity: DeviceIdentity | undefined; models: number[]; baseAddress: number } | undefined {
    if (!this.setup) return undefined;
    return { identity: this.setup.identity, models: this.setup.device.models.map((m) => m.id), baseAddress: this.setup.chain.baseAddress };
  }

  /** Modbus requests the last-made read plan needs per poll. */
  requestsPerPoll(): number | undefined {
    return this.setup?.blocks.blocks().length;
  }

  async poll(): Promise<DeviceMeasurement> {
    try {
      const setup = this.setup ?? (this.setup = await this.discover());
      const image = await setup.blocks.readAll();
      this.failures = 0;
      // A value counts only if it came in the same request as its scale factor.
      const wasRead = (key: string) => setup.spans.some((span) => span.key === key)
        && image.readInOneRequest(setup.spans.filter((span) => span.key === key || span.key === `${key}#sf`));
      return measurementOf(decodeAll(setup.models, image), wasRead, { invertGrid: this.options.invertGrid, sources: setup.pvSources });
    } catch (err) {
      if (++this.failures >= REDISCOVER_AFTER_FAILURES) this.setup = undefined;
      throw err;
    }
  }

  private async discover(): Promise<Setup> {
    const { reader, log, roles, subdevice } = this.options;
    const chain = await discoverSunSpec(reader, this.options.baseAddress === undefined ? {} : { baseAddresses: [this.options.baseAddress] });
    const device = chain.devices[subdevice];
    if (!device) throw new SubdeviceMissingError(subdevice, chain.devices.length);
    const identity = await readIdentity(reader, device);
    const models = householdModels(device.models, roles);
    const unserved = unservedRoles(models, roles);
    const spans = householdSpans(models);
    const blocks = new BlockReader(reader, spans, { maxRegisters: MAX_READ_REGISTERS, maxGap: this.options.maxGap });
    log.info({
      device: this.name, baseAddress: chain.baseAddress, models: device.models.map((m) => m.id), chainEnd: chain.end,
      manufacturer: identity?.manufacturer, model: identity?.model, serial: identity?.serial, requestsPerPoll: blocks.blocks().length,
    }, 'SunSpec device discovered');
    if (unserved.length > 0) log.warn({ device: this.name, roles: unserved }, 'device has no SunSpec model for these roles; their values stay missing');
    return { chain, device, identity, models, spans, blocks, pvSources: {} };
  }
}

/** Decodes every placed model from the registers read in this poll. */
function decodeAll(models: HouseholdModels, image: RegisterImage): Partial<Record<keyof HouseholdModels, DecodedModel>> {
  const out: Partial<Record<keyof HouseholdModels, DecodedModel>> = {};
  for (const [role, placed] of Object.entries(models) as [keyof HouseholdModels, PlacedModel][]) {
    out[role] = decodeModel(placed.def, modelWords(placed, image), 0, placed.length);
  }
  return out;
}

/**
 * The model's registers as an array starting at its ID register. Registers
 * not read in this poll are 0; only points that were read are used.
 */
function modelWords(model: PlacedModel, image: RegisterImage): number[] {
  const words = new Array<number>(2 + model.length).fill(0);
  words[0] = model.def.id;
  words[1] = model.length;
  for (let i = 2; i < words.length; i++) {
    const w = image.get(3, model.address + i, 1);
    if (w) words[i] = w[0]!;
  }
  return words;
}
