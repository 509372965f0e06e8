import t from 'tap';
import { formatDuration, parseDuration } from '../../agent/config/duration.js';
import { ConfigError } from '../../agent/config/errors.js';
import { configToYaml, defaultConfig, parseConfigText } from '../../agent/config/parse.js';
import type { Config } from '../../agent/config/schema.js';
import { starterConfigText } from '../../agent/config/starter.js';

const DEFAULTS: Config = {
  household: { name: 'household', latitude: 35.68, longitude: 139.69, timezone: 'Asia/Tokyo', zone: 'default' },
  stateDir: '/var/lib/tonari',
  log: { level: 'info' },
  poll: { interval: 1000, staleAfter: 5000 },
  links: {},
  devices: {},
  simulator: { speed: 1, seed: 1, batteryWh: 10000, pvWp: 5000 },
  mesh: { enabled: true, listen: { host: '0.0.0.0', port: 8883 }, localPort: 1883, discovery: true, peers: [] },
  trust: { peers: [] },
  market: {
    enabled: true, slotMinutes: 30, openSlots: 48, gateClosure: 300_000, reconcile: 20_000, timeZone: 'Asia/Tokyo',
    sellFloorSenPerKWh: 1000, buyCapSenPerKWh: 2500, wheelingFeeSenPerKWh: 0, safetyMarginPct: 10,
    battery: { reserveSocPct: 20, maySell: false },
    utility: { retailSenPerKWh: 3000, buybackSenPerKWh: 850 },
    settlement: { toleranceWh: 50, tolerancePct: 5, readingTimeout: 7_200_000 },
  },
  api: { enabled: true, listen: { host: '127.0.0.1', port: 7464 } },
  homeAssistant: { enabled: true, discoveryPrefix: 'homeassistant' },
};

t.test('durations', async (t) => {
  const table: [string, number | undefined][] = [
    ['0ms', 0], ['500ms', 500], ['2s', 2000], ['1.5s', 1500], ['5m', 300_000], ['1h', 3_600_000],
    ['5', undefined], ['5 s', undefined], ['5sec', undefined], ['-1s', undefined], ['s', undefined], ['1S', undefined],
  ];
  for (const [text, ms] of table) t.equal(parseDuration(text), ms, text);
  const back: [number, string][] = [[0, '0s'], [20, '20ms'], [1000, '1s'], [1500, '1500ms'], [90_000, '90s'], [300_000, '5m'], [7_200_000, '2h']];
  for (const [ms, text] of back) t.equal(formatDuration(ms), text, String(ms));
});

t.test('an empty file, a comment-only file and an empty mapping mean all defaults', async (t) => {
  t.same(defaultConfig(), DEFAULTS);
  for (const text of ['', '\n', '# nothing here\n', '{}\n', '~\n']) t.same(parseConfigText(text, 'x.yaml'), DEFAULTS, JSON.stringify(text));
});

t.test('a key with an empty value gets its default', async (t) => {
  t.same(parseConfigText('household:\nlinks:\ndevices:\npoll:\n  interval:\n', 'x.yaml'), DEFAULTS);
});

t.test('values given replace defaults; durations become milliseconds', async (t) => {
  const config = parseConfigText(`
household: { name: Tanaka, latitude: 43.06, longitude: 141.35, timezone: Asia/Tokyo }
stateDir: /srv/tonari
log: { level: debug }
poll: { interval: 500ms, staleAfter: 2s }
simulator: { speed: 60, seed: -7, batteryWh: 0, pvWp: 3200 }
`, 'x.yaml');
  t.same(config, {
    ...DEFAULTS,
    household: { name: 'Tanaka', latitude: 43.06, longitude: 141.35, timezone: 'Asia/Tokyo', zone: 'default' },
    stateDir: '/srv/tonari',
    log: { level: 'debug' },
    poll: { interval: 500, staleAfter: 2000 },
    simulator: { speed: 60, seed: -7, batteryWh: 0, pvWp: 3200 },
  });
});

t.test('link defaults depend on the link type', async (t) => {
  const config = parseConfigText(`
links:
  lan: { type: tcp, host: 192.168.1.50 }
  bus: { type: rtu, path: /dev/ttyUSB0 }
  gateway: { type: rtu-over-tcp, host: "fe80::1", port: 8899, maxGap: 0, connectDelay: 2s }
`, 'x.yaml');
  t.same(config.links, {
    lan: { type: 'tcp', host: '192.168.1.50', port: 502, timeout: 1000, connectDelay: 0, interRequestDelay: 0, maxGap: 31 },
    bus: {
      type: 'rtu', path: '/dev/ttyUSB0', baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1,
      timeout: 1000, connectDelay: 0, interRequestDelay: 20, maxGap: 7,
    },
    gateway: { type: 'rtu-over-tcp', host: 'fe80::1', port: 8899, timeout: 1000, connectDelay: 2000, interRequestDelay: 20, maxGap: 0 },
  });
});

t.test('device defaults; baseAddress absent means discover', async (t) => {
  const config = parseConfigText(`
links: { lan: { type: tcp, host: inverter.local } }
devices:
  inverter: { type: sunspec, link: lan, unit: 1, provides: [pv, battery] }
  meter: { type: profile, profile: ./meter.yaml, link: lan, unit: 2, provides: [grid], invertGrid: true, writable: [{ point: limit.w, min: 0, max: 5000 }] }
  second: { type: sunspec, link: lan, unit: 3, baseAddress: 0, subdevice: 1, provides: [pv] }
`, 'x.yaml');
  t.same(config.devices, {
    inverter: { type: 'sunspec', link: 'lan', unit: 1, provides: ['pv', 'battery'], invertGrid: false, subdevice: 0, writable: [] },
    meter: {
      type: 'profile', profile: './meter.yaml', link: 'lan', unit: 2, provides: ['grid'], invertGrid: true,
      writable: [{ point: 'limit.w', min: 0, max: 5000 }],
    },
    second: { type: 'sunspec', link: 'lan', unit: 3, baseAddress: 0, subdevice: 1, provides: ['pv'], invertGrid: false, writable: [] },
  });
  t.notOk('baseAddress' in config.devices.inverter!);
});

t.test('mesh and trust: static neighbours, allow-list, fingerprints in both forms, localPort none', async (t) => {
  const hex = 'ab'.repeat(32);
  const colons = Array(32).fill('CD').join(':');
  const config = parseConfigText(`
household: { zone: kita-2 }
mesh:
  listen: { host: 192.168.1.10, port: 18883 }
  localPort: none
  discovery: false
  peers:
    - { host: 192.168.1.60, fingerprint: ${hex} }
    - { host: suzuki.example, port: 9883, fingerprint: "${colons}" }
trust:
  peers:
    - { fingerprint: "${colons}", name: Suzuki }
`, 'x.yaml');
  t.equal(config.household.zone, 'kita-2');
  t.same(config.mesh, {
    enabled: true, listen: { host: '192.168.1.10', port: 18883 }, localPort: null, discovery: false,
    peers: [{ host: '192.168.1.60', port: 8883, fingerprint: hex }, { host: 'suzuki.example', port: 9883, fingerprint: colons }],
  });
  t.same(config.trust, { peers: [{ fingerprint: colons, name: 'Suzuki' }] });
  t.match(configToYaml(config), /localPort: none\n/);
  t.same(parseConfigText(configToYaml(config), 'printed.yaml'), config, '--print round-trips localPort: none');
  t.equal(parseConfigText('mesh: { enabled: false, localPort: 11883 }\n', 'x.yaml').mesh.localPort, 11883);
});

t.test('the starter file is the defaults, and its examples are valid when uncommented', async (t) => {
  t.same(parseConfigText(starterConfigText(), 'starter.yaml'), DEFAULTS);
  const withExamples = parseConfigText(starterConfigText({ examples: 'active' }), 'starter.yaml');
  t.same(Object.keys(withExamples.links), ['lan', 'rs485']);
  t.equal(withExamples.links.rs485?.type, 'rtu');
  t.same(withExamples.devices.inverter?.writable, [{ point: '124:OutWRte', min: -100, max: 100 }]);
  t.same(withExamples.devices.meter?.provides, ['grid']);
  // The commented-out examples are exactly the active ones behind "# ".
  const commented = new Set(starterConfigText().split('\n'));
  const onlyWhenActive = starterConfigText({ examples: 'active' }).split('\n').filter((line) => !commented.has(line));
  t.ok(onlyWhenActive.length >= 25);
  t.same(onlyWhenActive.filter((line) => !commented.has(`# ${line}`)), []);
});

t.test('--print output parses back to the same config', async (t) => {
  const config = parseConfigText(starterConfigText({ examples: 'active' }), 'starter.yaml');
  const yaml = configToYaml(config);
  t.match(yaml, /interval: 1s\n/);
  t.match(yaml, /interRequestDelay: 20ms\n/);
  t.same(parseConfigText(yaml, 'printed.yaml'), config);
});

t.test('alias bombs are refused', async (t) => {
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 6; i++) levels.push(`${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10).fill(`*${i === 1 ? 'a' : 'b'.repeat(i - 1)}`).join(', ')}]`);
  const error = t.throws(() => parseConfigText(levels.join('\n'), 'bomb.yaml')) as ConfigError;
  t.match(error.format(), /^bomb\.yaml:1:1: YAML: .*alias/i);
});

t.test('keys are matched through YAML anchors for positions', async (t) => {
  const text = 'links:\n  lan: &tcp\n    type: tcp\n    host: h\n    port: 0\n  lan2: *tcp\n';
  const error = t.throws(() => parseConfigText(text, 'x.yaml')) as ConfigError;
  t.same(error.format().split('\n'), [
    'x.yaml:5:11: links.lan.port: expected an integer from 1 to 65535, got 0',
    'x.yaml:5:11: links.lan2.port: expected an integer from 1 to 65535, got 0',
  ]);
});
