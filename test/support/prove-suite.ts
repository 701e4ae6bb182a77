import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSuite } from '../../src/prove/run-tests.js';
import { loadTestFile } from '../../src/prove/test-file.js';

/**
 * Writes `files` (paths relative to a fresh directory: playbooks, a configuration, a test file at
 * cases.test.yaml), runs the test file as `remediator test` does, removes the directory, and
 * returns each failed test's lines (empty: every test passed) and how many tests ran.
 */
export async function runTestFile(files: Readonly<Record<string, string>>): Promise<{ failed: string[]; count: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-prove-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), text);
    }
    const loaded = await loadTestFile(path.join(dir, 'cases.test.yaml'), 'cases.test.yaml');
    assert.ok(!loaded.errors, loaded.errors?.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`).join('\n'));
    const results = [...(await runSuite(loaded.suite)).results];
    return {
      failed: results.filter((r) => !r.ok).map((r) => r.failures.flatMap((f) => [f.alert, ...f.lines]).join('\n') + r.trace.join('\n')),
      count: results.length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
