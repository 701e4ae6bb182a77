// Writes schema/playbook.schema.json from the loader's zod schema (npm run schema).
import { writeFileSync } from 'node:fs';
import { playbookJsonSchema } from '../src/playbook/json-schema.js';

writeFileSync('schema/playbook.schema.json', `${JSON.stringify(playbookJsonSchema(), null, 2)}\n`);
process.stdout.write('wrote schema/playbook.schema.json\n');
