import type { Logger } from '../core/log.js';
import type { DeviceMeasurement, Role } from '../household/quantities.js';
import { BlockReader } from './block-reader.js';
import type { PollableDevice } from './device.js';
import { MAX_READ_REGISTERS } from './planner.js';
import type { RegisterReader, RegisterWriter } from './reader.js';
import { decodeProfileValues, encodeProfileWrite, profileReadSpans, type Profile } from './profiles/index.js';
import { WriteAllowList, WriteRefusedError, type WritableRange } from './write-policy.js';

export interface ProfileDeviceOptions {
  name: string;
  roles: readonly Role[];
  reader: RegisterReader;
  profile: Profile;
  invertGrid: boolean;
  maxGap: number;
  log: Logger;
  writable?: readonly WritableRange[];
  writer?: RegisterWriter;
}

/** A device described by a register profile (vendors that do not speak SunSpec). */
export class ProfileDevice implements PollableDevice {
  readonly name: string;
  readonly roles: readonly Role[];
  private readonly blocks: BlockReader;
  private readonly allowList: WriteAllowList;
  private announced = false;

  constructor(private readonly options: ProfileDeviceOptions) {
    this.name = options.name;
    this.roles = options.roles;
    this.allowList = new WriteAllowList(options.name, options.writable ?? []);
    for (const w of options.writable ?? []) {
      const point = options.profile.points.find((p) => p.name === w.point);
      if (!point || point.access !== 'rw') {
        throw new WriteRefusedError(options.name, w.point, `profile ${options.profile.name} has no writable point ${w.point}`);
      }
    }
    this.blocks = new BlockReader(options.reader, profileReadSpans(options.profile), { maxRegisters: MAX_READ_REGISTERS, maxGap: options.maxGap });
  }

  /** Writes an allow-listed point within its configured range (and the profile's own limits). */
  async write(point: string, value: number): Promise<void> {
    this.allowList.check(point, value);
    const writer = this.options.writer;
    if (!writer) throw new WriteRefusedError(this.name, point, 'the device was built without a writer');
    let encoded;
    try {
      encoded = encodeProfileWrite(this.options.profile, point, value);
    } catch (err) {
      throw new WriteRefusedError(this.name, point, (err as Error).message);
    }
    await writer.write(encoded.address, encoded.words);
    this.options.log.info({ device: this.name, point, value }, 'wrote point');
  }

  requestsPerPoll(): number {
    return this.blocks.blocks().length;
  }

  async poll(): Promise<DeviceMeasurement> {
    const image = await this.blocks.readAll();
    if (!this.announced) {
      this.announced = true;
      this.options.log.info({ device: this.name, profile: this.options.profile.name, requestsPerPoll: this.requestsPerPoll() }, 'profile device readable');
    }
    const v = decodeProfileValues(this.options.profile, (span) => image.get(span.fc, span.address, span.size));
    return measurementFromProfile(v, this.roles, this.options.invertGrid);
  }
}

/** Household values from decoded profile points (well-known names, see docs/profiles.md). */
export function measurementFromProfile(v: Record<string, number | undefined>, roles: readonly Role[], invertGrid: boolean): DeviceMeasurement {
  const out: DeviceMeasurement = {};
  if (roles.includes('pv')) {
    out.pvW = v.pvPower;
    out.pvWh = v.pvEnergy;
    out.acW = v.inverterPower;
  }
  if (roles.includes('battery')) {
    out.batteryW = v.batteryPower;
    out.socPct = v.batterySoc;
  }
  if (roles.includes('grid')) {
    out.gridW = v.gridPower === undefined ? undefined : invertGrid ? -v.gridPower : v.gridPower;
    out.gridImportWh = invertGrid ? v.gridExportEnergy : v.gridImportEnergy;
    out.gridExportWh = invertGrid ? v.gridImportEnergy : v.gridExportEnergy;
  }
  return out;
}
