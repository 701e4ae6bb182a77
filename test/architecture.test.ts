import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from './support/fixtures.js';

/**
 * Dependencies point inward: the folders of src/ and which others each may import. domain/ is the
 * middle (types and pure functions); the stages around it; the pipeline joins the stages; the
 * adapters (http/) sit on top, and cli/ wires everything. A folder missing here fails the test, so
 * a new one gets its place on purpose.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  domain: [],
  observability: ['domain'],
  match: ['domain'],
  playbook: ['domain', 'match', 'observability'],
  decide: ['domain', 'match', 'playbook'],
  config: ['domain', 'match', 'decide'],
  report: ['domain'],
  record: ['domain', 'observability', 'report'],
  notify: ['domain', 'observability'],
  receive: ['domain', 'observability'],
  guards: ['domain', 'observability', 'notify'],
  approve: ['domain', 'observability', 'notify'],
  execute: ['domain', 'observability', 'playbook', 'notify'],
  // The round trip with Alertmanager and Grafana: their API clients, silences and annotations of runs.
  roundtrip: ['domain', 'observability'],
  pipeline: ['domain', 'observability', 'match', 'playbook', 'decide', 'execute', 'receive', 'guards', 'approve', 'record', 'notify', 'roundtrip'],
  http: ['domain', 'observability', 'playbook', 'receive', 'guards', 'approve', 'notify', 'record', 'report'],
  // Proving playbooks (test, replay): the pipeline run on a sandbox store, beside the daemon, not under it.
  prove: ['domain', 'observability', 'match', 'playbook', 'decide', 'config', 'execute', 'receive', 'pipeline', 'record'],
  cli: ['*'],
};

/** Packages that are I/O or transport: the pure middle must not reach for them. */
const PURE = ['domain', 'match', 'decide'];
/** Only the adapters speak HTTP server: express stays in http/ (and the CLI's wiring). */
const EXPRESS_ALLOWED = ['http', 'cli'];

const SRC = path.join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : name.endsWith('.ts') ? [full] : [];
  });
}

/** Every module a file imports: static imports and exports, and dynamic import() of a literal. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+'([^']+)'/g), ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)];
  return found.map((m) => m[1] as string);
}

const folderOf = (file: string): string => path.relative(SRC, file).split(path.sep)[0] as string;

test('every folder of src/ has a place in the dependency rule', () => {
  const folders = readdirSync(SRC).filter((n) => statSync(path.join(SRC, n)).isDirectory());
  assert.deepEqual(
    folders.filter((f) => !(f in ALLOWED)),
    [],
    'add the new folder to ALLOWED, with the folders it may import',
  );
});

test('no import runs back up the layers', () => {
  const wrong: string[] = [];
  let crossing = 0;
  for (const file of files(SRC)) {
    const from = folderOf(file);
    const allowed = ALLOWED[from] ?? [];
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) continue;
      if (spec.startsWith('../')) crossing++;
      const to = folderOf(path.resolve(path.dirname(file), spec));
      if (to === from || allowed.includes('*') || allowed.includes(to)) continue;
      wrong.push(`${path.relative(ROOT, file)} imports ${spec} (${from} → ${to})`);
    }
  }
  assert.ok(crossing > 300, `only ${crossing} imports across folders were found: is the import scan still reading them?`);
  assert.deepEqual(wrong, []);
});

test('the pure middle does no I/O, and only the HTTP adapters import express', () => {
  const wrong: string[] = [];
  for (const file of files(SRC)) {
    const from = folderOf(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) continue;
      if (PURE.includes(from) && spec !== 'node:crypto') wrong.push(`${path.relative(ROOT, file)} imports ${spec}`);
      if (spec === 'express' && !EXPRESS_ALLOWED.includes(from)) wrong.push(`${path.relative(ROOT, file)} imports express`);
    }
  }
  assert.deepEqual(wrong, []);
});
