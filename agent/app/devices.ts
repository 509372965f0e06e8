import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { ConfigError, type Config, type DeviceConfig, type LinkConfig } from '../config/index.js';
import type { PollableDevice } from '../devices/device.js';
import { LinkPool, type LinkSpec, type ModbusLink } from '../devices/modbus/index.js';
import { ProfileDevice } from '../devices/profile-device.js';
import { resolveProfile } from '../devices/profiles/index.js';
import type { RegisterReader, RegisterWriter } from '../devices/reader.js';
import { SunSpecDevice } from '../devices/sunspec/device.js';

/** A configured device that cannot be set up (unknown profile, a writable point the profile lacks). Exit 78. */
export class DeviceSetupError extends Error {
  constructor(readonly device: string, message: string) {
    super(`devices.${device}: ${message}`);
    this.name = 'DeviceSetupError';
  }
}

export interface DeviceSetup {
  devices: PollableDevice[];
  links: ModbusLink[];
  close(): Promise<void>;
}

export function linkSpec(name: string, link: LinkConfig): LinkSpec {
  const timing = { name, timeout: link.timeout, connectDelay: link.connectDelay, interRequestDelay: link.interRequestDelay };
  switch (link.type) {
    case 'tcp': return { ...timing, type: 'tcp', host: link.host, port: link.port };
    case 'rtu-over-tcp': return { ...timing, type: 'rtu-over-tcp', host: link.host, port: link.port };
    case 'rtu': return {
      ...timing, type: 'rtu', path: link.path, baudRate: link.baudRate, parity: link.parity,
      dataBits: link.dataBits as 7 | 8, stopBits: link.stopBits as 1 | 2,
    };
  }
}

/** One unit on a link, as the register reader (and writer) devices use. */
export function unitReader(link: ModbusLink, unit: number): RegisterReader & RegisterWriter {
  return {
    read: (fc, address, count) => link.read(unit, fc, address, count),
    write: (address, values) => link.write(unit, address, values),
  };
}

async function buildDevice(name: string, device: DeviceConfig, link: ModbusLink, linkConfig: LinkConfig, log: Logger): Promise<PollableDevice> {
  const io = unitReader(link, device.unit);
  const common = { name, roles: device.provides, reader: io, writer: io, writable: device.writable, invertGrid: device.invertGrid, maxGap: linkConfig.maxGap, log };
  if (device.type === 'sunspec') {
    return new SunSpecDevice({ ...common, baseAddress: device.baseAddress, subdevice: device.subdevice });
  }
  let profile;
  try {
    profile = await resolveProfile(device.profile);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new DeviceSetupError(name, `profile: ${(err as Error).message}`);
  }
  try {
    return new ProfileDevice({ ...common, profile });
  } catch (err) {
    throw new DeviceSetupError(name, (err as Error).message);
  }
}

/**
 * Opens one link per physical connection and builds the configured devices on
 * them. Nothing connects yet: links connect on their first request.
 */
export async function buildDevices(config: Config, deps: { clock: Clock; log: Logger }): Promise<DeviceSetup> {
  const pool = new LinkPool({ clock: deps.clock, logger: deps.log });
  const devices: PollableDevice[] = [];
  for (const [name, device] of Object.entries(config.devices)) {
    const linkConfig = config.links[device.link];
    if (!linkConfig) throw new Error(`device ${name}: no link named ${device.link}`);
    const link = pool.get(linkSpec(device.link, linkConfig));
    devices.push(await buildDevice(name, device, link, linkConfig, deps.log));
  }
  return {
    devices,
    links: pool.all(),
    close: async () => { await Promise.all(pool.all().map((l) => l.close())); },
  };
}
