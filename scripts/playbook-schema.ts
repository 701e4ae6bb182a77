// Writes schema/playbook.schema.json and docs/playbooks.md from the loader's zod schema (npm run schema).
import { writeFileSync } from 'node:fs';
import { playbookJsonSchema } from '../src/playbook/json-schema.js';
import { playbookReference } from './playbook-reference.js';

const schema = playbookJsonSchema();
writeFileSync('schema/playbook.schema.json', `${JSON.stringify(schema, null, 2)}\n`);
writeFileSync('docs/playbooks.md', playbookReference(schema));
process.stdout.write('wrote schema/playbook.schema.json and docs/playbooks.md\n');
