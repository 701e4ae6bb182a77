import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../domain/errors.js';
import { isPlaybookTestFile } from '../playbook/loader.js';
import { formatSourceError, type SourceError } from '../playbook/yaml-source.js';
import { formatResults, junitXml } from '../prove/format-results.js';
import { runSuite, type SuiteResult } from '../prove/run-tests.js';
import { loadTestFile, type TestSuite } from '../prove/test-file.js';
import { inCwd, type CliContext } from './io.js';

/** remediator test FILE... [--junit FILE] [--run REGEX] [--verbose] */
export interface TestOptions {
  readonly junit?: string;
  readonly run?: string;
  readonly verbose?: boolean;
}

/** What the command printed, and its exit code: 0 every test passed, 1 one failed, 2 bad input. */
export interface TestOutcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: 0 | 1 | 2;
}

/**
 * `remediator test`: playbook tests, offline, through the daemon's own pipeline (see
 * src/prove/). Every file is read and checked before any test runs; one invalid file (or an
 * unreadable one, or a --run that is no regex) runs nothing and writes nothing, exit 2.
 */
export async function testCommand(targets: readonly string[], opts: TestOptions, context: CliContext): Promise<TestOutcome> {
  const bad = (errors: readonly string[]): TestOutcome => ({ stdout: '', stderr: `${errors.join('\n')}\n`, code: 2 });
  let only: (name: string) => boolean = () => true;
  if (opts.run !== undefined) {
    try {
      const re = new RegExp(opts.run);
      only = (name) => re.test(name);
    } catch (err) {
      return bad([`--run ${opts.run}: not a regular expression: ${errorMessage(err)}`]);
    }
  }
  const files = await expand(targets, context.cwd);
  if (files.errors.length > 0) return bad(files.errors);
  const suites: TestSuite[] = [];
  const errors: SourceError[] = [];
  for (const f of files.found) {
    const loaded = await loadTestFile(f.path, f.shown);
    if (loaded.errors) errors.push(...loaded.errors);
    else suites.push(loaded.suite);
  }
  if (errors.length > 0) {
    const invalid = new Set(errors.map((e) => e.file)).size;
    return bad([
      ...errors.map(formatSourceError),
      `${errors.length} error(s): fix the test file(s) first; no test was run`.replace('file(s)', invalid === 1 ? 'file' : 'files'),
    ]);
  }
  const results: SuiteResult[] = [];
  for (const s of suites) results.push(await runSuite(s, only));
  if (results.every((r) => r.results.length === 0)) return bad([`--run ${opts.run ?? ''}: no test's name matches`]);
  if (opts.junit !== undefined) {
    try {
      await writeFile(inCwd(context.cwd, opts.junit), junitXml(results));
    } catch (err) {
      return { stdout: formatResults(results, opts.verbose === true), stderr: `--junit ${opts.junit}: cannot write it: ${errorMessage(err)}\n`, code: 2 };
    }
  }
  const failed = results.some((s) => s.results.some((r) => !r.ok));
  return { stdout: formatResults(results, opts.verbose === true), stderr: '', code: failed ? 1 : 0 };
}

/** The test files named: files as given, directories searched for *.test.yaml (in name order). */
async function expand(targets: readonly string[], cwd: string): Promise<{ found: { path: string; shown: string }[]; errors: string[] }> {
  const found: { path: string; shown: string }[] = [];
  const errors: string[] = [];
  for (const t of targets) {
    const full = inCwd(cwd, t);
    let isDir = false;
    try {
      isDir = (await stat(full)).isDirectory();
    } catch (err) {
      errors.push(`${t}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : errorMessage(err)}`);
      continue;
    }
    if (!isDir) {
      found.push({ path: full, shown: t });
      continue;
    }
    const names = (await readdir(full, { recursive: true })).filter((n) => isPlaybookTestFile(n) && !n.split(path.sep).some((p) => p.startsWith('.'))).sort();
    if (names.length === 0) errors.push(`${t}: no playbook test (*.test.yaml) in it`);
    for (const n of names) found.push({ path: path.join(full, n), shown: path.join(t, n) });
  }
  return { found, errors };
}
