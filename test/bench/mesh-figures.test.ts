/** The pure parts of bench:mesh: raw MQTT bytes, figures arithmetic, headline JSON, table, Mosquitto config. No I/O, no timing. */
import t from 'tap';
import { parser, type Packet } from 'mqtt-packet';
import {
  bestRate, connectPacket, disconnectPacket, encodeRemainingLength, fixedHeader, headlineJson, loopbackSource, MAX_REMAINING_LENGTH,
  median, medianCpu, mosquittoAcl, mosquittoConfig, msgsPerSecond, PACKET_TYPE, publishPacket, ratio, round, rssGrowthMB, table, throughputRatio,
  type MosquittoFiles,
} from './mesh-figures.js';

/** Every packet mqtt.js's and aedes's own parser (mqtt-packet) reads from these bytes, and any error it reports. */
function parse(bytes: Buffer): { packets: Packet[]; errors: string[] } {
  const p = parser({ protocolVersion: 4 });
  const packets: Packet[] = [];
  const errors: string[] = [];
  p.on('packet', (packet: Packet) => packets.push(packet));
  p.on('error', (e: Error) => errors.push(e.message));
  p.parse(bytes);
  return { packets, errors };
}

t.test('remaining length: the varint vectors of MQTT 3.1.1 §2.2.3, and nothing out of range', async (t) => {
  const vectors: [number, number[]][] = [
    [0, [0x00]], [127, [0x7f]], [128, [0x80, 0x01]], [16_383, [0xff, 0x7f]], [16_384, [0x80, 0x80, 0x01]],
    [2_097_151, [0xff, 0xff, 0x7f]], [2_097_152, [0x80, 0x80, 0x80, 0x01]], [MAX_REMAINING_LENGTH, [0xff, 0xff, 0xff, 0x7f]],
  ];
  for (const [n, bytes] of vectors) t.same([...encodeRemainingLength(n)], bytes, `${n}`);
  for (const bad of [-1, 1.5, MAX_REMAINING_LENGTH + 1, NaN]) t.throws(() => encodeRemainingLength(bad), RangeError, `${bad}`);
});

t.test('fixed headers: type in the high nibble, SUBSCRIBE with its required flags', async (t) => {
  t.same([...fixedHeader(PACKET_TYPE.CONNECT, MAX_REMAINING_LENGTH)], [0x10, 0xff, 0xff, 0xff, 0x7f]);
  t.same([...fixedHeader(PACKET_TYPE.PUBLISH, 100_000_000)], [0x30, ...encodeRemainingLength(100_000_000)]);
  t.same([...fixedHeader(PACKET_TYPE.SUBSCRIBE, 5)], [0x82, 0x05]);
  t.same([...disconnectPacket()], [0xe0, 0x00]);
});

t.test('CONNECT, PUBLISH and DISCONNECT parse as themselves with MQTT 3.1.1 parser', async (t) => {
  const clientId = 'p'.repeat(23);
  const publish = publishPacket('tonari/v1/x/pub/flood', 1000);
  const { packets, errors } = parse(Buffer.concat([connectPacket(clientId, 30), publish, disconnectPacket()]));
  t.same(errors, []);
  t.equal(packets.length, 3);
  const [connect, pub, disconnect] = packets;
  t.match(connect, { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId });
  t.match(pub, { cmd: 'publish', topic: 'tonari/v1/x/pub/flood', qos: 0, retain: false });
  t.equal((pub as { payload: Buffer }).payload.length, 1000);
  t.match(disconnect, { cmd: 'disconnect' });
  // The near-limit flood packet: remaining length one below the broker's 64 KiB limit.
  const topic = 'tonari/v1/x/pub/flood';
  const nearLimit = publishPacket(topic, 64 * 1024 - (2 + topic.length) - 1);
  t.equal(nearLimit.length, 1 + encodeRemainingLength(64 * 1024 - 1).length + 64 * 1024 - 1);
});

t.test('an oversized header alone is only a promise: the parser waits for the announced bytes', async (t) => {
  const { packets, errors } = parse(fixedHeader(PACKET_TYPE.CONNECT, MAX_REMAINING_LENGTH));
  t.same(packets, []);
  t.same(errors, []);
});

t.test('loopback source addresses stay in 127.0.0.0/8 and never reach .255', async (t) => {
  t.equal(loopbackSource(0), '127.0.0.10');
  t.equal(loopbackSource(100), '127.0.0.110');
  t.equal(loopbackSource(244), '127.0.0.254');
  t.throws(() => loopbackSource(245), RangeError);
  t.throws(() => loopbackSource(-1), RangeError);
});

t.test('figures arithmetic', async (t) => {
  t.equal(msgsPerSecond(30_000, 500), 60_000);
  t.ok(Number.isNaN(msgsPerSecond(10, 0)));
  t.equal(ratio(3, 4), 0.75);
  t.ok(Number.isNaN(ratio(1, 0)));
  t.ok(Number.isNaN(ratio(NaN, 2)));
  t.ok(Number.isNaN(ratio(1, NaN)));
  t.equal(round(1.23456, 3), 1.235);
  t.ok(Number.isNaN(round(NaN, 2)));
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.equal(median([NaN, 5, Infinity]), 5, 'non-finite values (runs that hit the cap) are left out');
  t.ok(Number.isNaN(median([])));

  const rows = [
    { setup: 'agent' as const, msgsPerSecond: 90, brokerCpuUsPerMsg: 10 },
    { setup: 'hub' as const, msgsPerSecond: 60, brokerCpuUsPerMsg: 14 },
    { setup: 'hub' as const, msgsPerSecond: 70, brokerCpuUsPerMsg: 16 },
    { setup: 'hub' as const, msgsPerSecond: NaN, brokerCpuUsPerMsg: NaN },
    { setup: 'mosquitto' as const, msgsPerSecond: 100, brokerCpuUsPerMsg: 7 },
    { setup: 'mosquitto' as const, msgsPerSecond: 80, brokerCpuUsPerMsg: 8 },
  ];
  t.equal(bestRate(rows, 'hub'), 70);
  t.equal(bestRate(rows, 'mosquitto'), 100);
  t.equal(throughputRatio(rows), 0.7, 'best hub over best Mosquitto; the agent-mode row is not like for like');
  t.equal(medianCpu(rows, 'hub'), 15);
  t.ok(Number.isNaN(throughputRatio(rows.filter((r) => r.setup !== 'mosquitto'))), 'no Mosquitto, no ratio');
  t.ok(Number.isNaN(throughputRatio(rows.filter((r) => r.setup !== 'hub'))));

  t.equal(rssGrowthMB(80, [81, 90.5, 85]), 10.5);
  t.equal(rssGrowthMB(80, [79, 78]), 0, 'never negative');
  t.equal(rssGrowthMB(80, [NaN, 82]), 2);
  t.ok(Number.isNaN(rssGrowthMB(80, [])));
  t.ok(Number.isNaN(rssGrowthMB(NaN, [80])));
});

t.test('headline JSON: the four keys in order, rounded, failed parts as null', async (t) => {
  const line = headlineJson({ meshSeconds3: 0.18456, meshSeconds10: 0.5, throughputRatioVsMosquitto: 1.09749, floodRssGrowthMB: 7.456 });
  t.equal(line, '{"meshSeconds3":0.185,"meshSeconds10":0.5,"throughputRatioVsMosquitto":1.097,"floodRssGrowthMB":7.46}');
  t.notOk(line.includes('\n'), 'one line');
  t.same(JSON.parse(headlineJson({ meshSeconds3: NaN, meshSeconds10: Infinity, throughputRatioVsMosquitto: NaN, floodRssGrowthMB: 1 })),
    { meshSeconds3: null, meshSeconds10: null, throughputRatioVsMosquitto: null, floodRssGrowthMB: 1 });
});

t.test('table: first column left-aligned, the others right-aligned, no trailing blanks', async (t) => {
  t.same(table(['setup', 'msg/s', 'note'], [['aedes', 65000, ''], ['mosquitto', 600, 'x']]), [
    'setup      msg/s  note',
    'aedes      65000',
    'mosquitto    600     x',
  ]);
  t.same(table(['a'], []), ['a']);
});

t.test('Mosquitto config: TLS 1.3 with client certificates on its own loopback port, ACL, no in-flight cap', async (t) => {
  const files: MosquittoFiles = {
    port: 41234, cafile: '/tmp/x/clients.pem', certfile: '/tmp/x/server.crt', keyfile: '/tmp/x/server.key', aclFile: '/tmp/x/acl',
    user: 'bench', tcpNoDelay: false,
  };
  const lines = mosquittoConfig(files).split('\n');
  for (const expected of [
    'user bench', 'per_listener_settings false', 'persistence false', 'acl_file /tmp/x/acl', 'listener 41234 127.0.0.1',
    'protocol mqtt', 'cafile /tmp/x/clients.pem', 'certfile /tmp/x/server.crt', 'keyfile /tmp/x/server.key', 'tls_version tlsv1.3',
    'require_certificate true', 'use_identity_as_username true', 'max_inflight_messages 0', 'set_tcp_nodelay false',
  ]) t.ok(lines.includes(expected), expected);
  t.notOk(lines.some((l) => /allow_anonymous true|1883|8883|0\.0\.0\.0/.test(l)), 'no anonymous access, no fixed or public listener');
  t.ok(lines.indexOf('listener 41234 127.0.0.1') < lines.indexOf('cafile /tmp/x/clients.pem'), 'TLS settings follow the listener they belong to');
  t.ok(mosquittoConfig({ ...files, tcpNoDelay: true }).split('\n').includes('set_tcp_nodelay true'));
  t.equal(mosquittoAcl(), [
    'pattern write tonari/v1/%u/#',
    'pattern read tonari/v1/+/status',
    'pattern read tonari/v1/+/pub/#',
    'pattern read tonari/v1/+/to/%u/#',
    '',
  ].join('\n'));
});
