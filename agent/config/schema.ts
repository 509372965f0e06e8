/**
 * The one definition of tonari.yaml. Everything else is derived from it: the `Config` type
 * (the parsed output), the defaults, validation, and the JSON Schema for editors
 * (docs/tonari.schema.json, see json-schema.ts).
 *
 * Validation messages are written as "expected …" phrases; errors.ts adds the key path, the
 * position in the file and the value that was found.
 */
import { isIP } from 'node:net';
import * as z from 'zod';
import { normalizeFingerprint } from '../identity/trusted-peers-file.js';
import { DURATION_PATTERN, formatDuration, parseDuration } from './duration.js';

const expected = (text: string) => ({ error: text });

function orList(values: readonly (string | number)[]): string {
  return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

function integer(min: number, max: number) {
  const e = expected(`expected an integer from ${min} to ${max}`);
  return z.int(e).min(min, e).max(max, e);
}

function decimal(min: number, max: number) {
  const e = expected(`expected a number from ${min} to ${max}`);
  return z.number(e).min(min, e).max(max, e);
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, expected(`expected ${orList(values)}`));
}

function oneOfNumbers<const T extends readonly [number, ...number[]]>(values: T) {
  return z.literal(values, expected(`expected ${orList(values)}`));
}

/** A duration string in the file, integer milliseconds in the parsed config. */
function duration(min: number, max: number) {
  const syntax = expected('expected a duration with a unit, such as 500ms or 2s');
  const range = expected(`expected a duration from ${formatDuration(min)} to ${formatDuration(max)}`);
  return z.codec(z.string(syntax).regex(DURATION_PATTERN, syntax), z.int(range).min(min, range).max(max, range), {
    decode: (text) => parseDuration(text) ?? Number.NaN,
    encode: formatDuration,
  });
}

/** Unknown keys are errors (a misspelt key must never be silently ignored). */
function mapping<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'invalid_type' ? 'expected a mapping (key: value lines)' : undefined),
  });
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

function namedMap<T extends z.ZodType>(what: string, value: T) {
  const key = z.string().regex(NAME_PATTERN, expected(`expected a ${what} name of up to 32 letters, digits, "-" or "_"`));
  return z.record(key, value, expected(`expected a mapping of ${what} names to ${what} settings`));
}

function nonEmptyText(what: string) {
  const e = expected(`expected ${what}`);
  return z.string(e).min(1, e);
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const isHost = (host: string): boolean => isIP(host) !== 0 || HOSTNAME.test(host);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const ROLES = ['pv', 'battery', 'grid'] as const;
export const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;

const ZONE = /^[a-z0-9-]{1,32}$/;

const householdSchema = mapping({
  name: z.string(expected('expected a name of 1 to 64 characters')).min(1, expected('expected a name of 1 to 64 characters'))
    .max(64, expected('expected a name of 1 to 64 characters')).default('household')
    .describe('Name of the household, shown to neighbours and on the dashboard.'),
  latitude: decimal(-90, 90).default(35.68).describe('Latitude in degrees (north positive), used for the solar forecast.'),
  longitude: decimal(-180, 180).default(139.69).describe('Longitude in degrees (east positive), used for the solar forecast.'),
  timezone: z.string(expected('expected an IANA time zone such as Asia/Tokyo'))
    .refine(isTimeZone, expected('expected an IANA time zone such as Asia/Tokyo')).default('Asia/Tokyo')
    .describe('IANA time zone of the household, such as Asia/Tokyo.'),
  zone: z.string(expected('expected a zone of 1 to 32 lowercase letters, digits or "-"'))
    .regex(ZONE, expected('expected a zone of 1 to 32 lowercase letters, digits or "-"')).default('default')
    .describe('Trading zone: the agent meshes and trades only with neighbours in the same zone (announced over mDNS).'),
});

const logSchema = mapping({
  level: oneOf(LOG_LEVELS).default('info').describe('Least severe log level written to the journal.'),
});

const pollSchema = mapping({
  interval: duration(100, 3_600_000).prefault('1s').describe('How often devices are read.'),
  staleAfter: duration(100, 3_600_000).prefault('5s')
    .describe('A reading older than this is stale and never traded on. At least poll.interval.'),
}).check((ctx) => {
  const { interval, staleAfter } = ctx.value;
  if (staleAfter < interval) {
    ctx.issues.push({
      code: 'custom', input: staleAfter, path: ['staleAfter'],
      message: `expected a duration of at least poll.interval (${formatDuration(interval)})`,
    });
  }
});

function linkTiming(defaults: { interRequestDelay: string; maxGap: number }) {
  return {
    timeout: duration(50, 60_000).prefault('1s').describe('How long to wait for a reply to one request.'),
    connectDelay: duration(0, 60_000).prefault('0s')
      .describe('Pause after connecting before the first request (some gateways need one).'),
    interRequestDelay: duration(0, 10_000).prefault(defaults.interRequestDelay)
      .describe('Pause between two requests on this link.'),
    maxGap: integer(0, 124).default(defaults.maxGap)
      .describe('Unwanted registers that may be read in between wanted ones to merge two reads into one.'),
  };
}

const host = z.string(expected('expected a hostname or IP address'))
  .refine(isHost, expected('expected a hostname or IP address')).describe('Hostname or IP address of the Modbus TCP server.');
const port = integer(1, 65535).default(502).describe('TCP port.');

const tcpLinkSchema = mapping({
  type: z.literal('tcp').describe('Modbus TCP.'),
  host,
  port,
  ...linkTiming({ interRequestDelay: '0ms', maxGap: 31 }),
});

const rtuLinkSchema = mapping({
  type: z.literal('rtu').describe('Modbus RTU on a local serial port (RS-485 adapter).'),
  path: nonEmptyText('a serial device path such as /dev/ttyUSB0').describe('Serial device, such as /dev/ttyUSB0.'),
  baudRate: oneOfNumbers(BAUD_RATES).default(9600).describe('Serial speed in baud.'),
  parity: oneOf(['none', 'even', 'odd']).default('none').describe('Serial parity.'),
  dataBits: oneOfNumbers([7, 8]).default(8).describe('Data bits per character.'),
  stopBits: oneOfNumbers([1, 2]).default(1).describe('Stop bits per character.'),
  ...linkTiming({ interRequestDelay: '20ms', maxGap: 7 }),
});

const rtuOverTcpLinkSchema = mapping({
  type: z.literal('rtu-over-tcp').describe('Modbus RTU frames through a TCP serial gateway.'),
  host,
  port,
  ...linkTiming({ interRequestDelay: '20ms', maxGap: 7 }),
});

const linkSchema = z.discriminatedUnion('type', [tcpLinkSchema, rtuLinkSchema, rtuOverTcpLinkSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'expected tcp, rtu or rtu-over-tcp'
    : issue.code === 'invalid_type' ? 'expected a mapping (key: value lines)' : undefined),
});

function writableSchema(point: z.ZodString) {
  return z.array(
    mapping({
      point,
      min: z.number(expected('expected a number')).describe('Lowest value that may be written.'),
      max: z.number(expected('expected a number')).describe('Highest value that may be written. At least min.'),
    }).check((ctx) => {
      if (ctx.value.max < ctx.value.min) {
        ctx.issues.push({ code: 'custom', input: ctx.value.max, path: ['max'], message: `expected a number of at least min (${ctx.value.min})` });
      }
    }),
    expected('expected a list of writable points'),
  ).default([]).describe('Points that may be written, each with the allowed range. Empty means read-only.');
}

const deviceCommon = {
  link: z.string(expected('expected the name of a link')).describe('Name of the link (under links) this device is on.'),
  unit: integer(0, 247).describe('Modbus unit id (slave address).'),
  provides: z.array(oneOf(ROLES), expected('expected a list such as [pv, battery]'))
    .min(1, expected('expected a non-empty list of pv, battery or grid'))
    .refine((roles) => new Set(roles).size === roles.length, expected('expected each of pv, battery and grid at most once'))
    .default(['pv', 'battery', 'grid'])
    .describe('What this device measures. At most one device may provide grid.'),
  invertGrid: z.boolean(expected('expected true or false')).default(false)
    .describe('Flip the sign of grid power (for meters that count export as positive).'),
};

const sunspecPoint = z.string(expected('expected MODEL:POINT, such as 124:OutWRte'))
  .regex(/^\d{1,5}:[A-Za-z_][A-Za-z0-9_]*$/, expected('expected MODEL:POINT, such as 124:OutWRte'))
  .describe('SunSpec model id and point name, such as 124:OutWRte.');
const profilePoint = z.string(expected('expected a point name of the profile'))
  .regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, expected('expected a point name of the profile'))
  .describe('Point name defined by the profile.');

const sunspecDeviceSchema = mapping({
  type: z.literal('sunspec').describe('A SunSpec device: models are discovered from the register map.'),
  ...deviceCommon,
  baseAddress: oneOfNumbers([0, 40000, 50000]).optional()
    .describe('Register address of the "SunS" marker. Leave out to discover it.'),
  subdevice: integer(0, 31).default(0).describe('Which device in the SunSpec chain (0 = the first common model).'),
  writable: writableSchema(sunspecPoint),
});

const profileDeviceSchema = mapping({
  type: z.literal('profile').describe('A device described by a register profile.'),
  ...deviceCommon,
  profile: nonEmptyText('a profile name or a path to a profile file')
    .describe('A built-in profile name or a path to a YAML profile file.'),
  writable: writableSchema(profilePoint),
});

const deviceSchema = z.discriminatedUnion('type', [sunspecDeviceSchema, profileDeviceSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'expected sunspec or profile'
    : issue.code === 'invalid_type' ? 'expected a mapping (key: value lines)' : undefined),
});

const simulatorSchema = mapping({
  speed: decimal(1, 10_000).default(1).describe('Clock speed factor of the simulation.'),
  seed: z.int(expected('expected an integer')).default(1).describe('Random seed; the same seed gives the same weather and load.'),
  batteryWh: integer(0, 1_000_000).default(10_000).describe('Battery capacity in Wh; 0 means no battery.'),
  pvWp: integer(0, 1_000_000).default(5000).describe('Peak power of the solar panels in W.'),
});

/** A key fingerprint: 64 hex digits, also accepted as AB:CD:… pairs. Normalized where it is used. */
const fingerprint = z.string(expected('expected a key fingerprint of 64 hex digits'))
  .refine((text) => normalizeFingerprint(text) !== undefined, expected('expected a key fingerprint of 64 hex digits'))
  .describe('SHA-256 key fingerprint of the neighbour, as its `tonari identity` prints it (64 hex digits, or AB:CD:… pairs).');

/** Flags the second and later entries of a list that repeat a fingerprint. */
function uniqueFingerprints<T extends { fingerprint: string }>(what: string) {
  return (ctx: z.core.ParsePayload<T[]>) => {
    const seen = new Map<string, number>();
    ctx.value.forEach((entry, i) => {
      const key = normalizeFingerprint(entry.fingerprint);
      if (key === undefined) return;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else ctx.issues.push({ code: 'custom', input: entry.fingerprint, path: [i, 'fingerprint'], message: `this fingerprint is already listed as ${what}[${first}]` });
    });
  };
}

const staticPeerSchema = mapping({
  host: z.string(expected('expected a hostname or IP address')).refine(isHost, expected('expected a hostname or IP address'))
    .describe('Hostname or IP address of the neighbour.'),
  port: integer(1, 65535).default(8883).describe('TLS port of the neighbour\'s broker.'),
  fingerprint,
});

/** The plaintext local listener: a port, or `none` to disable it. */
const localPort = z.codec(
  z.union([z.int(), z.literal('none')], expected('expected a port from 1 to 65535, or none'))
    .refine((v) => v === 'none' || (v >= 1 && v <= 65535), expected('expected a port from 1 to 65535, or none')),
  z.int().min(1).max(65535).nullable(),
  { decode: (v) => (v === 'none' ? null : v), encode: (v) => (v === null ? 'none' as const : v) },
);

const MQTTS_URL = /^mqtts:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\/?$/;
const TOPIC_PREFIX = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

const externalBrokerSchema = mapping({
  url: z.string(expected('expected an mqtts:// URL such as mqtts://mqtt.example.net:8883'))
    .regex(MQTTS_URL, expected('expected an mqtts:// URL such as mqtts://mqtt.example.net:8883 (TLS only, no user, path or query)'))
    .describe('The shared MQTT broker or cluster, mqtts://host[:port] (port 8883 when omitted).'),
  fingerprint: z.string(expected('expected a key fingerprint of 64 hex digits'))
    .refine((text) => normalizeFingerprint(text) !== undefined, expected('expected a key fingerprint of 64 hex digits'))
    .optional()
    .describe('SHA-256 of the broker certificate\'s public key (SPKI), to pin a self-signed broker: openssl x509 -in cert.pem -pubkey -noout | openssl pkey -pubin -outform der | sha256sum.'),
  caFile: nonEmptyText('a path to a PEM file').optional()
    .describe('CA certificate(s) that signed the broker\'s certificate (PEM); the host name is verified against it.'),
  servername: z.string(expected('expected a host name')).refine(isHost, expected('expected a host name')).optional()
    .describe('Name to verify the broker\'s certificate against, when it differs from the URL\'s host.'),
  topicPrefix: z.string(expected('expected topic levels of letters, digits, ".", "_" or "-" separated by "/"'))
    .regex(TOPIC_PREFIX, expected('expected topic levels of letters, digits, ".", "_" or "-" separated by "/" (no wildcards, no $)'))
    .optional()
    .describe('Prepended to every tonari topic on the shared broker (e.g. community-a), so one cluster can carry several communities.'),
}).refine((b) => b.fingerprint !== undefined || b.caFile !== undefined, {
  message: 'pin the broker (fingerprint) or name its CA (caFile): an unauthenticated broker is refused',
});

const meshSchema = mapping({
  enabled: z.boolean(expected('expected true or false')).default(true)
    .describe('Meet the neighbours: run the embedded broker, discovery and the mesh.'),
  listen: mapping({
    host: z.string(expected('expected a hostname or IP address')).refine(isHost, expected('expected a hostname or IP address'))
      .default('0.0.0.0').describe('Address the embedded broker\'s TLS listener binds.'),
    port: integer(0, 65535).default(8883).describe('TLS port of the embedded broker; 0 picks a free one.'),
  }).prefault({}).describe('The embedded broker\'s mutual-TLS listener for neighbours.'),
  localPort: localPort.default(1883)
    .describe('Port of the read-only plaintext listener on 127.0.0.1 for local tools, or none.'),
  discovery: z.boolean(expected('expected true or false')).default(true)
    .describe('Advertise this agent and browse for neighbours over mDNS.'),
  peers: z.array(staticPeerSchema, expected('expected a list of neighbours ({ host, port, fingerprint })')).default([])
    .check(uniqueFingerprints('mesh.peers'))
    .describe('Static neighbours beyond the multicast domain. They must also be trusted (trust.peers or paired).'),
  broker: externalBrokerSchema.optional()
    .describe('External-broker mode: talk to every neighbour through this one shared MQTT broker or cluster instead of running an embedded broker (listen, localPort, discovery and peers are then unused).'),
});

const trustSchema = mapping({
  peers: z.array(mapping({
    fingerprint,
    name: z.string(expected('expected a name of 1 to 64 printable characters'))
      .refine((n) => n.length >= 1 && n.length <= 64 && !/[\p{Cc}\p{Cf}]/u.test(n), expected('expected a name of 1 to 64 printable characters'))
      .optional().describe('A name to show for this neighbour.'),
  }), expected('expected a list of neighbours ({ fingerprint, name })')).default([])
    .check(uniqueFingerprints('trust.peers'))
    .describe('The installer\'s allow-list: neighbours trusted without pairing.'),
});

/** Defaults of the market section that a cross-check needs when a key is left out. */
export const MARKET_DEFAULTS = { sellFloorSenPerKWh: 1000, buyCapSenPerKWh: 2500 } as const;
/** Largest price or fee in sen/kWh (as in an order). */
const MAX_SEN_PER_KWH = 100_000;

const price = (byDefault: number, what: string) => integer(0, MAX_SEN_PER_KWH).default(byDefault).describe(what);

const marketBatterySchema = mapping({
  reserveSocPct: decimal(0, 100).default(20)
    .describe('State of charge (%) the battery keeps for the household: never discharged below it, never offered.'),
  maySell: z.boolean(expected('expected true or false')).default(false)
    .describe('Offer battery energy to the neighbours (only what the forecast PV refills without the household buying more; needs maxPowerW). false: only PV surplus the battery does not take is offered.'),
  capacityWh: integer(0, 1_000_000).optional()
    .describe('Usable battery capacity in Wh. Leave out to use what the devices report; 0 means no battery.'),
  maxPowerW: integer(1, 1_000_000).optional()
    .describe('Largest charge and discharge power of the battery in W. Leave out to use what the devices report.'),
});

const marketSchema = mapping({
  enabled: z.boolean(expected('expected true or false')).default(true)
    .describe('Trade with the neighbours: post orders from the forecast, clear, settle.'),
  slotMinutes: oneOfNumbers([15, 30, 60]).default(30)
    .describe('Length of a trading slot in minutes (30: the Japanese settlement interval and JEPX product). The same on every peer.'),
  openSlots: integer(1, 192).default(48).describe('How many slots ahead are open for orders.'),
  gateClosure: duration(0, 6 * 3_600_000).prefault('5m')
    .describe('How long before a slot starts its order book closes and it is cleared.'),
  reconcile: duration(1000, 30 * 60_000).prefault('20s')
    .describe('After gate closure, how long peers exchange order digests and fetch missing orders before every peer clears. Must be shorter than gateClosure. The same on every peer.'),
  timeZone: z.string(expected('expected an IANA time zone such as Asia/Tokyo'))
    .refine(isTimeZone, expected('expected an IANA time zone such as Asia/Tokyo')).default('Asia/Tokyo')
    .describe('IANA time zone of the community\'s slot calendar (slots start at :00/:30 of its clock). The same on every peer.'),
  sellFloorSenPerKWh: price(MARKET_DEFAULTS.sellFloorSenPerKWh,
    'Lowest price this agent sells at, sen/kWh (100 sen = 1 yen), after its wheeling fee. At most buyCapSenPerKWh.'),
  buyCapSenPerKWh: price(MARKET_DEFAULTS.buyCapSenPerKWh, 'Highest price this agent buys at, sen/kWh, including its wheeling fee.'),
  wheelingFeeSenPerKWh: price(0,
    'Network (wheeling) fee this agent bears on each of its orders, sen/kWh; 0 behind one meter or on a private line.'),
  safetyMarginPct: decimal(0, 90).default(10)
    .describe('Share of the forecast surplus (%) held back from offers, so the agent does not promise what it cannot deliver.'),
  battery: marketBatterySchema.prefault({}).describe('How the home battery takes part in trading.'),
  utility: mapping({
    retailSenPerKWh: price(3000, 'What buying from the utility costs, sen/kWh: the buyer\'s fallback and the savings baseline.'),
    buybackSenPerKWh: price(850, 'What the utility pays for exported surplus, sen/kWh: the seller\'s fallback and the savings baseline.'),
  }).prefault({}).describe('The utility tariff, for fallbacks and savings baselines.'),
  settlement: mapping({
    toleranceWh: integer(0, 1_000_000).default(50)
      .describe('How far the seller\'s and the buyer\'s metered share of one contract may differ, Wh, before it is flagged disputed (the larger of this and tolerancePct applies).'),
    tolerancePct: decimal(0, 100).default(5)
      .describe('The same as a share of the contracted energy, % (the larger of this and toleranceWh applies).'),
    readingTimeout: duration(60_000, 48 * 3_600_000).prefault('2h')
      .describe('How long after a slot ends missing meter readings are awaited (the contract is provisional meanwhile); then it settles by timeout and a party that did not report bears it.'),
  }).prefault({}).describe('Settling contracts against metered energy.'),
});

/** Default port of the local HTTP API and dashboard. */
export const API_DEFAULT_PORT = 7464;
/** Whether an address only this machine can reach (the API then needs no token). */
export const isLoopbackHost = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);

const apiSchema = mapping({
  enabled: z.boolean(expected('expected true or false')).default(true)
    .describe('Serve the local HTTP API, the dashboard and Prometheus /metrics.'),
  listen: mapping({
    host: z.string(expected('expected a hostname or IP address')).refine(isHost, expected('expected a hostname or IP address'))
      .default('127.0.0.1').describe('Address the HTTP API binds. Anything but loopback needs api.token.'),
    port: integer(0, 65535).default(API_DEFAULT_PORT).describe('TCP port of the HTTP API; 0 picks a free one.'),
  }).prefault({}).describe('Where the HTTP API listens.'),
  token: z.string(expected('expected a token of 32 to 256 printable characters without spaces'))
    .regex(/^[\x21-\x7e]{32,256}$/, expected('expected a token of 32 to 256 printable characters without spaces')).optional()
    .describe('Bearer token every request must carry when the API listens beyond loopback (Authorization: Bearer TOKEN, or ?token= once in a browser). A secret: the configuration file must then not be readable by others.'),
});

const homeAssistantSchema = mapping({
  enabled: z.boolean(expected('expected true or false')).default(true)
    .describe('Publish Home Assistant MQTT discovery and state topics on the embedded broker (read them on mesh.localPort).'),
  discoveryPrefix: z.string(expected('expected topic levels of letters, digits, ".", "_" or "-" separated by "/"'))
    .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, expected('expected topic levels of letters, digits, ".", "_" or "-" separated by "/"'))
    .default('homeassistant').describe('Home Assistant\'s discovery prefix.'),
});

export const configSchema = mapping({
  household: householdSchema.prefault({}).describe('Who and where this household is.'),
  stateDir: nonEmptyText('a directory path').default('/var/lib/tonari')
    .describe('Directory for keys, the ledger and other state.'),
  log: logSchema.prefault({}).describe('Logging.'),
  poll: pollSchema.prefault({}).describe('How devices are read.'),
  links: namedMap('link', linkSchema).default({}).describe('Physical Modbus connections, by name.'),
  devices: namedMap('device', deviceSchema).default({})
    .describe('Modbus devices, by name. With none, tonari runs a simulated household.'),
  simulator: simulatorSchema.prefault({}).describe('The simulated household used when no devices are configured.'),
  mesh: meshSchema.prefault({}).describe('The neighbour mesh: embedded broker, mDNS discovery, static neighbours.'),
  trust: trustSchema.prefault({}).describe('Whom this agent trusts besides the neighbours paired with `tonari pair`.'),
  market: marketSchema.prefault({}).describe('Trading with the neighbours: slots, prices, battery, utility tariff, settlement.'),
  api: apiSchema.prefault({}).describe('The local HTTP API, dashboard and Prometheus metrics.'),
  homeAssistant: homeAssistantSchema.prefault({}).describe('Home Assistant MQTT discovery.'),
}).describe('tonari configuration (tonari.yaml)');

/** The parsed configuration: defaults filled in, durations in milliseconds. */
export type Config = z.output<typeof configSchema>;
/** What may be written in tonari.yaml. */
export type ConfigInput = z.input<typeof configSchema>;
export type HouseholdConfig = Config['household'];
export type LogConfig = Config['log'];
export type LogLevel = LogConfig['level'];
export type PollConfig = Config['poll'];
export type LinkConfig = z.output<typeof linkSchema>;
export type TcpLinkConfig = z.output<typeof tcpLinkSchema>;
export type RtuLinkConfig = z.output<typeof rtuLinkSchema>;
export type RtuOverTcpLinkConfig = z.output<typeof rtuOverTcpLinkSchema>;
export type DeviceConfig = z.output<typeof deviceSchema>;
export type SunSpecDeviceConfig = z.output<typeof sunspecDeviceSchema>;
export type ProfileDeviceConfig = z.output<typeof profileDeviceSchema>;
export type WritablePointConfig = DeviceConfig['writable'][number];
export type Role = (typeof ROLES)[number];
export type SimulatorConfig = Config['simulator'];
export type MeshConfig = Config['mesh'];
export type StaticPeerConfig = MeshConfig['peers'][number];
export type TrustConfig = Config['trust'];
export type MarketConfig = Config['market'];
export type MarketBatteryConfig = MarketConfig['battery'];
export type ApiConfig = Config['api'];
export type HomeAssistantConfig = Config['homeAssistant'];
