// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { playbookJsonSchema } from '../../src/playbook/json-schema.js';
import { isPlaybookFile } from '../../src/playbook/loader.js';
import { playbookReference } from '../../scripts/playbook-reference.js';
import { ROOT } from '../support/fixtures.js';

test('schema/playbook.schema.json is up to date with the loader (run npm run schema)', () => {
  const committed = JSON.parse(readFileSync(path.join(ROOT, 'schema', 'playbook.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(committed, playbookJsonSchema());
});

test('docs/playbooks.md is up to date with the schema (run npm run schema)', () => {
  assert.equal(readFileSync(path.join(ROOT, 'docs', 'playbooks.md'), 'utf8'), playbookReference(playbookJsonSchema()));
});

test('every field of the playbook format has a description, for the reference and for editors', () => {
  const missing: string[] = [];
  const walk = (node: Record<string, unknown>, at: string) => {
    const properties = node['properties'] as Record<string, Record<string, unknown>> | undefined;
    for (const [key, child] of Object.entries(properties ?? {})) {
      if (typeof child['description'] !== 'string' || child['description'].length < 10) missing.push(`${at}${key}`);
      walk(child, `${at}${key}.`);
    }
    for (const k of ['items', 'additionalProperties']) if (typeof node[k] === 'object' && node[k] !== null) walk(node[k] as Record<string, unknown>, at);
    for (const alt of (node['anyOf'] as Record<string, unknown>[] | undefined) ?? []) walk(alt, at);
  };
  walk(playbookJsonSchema(), '');
  assert.deepEqual(missing, [], 'describe these fields in src/playbook/schema.ts');
});

test('the JSON Schema accepts every example playbook and refuses an unknown key', () => {
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(playbookJsonSchema());
  const dir = path.join(ROOT, 'playbooks');
  // Playbook files only: *.test.yaml beside them are playbook tests, another format.
  for (const file of readdirSync(dir).filter(isPlaybookFile)) {
    const ok = validate(parse(readFileSync(path.join(dir, file), 'utf8')));
    assert.ok(ok, `${file}: ${JSON.stringify(validate.errors)}`);
  }
  assert.equal(validate({ name: 'x', match: { alertname: 'X' }, steps: [{ wait: '5m' }], cooldwon: '5m' }), false);
  assert.equal(validate({ name: 'x', match: { alertname: 'X' }, steps: [{ wait: '5 minutes' }] }), false);
});
