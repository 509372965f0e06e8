/**
 * Rules that span sections of the file. They read the raw data (not the validated config) so
 * that they still run, and are reported with everything else, when other keys are invalid.
 */
import { formatKeyPath, type Problem } from './errors.js';
import { isRecord } from './problems.js';
import { writablePointProblem } from '../devices/sunspec/write.js';
import { isLoopbackHost, MARKET_DEFAULTS } from './schema.js';

const DEFAULT_PROVIDES_GRID = true;

export function crossCheck(data: unknown): Problem[] {
  if (!isRecord(data)) return [];
  const links = data.links === undefined ? {} : isRecord(data.links) ? data.links : undefined;
  const devices = isRecord(data.devices) ? data.devices : {};
  const problems: Problem[] = [...marketProblems(data.market), ...apiProblems(data.api), ...homeAssistantProblems(data.homeAssistant)];
  let gridDevice: string | undefined;

  for (const [name, device] of Object.entries(devices)) {
    if (!isRecord(device)) continue;

    if (links && typeof device.link === 'string' && !Object.hasOwn(links, device.link)) {
      const known = Object.keys(links);
      problems.push({
        path: ['devices', name, 'link'],
        anchor: 'value',
        message: `no link named ${JSON.stringify(device.link)} under links (${known.length ? `defined: ${known.join(', ')}` : 'no links are defined'})`,
      });
    }

    if (device.type === 'sunspec' && Array.isArray(device.writable)) {
      device.writable.forEach((entry, i) => {
        if (!isRecord(entry) || typeof entry.point !== 'string' || !/^\d{1,5}:[A-Za-z_][A-Za-z0-9_]*$/.test(entry.point)) return;
        const problem = writablePointProblem(entry.point);
        if (problem) problems.push({ path: ['devices', name, 'writable', i, 'point'], anchor: 'value', message: problem });
      });
    }

    const providesGrid = device.provides === undefined ? DEFAULT_PROVIDES_GRID
      : Array.isArray(device.provides) && device.provides.includes('grid');
    if (!providesGrid) continue;
    if (gridDevice === undefined) {
      gridDevice = name;
    } else if (device.provides === undefined) {
      problems.push({
        path: ['devices', name],
        anchor: 'value',
        message: `only one device may provide grid, and ${formatKeyPath(['devices', gridDevice])} already does (provides defaults to [pv, battery, grid]; set it to what this device measures)`,
      });
    } else {
      problems.push({
        path: ['devices', name, 'provides'],
        anchor: 'value',
        message: `only one device may provide grid, and ${formatKeyPath(['devices', gridDevice])} already does`,
      });
    }
  }
  return problems;
}

const isPrice = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 100_000;

/**
 * market.sellFloorSenPerKWh <= market.buyCapSenPerKWh. Reported at the floor when the file
 * sets it, else at the cap (one of them is in the file when they conflict); a value that
 * is itself invalid is left to the schema's message.
 */
function marketProblems(market: unknown): Problem[] {
  if (!isRecord(market)) return [];
  const floor = market.sellFloorSenPerKWh ?? MARKET_DEFAULTS.sellFloorSenPerKWh;
  const cap = market.buyCapSenPerKWh ?? MARKET_DEFAULTS.buyCapSenPerKWh;
  if (!isPrice(floor) || !isPrice(cap) || floor <= cap) return [];
  if (market.sellFloorSenPerKWh !== undefined) {
    return [{
      path: ['market', 'sellFloorSenPerKWh'],
      anchor: 'value',
      message: `expected at most market.buyCapSenPerKWh (${cap}), got ${floor}: the lowest selling price must not exceed the highest buying price`,
    }];
  }
  return [{
    path: ['market', 'buyCapSenPerKWh'],
    anchor: 'value',
    message: `expected at least market.sellFloorSenPerKWh (${floor}), got ${cap}: the highest buying price must not be below the lowest selling price`,
  }];
}

/**
 * The local API beyond loopback needs api.token (security: anyone on the LAN could read
 * the household otherwise). Reported at api.listen.host; an invalid host or token is
 * left to the schema's message.
 */
function apiProblems(api: unknown): Problem[] {
  if (!isRecord(api) || api.enabled === false || !isRecord(api.listen)) return [];
  const host = api.listen.host;
  if (typeof host !== 'string' || isLoopbackHost(host) || api.token !== undefined) return [];
  return [{
    path: ['api', 'listen', 'host'],
    anchor: 'value',
    message: `${JSON.stringify(host)} is reachable beyond this machine, so the API needs a token: set api.token (32 to 256 printable characters, e.g. from \`openssl rand -base64 32\`) or listen on 127.0.0.1`,
  }];
}

/** Home Assistant's topics must stay outside tonari's own namespace (the broker keeps them local). */
function homeAssistantProblems(homeAssistant: unknown): Problem[] {
  if (!isRecord(homeAssistant) || typeof homeAssistant.discoveryPrefix !== 'string') return [];
  const prefix = homeAssistant.discoveryPrefix;
  if (prefix !== 'tonari' && !prefix.startsWith('tonari/')) return [];
  return [{
    path: ['homeAssistant', 'discoveryPrefix'],
    anchor: 'value',
    message: `expected a prefix outside tonari's own topics (tonari/...), got ${JSON.stringify(prefix)}; Home Assistant's default is homeassistant`,
  }];
}
