/** `npm run schema`: regenerates docs/tonari.schema.json (or the file given) from the schema. */
import { writeFile } from 'node:fs/promises';
import { configJsonSchemaText } from './json-schema.js';

const target = process.argv[2] ?? 'docs/tonari.schema.json';
await writeFile(target, configJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
