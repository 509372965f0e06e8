import type { DeviceMeasurement, Role } from '../household/quantities.js';

/** A configured device that can be read once per poll cycle. */
export interface PollableDevice {
  readonly name: string;
  readonly roles: readonly Role[];
  /** Reads the device. Throws if it cannot be read at all; returns undefined fields for values it lacks. */
  poll(): Promise<DeviceMeasurement>;
}
