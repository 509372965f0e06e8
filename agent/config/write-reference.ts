/** `npm run docs:config`: regenerates docs/config-reference.md (or the file given) from the schema. */
import { writeFile } from 'node:fs/promises';
import { configReferenceMarkdown } from './reference.js';

const target = process.argv[2] ?? 'docs/config-reference.md';
await writeFile(target, configReferenceMarkdown());
process.stdout.write(`wrote ${target}\n`);
