import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The project root. */
export const ROOT = path.resolve(here, '..', '..');
/** Real Alertmanager payloads, captured from Alertmanager 0.25 (see the README beside them). */
export const AM_FIXTURES = path.join(here, '..', 'fixtures', 'alertmanager');
/** Playbooks written for the captured payloads. */
export const TEST_PLAYBOOKS = path.join(here, '..', 'fixtures', 'playbooks');

/** Writes playbooks (name → YAML) into DIR/playbooks and returns that directory. */
export function writePlaybooks(dir: string, playbooks: Readonly<Record<string, string>>): string {
  const out = path.join(dir, 'playbooks');
  mkdirSync(out, { recursive: true });
  for (const [name, yaml] of Object.entries(playbooks)) writeFileSync(path.join(out, `${name}.yaml`), yaml);
  return out;
}

/** The raw text of a captured payload. */
export function fixtureText(name: string): string {
  return readFileSync(path.join(AM_FIXTURES, name), 'utf8');
}

/** A captured payload, parsed. */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(fixtureText(name)) as Record<string, unknown>;
}
