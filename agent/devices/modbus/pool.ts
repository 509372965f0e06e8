/**
 * Hands out one ModbusLink per physical endpoint, so two configured devices
 * behind the same host:port or serial port never open a second connection
 * (many inverters accept only one Modbus-TCP client; MB-5).
 */
import { ModbusLink, type LinkDeps } from './link.js';
import { endpointKey, type LinkSpec } from './types.js';

function sameWire(a: LinkSpec, b: LinkSpec): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'rtu' && b.type === 'rtu') {
    return a.baudRate === b.baudRate && a.parity === b.parity && a.dataBits === b.dataBits && a.stopBits === b.stopBits;
  }
  return true;
}

export class LinkPool {
  private readonly links = new Map<string, { spec: LinkSpec; link: ModbusLink }>();

  constructor(private readonly deps: LinkDeps = {}) {}

  /** The link for this endpoint, created on first use. Throws if the endpoint is already open with a different framing. */
  get(spec: LinkSpec): ModbusLink {
    const key = endpointKey(spec);
    const existing = this.links.get(key);
    if (existing) {
      if (!sameWire(existing.spec, spec)) {
        throw new Error(`link ${spec.name}: ${key} is already used by link ${existing.spec.name} with different settings (${existing.spec.type})`);
      }
      return existing.link;
    }
    const link = new ModbusLink(spec, this.deps);
    this.links.set(key, { spec, link });
    return link;
  }

  all(): ModbusLink[] {
    return [...this.links.values()].map((entry) => entry.link);
  }

  async closeAll(): Promise<void> {
    const links = this.all();
    this.links.clear();
    await Promise.all(links.map((link) => link.close()));
  }
}
