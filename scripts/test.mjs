// Runs every test file under test/ (or the ones given) with node's test runner. Node 20 has no
// glob support in --test, hence this small finder.
//
// --unit runs the unit tests alone: the files whose first line starts with "// Unit test:". A
// unit test starts nothing: no daemon, no child process, no server or socket (HTTP, PostgreSQL,
// Alertmanager, Prometheus), no browser; files on disk, SQLite ones included, are fine. A guard
// (unit-guard.mjs) makes a marked file that starts something fail. As they share nothing, the
// unit files run side by side; the full suite runs one file at a time (ports, PostgreSQL).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const UNIT_MARK = '// Unit test:';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return find(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const given = args.filter((a) => a !== '--unit');
let files = given.length > 0 ? given : find('test').sort();
if (unit) {
  files = files.filter((f) => readFileSync(f, 'utf8').startsWith(UNIT_MARK));
  if (files.length === 0) {
    console.error(`no unit test among the files given (a unit test file starts with "${UNIT_MARK}")`);
    process.exit(1);
  }
}
const guard = path.join(path.dirname(fileURLToPath(import.meta.url)), 'unit-guard.mjs');
const options = unit ? [`--test-concurrency=${os.availableParallelism()}`, '--import', guard] : ['--test-concurrency=1'];
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...options, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
