/** The JSON Schema of tonari.yaml for editors (yaml-language-server, VS Code), derived from the zod schema. */
import * as z from 'zod';
import { configSchema } from './schema.js';

/** The input side (what may be written in the file): keys with defaults are optional, durations are strings. */
export function configJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(configSchema, { io: 'input', target: 'draft-7' }), title: 'tonari.yaml' };
}

/** The exact text of docs/tonari.schema.json. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
