import { readFileSync } from 'node:fs';
import t from 'tap';
import { configJsonSchema } from '../../agent/config/json-schema.js';
import { defaultConfig } from '../../agent/config/parse.js';
import { configReferenceMarkdown } from '../../agent/config/reference.js';

const REGENERATE = 'run `npm run docs:config` and commit docs/config-reference.md';
const referenceFile = new URL('../../docs/config-reference.md', import.meta.url);

function committed(): string {
  try {
    return readFileSync(referenceFile, 'utf8');
  } catch {
    return '(docs/config-reference.md is missing)';
  }
}

t.test('docs/config-reference.md is what the schema generates', async (t) => {
  const ok = committed() === configReferenceMarkdown();
  t.ok(ok, ok ? 'docs/config-reference.md is current'
    : `docs/config-reference.md is out of date with agent/config/schema.ts: ${REGENERATE}`);
  if (!ok) t.equal(committed(), configReferenceMarkdown(), 'the difference');
});

/** Key paths of every value in the default configuration, down to the leaves: `poll.interval`, `links`, `mesh.peers`. */
function leafPaths(value: unknown, prefix: string): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, prefix === '' ? key : `${prefix}.${key}`));
}

t.test('every leaf key of the default configuration is in the reference', async (t) => {
  const reference = configReferenceMarkdown();
  const paths = leafPaths(defaultConfig(), '');
  t.ok(paths.length > 40, `${paths.length} leaf keys`);
  t.ok(paths.includes('api.listen.port') && paths.includes('homeAssistant.discoveryPrefix'), 'api and homeAssistant are sections');
  t.same(paths.filter((path) => !reference.includes(`| \`${path}\` |`)), [], 'default keys without a row in the reference');
});

interface JsonSchemaNode {
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: JsonSchemaNode | boolean;
  oneOf?: JsonSchemaNode[];
  items?: JsonSchemaNode;
}

/** Every key a file may contain, written as in the reference: `links.<name>.port`, `devices.<name>.writable[].min`. */
function keyPaths(node: JsonSchemaNode, prefix: string): string[] {
  const paths: string[] = [];
  for (const option of node.oneOf ?? [node]) {
    for (const [key, child] of Object.entries(option.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      paths.push(path, ...keyPaths(child, path));
    }
    if (typeof option.additionalProperties === 'object') paths.push(...keyPaths(option.additionalProperties, `${prefix}.<name>`));
    if (option.items) paths.push(...keyPaths(option.items, `${prefix}[]`));
  }
  return [...new Set(paths)];
}

t.test('every key the file may contain, optional and per link or device type, has a row', async (t) => {
  const reference = configReferenceMarkdown();
  const paths = keyPaths(configJsonSchema() as JsonSchemaNode, '');
  t.ok(paths.includes('mesh.broker.caFile') && paths.includes('links.<name>.baudRate'));
  t.same(paths.filter((path) => !reference.includes(`| \`${path}\` |`)), [], 'keys without a row in the reference');
});

t.test('rows show type, allowed values and the default as written in the file', async (t) => {
  const reference = configReferenceMarkdown();
  const rows = [
    '| `poll.interval` | duration | 100ms…1h | `1s` | How often devices are read. |',
    '| `household.latitude` | number | -90…90 | `35.68` | Latitude in degrees (north positive), used for the solar forecast. |',
    '| `links.<name>.parity` | string | `none`, `even` or `odd` | `none` | Serial parity. |',
    '| `devices.<name>.unit` | integer | 0…247 | **required** | Modbus unit id (slave address). |',
    '| `mesh.localPort` | integer or `none` | port from 1 to 65535, or none | `1883` |',
    '| `mesh.listen.host` | string | hostname or IP address | `0.0.0.0` |',
    '| `market.battery.capacityWh` | integer | 0…1000000 | not set |',
    '| `devices.<name>.provides` | list | non-empty list of `pv`, `battery` or `grid` | `[pv, battery, grid]` |',
    '| `api.token` | string | token of 32 to 256 printable characters without spaces | not set |',
  ];
  for (const row of rows) t.ok(reference.includes(row), row);
  // The pipes of a shell pipeline inside a description must not split the table cell.
  t.match(reference, /-noout \\\| openssl pkey/);
});

t.test('links and devices get one table per type, each with only the keys of that type', async (t) => {
  const reference = configReferenceMarkdown();
  for (const heading of ['### `links.<name>` with `type: tcp`', '### `links.<name>` with `type: rtu`', '### `links.<name>` with `type: rtu-over-tcp`',
    '### `devices.<name>` with `type: sunspec`', '### `devices.<name>` with `type: profile`']) {
    t.ok(reference.includes(heading), heading);
  }
  const tcp = reference.slice(reference.indexOf('with `type: tcp`'), reference.indexOf('with `type: rtu`'));
  t.notMatch(tcp, /baudRate/);
  t.match(tcp, /\| `links\.<name>\.interRequestDelay` \| duration \| 0s…10s \| `0ms` \|/);
  const rtu = reference.slice(reference.indexOf('with `type: rtu`'), reference.indexOf('with `type: rtu-over-tcp`'));
  t.match(rtu, /\| `links\.<name>\.interRequestDelay` \| duration \| 0s…10s \| `20ms` \|/);
});
