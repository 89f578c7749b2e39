// `npm run schemas`: writes schemas/<document>.json, the JSON Schema of every --json document,
// generated from the zod schemas in src/render/schemas. Commit the result; a test checks it is current.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchemaFiles } from '../src/render/schemas/index.ts';

const dir = process.argv[2] ?? 'schemas';
mkdirSync(dir, { recursive: true });
const files = jsonSchemaFiles();
for (const [name, text] of files) writeFileSync(join(dir, name), text);
console.log(`wrote ${files.size} JSON Schema files to ${dir}/`);
