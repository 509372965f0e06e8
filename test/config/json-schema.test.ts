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

// That every key has a row in docs/config-reference.md is checked by reference.test.ts.

t.test('the example in docs/configuration.md is valid', async (t) => {
  const reference = readFileSync(new URL('configuration.md', docs), 'utf8');
  const example = /## Example\n\n```yaml\n([\s\S]*?)```/.exec(reference)?.[1];
  t.ok(example);
  const config = parseConfigText(example!, 'configuration.md');
  t.same(Object.keys(config.devices), ['inverter', 'meter']);
});
