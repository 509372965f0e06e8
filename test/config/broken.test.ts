import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { ConfigError } from '../../agent/config/errors.js';
import { parseConfigText } from '../../agent/config/parse.js';

const dir = new URL('../fixtures/config/broken/', import.meta.url);

/** Each broken file in test/fixtures/config/broken and exactly what `tonari check` says about it. */
const cases: Record<string, string[]> = {
  'syntax-unclosed-quote.yaml': ['syntax-unclosed-quote.yaml:4:1: YAML: Missing closing "quote'],
  'bad-indentation.yaml': ['bad-indentation.yaml:3:1: YAML: All mapping items must start at the same column'],
  'tab-indentation.yaml': ['tab-indentation.yaml:2:1: tabs are not allowed for indentation; use spaces'],
  'duplicate-key.yaml': ['duplicate-key.yaml:4:3: duplicate key "name"'],
  'two-documents.yaml': ['two-documents.yaml:3:1: the file holds more than one YAML document ("---"); tonari reads exactly one'],
  'list-document.yaml': ['list-document.yaml:2:1: expected a mapping of settings such as "household:" and "devices:", got a list'],
  'scalar-document.yaml': ['scalar-document.yaml:1:1: expected a mapping of settings such as "household:" and "devices:", got "hello"'],
  'section-not-a-mapping.yaml': [
    'section-not-a-mapping.yaml:1:12: household: expected a mapping (key: value lines), got "Tanaka"',
    'section-not-a-mapping.yaml:3:3: simulator: expected a mapping (key: value lines), got a list',
  ],
  'unknown-top-level-key.yaml': ['unknown-top-level-key.yaml:2:1: houshold: unknown key (did you mean "household"?)'],
  'unknown-nested-key.yaml': ['unknown-nested-key.yaml:3:3: household.latitde: unknown key (did you mean "latitude"?)'],
  'string-for-number.yaml': ['string-for-number.yaml:5:11: links.lan.port: expected an integer from 1 to 65535, got "five"'],
  'out-of-range.yaml': [
    'out-of-range.yaml:2:13: household.latitude: expected a number from -90 to 90, got 91',
    'out-of-range.yaml:3:14: household.longitude: expected a number from -180 to 180, got -180.5',
  ],
  'bad-enum.yaml': ['bad-enum.yaml:2:10: log.level: expected fatal, error, warn, info, debug, trace or silent, got "verbose"'],
  'bad-timezone.yaml': ['bad-timezone.yaml:2:13: household.timezone: expected an IANA time zone such as Asia/Tokyo, got "Tokyo"'],
  'bare-number-duration.yaml': ['bare-number-duration.yaml:2:13: poll.interval: expected a duration with a unit, such as 500ms or 2s, got 5'],
  'bad-duration-unit.yaml': ['bad-duration-unit.yaml:5:14: links.lan.timeout: expected a duration with a unit, such as 500ms or 2s, got "3sec"'],
  'duration-out-of-range.yaml': [
    'duration-out-of-range.yaml:2:13: poll.interval: expected a duration from 100ms to 1h, got "50ms"',
    'duration-out-of-range.yaml:7:14: links.lan.timeout: expected a duration from 50ms to 1m, got "2m"',
  ],
  'stale-before-interval.yaml': ['stale-before-interval.yaml:3:15: poll.staleAfter: expected a duration of at least poll.interval (10s), got "5s"'],
  'tcp-missing-host.yaml': ['tcp-missing-host.yaml:3:5: links.lan: missing required key "host"'],
  'rtu-missing-path.yaml': ['rtu-missing-path.yaml:3:5: links.bus: missing required key "path"'],
  'rtu-key-on-tcp.yaml': ['rtu-key-on-tcp.yaml:5:5: links.lan.baudRate: unknown key (baudRate is only for type: rtu)'],
  'bad-baud-rate.yaml': ['bad-baud-rate.yaml:5:15: links.bus.baudRate: expected 1200, 2400, 4800, 9600, 19200, 38400, 57600 or 115200, got 9601'],
  'bad-link-type.yaml': ['bad-link-type.yaml:3:11: links.lan.type: expected tcp, rtu or rtu-over-tcp, got "udp"'],
  'missing-link-type.yaml': ['missing-link-type.yaml:3:5: links.lan: missing required key "type"'],
  'bad-host.yaml': ['bad-host.yaml:4:11: links.lan.host: expected a hostname or IP address, got "inverter at home"'],
  'bad-link-name.yaml': ['bad-link-name.yaml:2:3: links["my link"]: expected a link name of up to 32 letters, digits, "-" or "_", got "my link"'],
  'unknown-link.yaml': ['unknown-link.yaml:8:11: devices.inverter.link: no link named "wan" under links (defined: lan)'],
  'two-grid-providers.yaml': ['two-grid-providers.yaml:15:15: devices.meter.provides: only one device may provide grid, and devices.inverter already does'],
  'grid-by-default-twice.yaml': [
    'grid-by-default-twice.yaml:11:5: devices.meter: only one device may provide grid, and devices.inverter already does'
    + ' (provides defaults to [pv, battery, grid]; set it to what this device measures)',
  ],
  'writable-min-above-max.yaml': ['writable-min-above-max.yaml:13:14: devices.inverter.writable[0].max: expected a number of at least min (100), got -100'],
  'bad-point-syntax.yaml': ['bad-point-syntax.yaml:11:16: devices.inverter.writable[0].point: expected MODEL:POINT, such as 124:OutWRte, got "OutWRte"'],
  'profile-without-profile.yaml': ['profile-without-profile.yaml:7:5: devices.meter: missing required key "profile"'],
  'base-address-on-profile.yaml': ['base-address-on-profile.yaml:11:5: devices.meter.baseAddress: unknown key (baseAddress is only for type: sunspec)'],
  'bad-base-address.yaml': ['bad-base-address.yaml:10:18: devices.inverter.baseAddress: expected 0, 40000 or 50000, got 40001'],
  'unit-300.yaml': ['unit-300.yaml:9:11: devices.inverter.unit: expected an integer from 0 to 247, got 300'],
  'empty-provides.yaml': ['empty-provides.yaml:10:15: devices.inverter.provides: expected a non-empty list of pv, battery or grid, got an empty list'],
  'duplicate-provides.yaml': ['duplicate-provides.yaml:10:15: devices.inverter.provides: expected each of pv, battery and grid at most once, got [pv, battery, pv]'],
  'multiple-errors.yaml': [
    'multiple-errors.yaml:3:13: household.latitude: expected a number from -90 to 90, got "north"',
    'multiple-errors.yaml:5:13: poll.interval: expected a duration with a unit, such as 500ms or 2s, got 2',
    'multiple-errors.yaml:10:11: links.lan.port: expected an integer from 1 to 65535, got 70000',
    'multiple-errors.yaml:11:5: links.lan.parity: unknown key (parity is only for type: rtu)',
    'multiple-errors.yaml:19:5: devices.meter: missing required key "unit"',
    'multiple-errors.yaml:20:11: devices.meter.link: no link named "wan" under links (defined: lan)',
    'multiple-errors.yaml:21:15: devices.meter.provides: only one device may provide grid, and devices.inverter already does',
    'multiple-errors.yaml:23:10: simulator.speed: expected a number from 1 to 10000, got 0',
    'multiple-errors.yaml:24:3: simulator.colour: unknown key (expected one of: speed, seed, batteryWh, pvWp)',
  ],
  'writable-read-only-point.yaml': [
    'writable-read-only-point.yaml:10:18: devices.inverter.writable[0].point: point 103:W is read-only in the SunSpec specification',
    'writable-read-only-point.yaml:11:18: devices.inverter.writable[1].point: point selector "124:OutWRt": model 124 has no point OutWRt',
    'writable-read-only-point.yaml:12:18: devices.inverter.writable[2].point: point selector "999:W": model 999 is not supported (supported: 1, 101, 102, 103, 111, 112, 113, 120, 124, 160, 201, 202, 203, 204, 211, 212, 213, 214, 802)',
  ],
  'mesh-bad-zone.yaml': ['mesh-bad-zone.yaml:3:9: household.zone: expected a zone of 1 to 32 lowercase letters, digits or "-", got "Kita Ward"'],
  'mesh-local-port.yaml': [
    'mesh-local-port.yaml:3:11: mesh.listen.port: expected an integer from 0 to 65535, got 70000',
    'mesh-local-port.yaml:4:14: mesh.localPort: expected a port from 1 to 65535, or none, got "off"',
  ],
  'mesh-peer-missing-fingerprint.yaml': ['mesh-peer-missing-fingerprint.yaml:3:7: mesh.peers[0]: missing required key "fingerprint"'],
  'mesh-duplicate-peer.yaml': ['mesh-duplicate-peer.yaml:5:20: mesh.peers[1].fingerprint: this fingerprint is already listed as mesh.peers[0]'],
  'mesh-unknown-key.yaml': ['mesh-unknown-key.yaml:3:3: mesh.discovry: unknown key (did you mean "discovery"?)'],
  'trust-bad-fingerprint.yaml': [
    'trust-bad-fingerprint.yaml:3:20: trust.peers[0].fingerprint: expected a key fingerprint of 64 hex digits, got "65b60673d6ed884bf01c2c222d82ada0"',
    'trust-bad-fingerprint.yaml:5:88: trust.peers[1].colour: unknown key (expected one of: fingerprint, name)',
  ],
  'trust-not-a-list.yaml': ['trust-not-a-list.yaml:2:10: trust.peers: expected a list of neighbours ({ fingerprint, name }), got "65b60673d6ed884bf01c2c222d82ada0740f2..."'],
  'trust-duplicate-peer.yaml': [
    'trust-duplicate-peer.yaml:4:20: trust.peers[1].fingerprint: this fingerprint is already listed as trust.peers[0]',
    'trust-duplicate-peer.yaml:5:13: trust.peers[1].name: expected a name of 1 to 64 printable characters, got ""',
  ],
};

t.test('every broken fixture has its expected output in the table', async (t) => {
  const fixtures = readdirSync(dir).filter((name) => name.endsWith('.yaml')).sort();
  t.same(fixtures, Object.keys(cases).sort());
  t.ok(fixtures.length >= 24);
});

for (const [file, expected] of Object.entries(cases)) {
  t.test(file, async (t) => {
    const text = readFileSync(new URL(file, dir), 'utf8');
    const error = t.throws(() => parseConfigText(text, file)) as ConfigError;
    t.type(error, ConfigError);
    t.same(error.format().split('\n'), expected);
    t.equal(error.issues.length, expected.length);
    for (const issue of error.issues) t.equal(issue.file, file);
  });
}

t.test('issues carry the position and the key path separately', async (t) => {
  const error = t.throws(() => parseConfigText('links:\n  lan:\n    type: tcp\n    host: h\n    port: five\n', 'x.yaml')) as ConfigError;
  t.same(error.issues, [{ file: 'x.yaml', line: 5, col: 11, path: 'links.lan.port', message: 'expected an integer from 1 to 65535, got "five"' }]);
});
