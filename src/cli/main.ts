#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { runCli } from './program.js';

// The executable: the command line run against the real process. Each command loads what it
// needs when it runs (see program.ts).
const code = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdin: () => readFileSync(0, 'utf8'),
  stdout: process.stdout,
  stderr: process.stderr,
});
process.exitCode = code;
// A failed command ends now, whatever it left open (a connection still being retried, say),
// once what it printed is out. A successful one ends when its work does: serve keeps running.
if (code !== 0) process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
