import type { Logger } from '../core/log.js';
import type { DeviceMeasurement, Role } from '../household/quantities.js';
import { BlockReader } from './block-reader.js';
import type { PollableDevice } from './device.js';
import { MAX_READ_REGISTERS } from './planner.js';
import type { RegisterReader } from './reader.js';
import { decodeProfileValues, profileReadSpans, type Profile } from './profiles/index.js';

export interface ProfileDeviceOptions {
  name: string;
  roles: readonly Role[];
  reader: RegisterReader;
  profile: Profile;
  invertGrid: boolean;
  maxGap: number;
  log: Logger;
}

/** A device described by a register profile (vendors that do not speak SunSpec). */
export class ProfileDevice implements PollableDevice {
  readonly name: string;
  readonly roles: readonly Role[];
  private readonly blocks: BlockReader;
  private announced = false;

  constructor(private readonly options: ProfileDeviceOptions) {
    this.name = options.name;
    this.roles = options.roles;
    this.blocks = new BlockReader(options.reader, profileReadSpans(options.profile), { maxRegisters: MAX_READ_REGISTERS, maxGap: options.maxGap });
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
