import { readFileSync } from 'node:fs';
import t from 'tap';
import { configJsonSchema, configJsonSchemaText } from '../../agent/config/json-schema.js';
import { parseConfigText } from '../../agent/config/parse.js';

const docs = new URL('../../docs/', import.meta.url);

t.test('docs/tonari.schema.json is what the schema generates (run `npm run schema` after changing it)', async (t) => {
  t.equal(readFileSync(new URL('tonari.schema.json', docs), 'utf8'), configJsonSchemaText());
});

t.test('the JSON Schema describes the file as written: defaults optional, durations as strings', async (t) => {
  const schema = configJsonSchema() as { properties: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
  t.same(schema.properties.poll?.properties?.interval, {
    default: '1s', description: 'How often devices are read.', type: 'string', pattern: '^(\\d+(?:\\.\\d+)?)(ms|s|m|h)$',
  });
  t.equal((schema as { required?: string[] }).required, undefined);
  t.equal((schema as { additionalProperties?: boolean }).additionalProperties, false);
});

interface JsonSchemaNode {
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: JsonSchemaNode | boolean;
  oneOf?: JsonSchemaNode[];
  items?: JsonSchemaNode;
}

/** Every key a file may contain, as written in the reference: `links.<name>.port`, `devices.<name>.writable[].min`. */
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

t.test('docs/configuration.md documents every key', async (t) => {
  const reference = readFileSync(new URL('configuration.md', docs), 'utf8');
  const paths = keyPaths(configJsonSchema() as JsonSchemaNode, '');
  t.ok(paths.length > 40);
  t.same(paths.filter((path) => !reference.includes(`\`${path}\``)), [], 'keys missing from docs/configuration.md');
});

t.test('the example in docs/configuration.md is valid', async (t) => {
  const reference = readFileSync(new URL('configuration.md', docs), 'utf8');
  const example = /## Example\n\n```yaml\n([\s\S]*?)```/.exec(reference)?.[1];
  t.ok(example);
  const config = parseConfigText(example!, 'configuration.md');
  t.same(Object.keys(config.devices), ['inverter', 'meter']);
});
