/** The pure parts of external-broker mode: status payloads, cluster URL and pins, topic prefixes, and mesh.broker in tonari.yaml. */
import { generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import { parseConfigText } from '../../agent/config/index.js';
import { ConfigError } from '../../agent/config/index.js';
import { rawPublicKey } from '../../agent/identity/peer-id.js';
import { checkTopicPrefix } from '../../agent/mesh/external-link.js';
import { ClusterConfigError, parseClusterUrl } from '../../agent/mesh/external-tls.js';
import { clusterSubscriptions, decodeStatus, encodeStatus, MAX_STATUS_BYTES } from '../../agent/mesh/topics.js';

const PIN = 'ab'.repeat(32);

t.test('status payloads carry the raw key and round-trip', async (t) => {
  const raw = rawPublicKey(generateKeyPairSync('ed25519').privateKey);
  const text = encodeStatus('online', raw, 1_700_000_000_123.7);
  t.same(JSON.parse(text), { state: 'online', key: Buffer.from(raw).toString('base64url'), at: 1_700_000_000_123 });
  const decoded = decodeStatus(Buffer.from(text));
  t.equal(decoded?.state, 'online');
  t.ok(decoded?.key?.equals(Buffer.from(raw)));
  t.same(decodeStatus(Buffer.from('offline')), { state: 'offline' }, 'the bare text of older agents');
});

t.test('status payloads that are not exactly right are ignored', async (t) => {
  const raw = Buffer.alloc(32, 7);
  const good = JSON.parse(encodeStatus('online', raw, 1)) as Record<string, unknown>;
  for (const [why, payload] of [
    ['not JSON', '{'],
    ['an array', '[]'],
    ['unknown state', JSON.stringify({ ...good, state: 'maybe' })],
    ['short key', JSON.stringify({ ...good, key: 'AAAA' })],
    ['padded key', JSON.stringify({ ...good, key: `${good.key as string}=` })],
    ['non-canonical base64url', JSON.stringify({ ...good, key: `${(good.key as string).slice(0, 42)}B` })],
    ['key not a string', JSON.stringify({ ...good, key: 5 })],
    ['too big', JSON.stringify({ ...good, pad: 'x'.repeat(MAX_STATUS_BYTES) })],
  ] as const) {
    t.equal(decodeStatus(Buffer.from(payload)), undefined, why);
  }
  t.same(decodeStatus(Buffer.from(JSON.stringify({ state: 'online', at: -1 }))), { state: 'online' }, 'a bad time is dropped, not trusted');
});

t.test('an agent on a cluster subscribes to every status first, every public message, and its own inbox', async (t) => {
  t.same(clusterSubscriptions('tself'), ['tonari/v1/+/status', 'tonari/v1/+/pub/#', 'tonari/v1/+/to/tself/#']);
});

t.test('cluster URLs: mqtts only, no credentials, and an authenticated broker', async (t) => {
  t.same(parseClusterUrl({ url: 'mqtts://mqtt.example.net', brokerFingerprint: PIN }), { host: 'mqtt.example.net', port: 8883 });
  t.same(parseClusterUrl({ url: 'mqtts://[::1]:9883', caPem: 'x' }), { host: '::1', port: 9883 });
  const refused: [string, Parameters<typeof parseClusterUrl>[0], RegExp][] = [
    ['plaintext', { url: 'mqtt://h', brokerFingerprint: PIN }, /must be mqtts/],
    ['websocket', { url: 'wss://h', brokerFingerprint: PIN }, /must be mqtts/],
    ['credentials', { url: 'mqtts://u:p@h', brokerFingerprint: PIN }, /credentials/],
    ['a path', { url: 'mqtts://h/x', brokerFingerprint: PIN }, /no path/],
    ['no authentication', { url: 'mqtts://h' }, /pin the cluster/],
    ['a bad pin', { url: 'mqtts://h', brokerFingerprint: 'AB' }, /64 lowercase hex/],
    ['not a URL', { url: 'h:8883x', brokerFingerprint: PIN }, /must be mqtts|not a URL/],
  ];
  for (const [why, options, message] of refused) t.throws(() => parseClusterUrl(options), { name: 'ClusterConfigError', message }, why);
  t.ok(new ClusterConfigError('x') instanceof Error);
});

t.test('topic prefixes are plain topic levels', async (t) => {
  t.equal(checkTopicPrefix(undefined), '');
  t.equal(checkTopicPrefix('community-a'), 'community-a/');
  t.equal(checkTopicPrefix('jp/tokyo.3'), 'jp/tokyo.3/');
  for (const bad of ['a/+', '#', '$SYS', 'a//b', '/a', 'a/', 'a b']) t.throws(() => checkTopicPrefix(bad), RangeError, bad);
});

t.test('mesh.broker in tonari.yaml', async (t) => {
  const ok = parseConfigText(`mesh:\n  broker:\n    url: mqtts://mqtt.example.net\n    fingerprint: ${PIN}\n    topicPrefix: community-a\n`, 'tonari.yaml');
  t.same(ok.mesh.broker, { url: 'mqtts://mqtt.example.net', fingerprint: PIN, topicPrefix: 'community-a' });
  t.equal(parseConfigText('mesh: {}\n', 'tonari.yaml').mesh.broker, undefined, 'embedded mode by default');

  const problem = (yaml: string): string => {
    try {
      parseConfigText(yaml, 'tonari.yaml');
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
    return 'accepted';
  };
  t.match(problem('mesh:\n  broker:\n    url: mqtt://h\n    fingerprint: x\n'), /tonari\.yaml:3:\d+.*mqtts:\/\//s, 'plaintext URL, with its line');
  t.match(problem('mesh:\n  broker:\n    url: mqtts://h\n'), /tonari\.yaml:3:\d+.*pin the broker/s, 'no way to authenticate the broker');
  t.match(problem(`mesh:\n  broker:\n    url: mqtts://h\n    caFile: /etc/ca.pem\n    topicPrefix: a/#\n`), /tonari\.yaml:5:\d+.*no wildcards/s, 'wildcard prefix');
  t.match(problem(`mesh:\n  broker:\n    url: mqtts://h\n    fingerprint: ${PIN}\n    user: x\n`), /tonari\.yaml:5:\d+/, 'unknown key');
});
