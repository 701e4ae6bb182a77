// The audit chain: appending through the store, verifying the database (what `remediator audit
// verify` does), exporting it as JSON Lines and verifying the export, on a real SQLite file.
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { finished } from 'node:stream/promises';
import { writeJsonLines } from '../src/record/audit-export.js';
import { verifyExportFile } from '../src/record/audit-file.js';
import { AuditReader } from '../src/record/sqlite/audit-reader.js';
import { SqliteStore } from '../src/record/sqlite/sqlite-store.js';
import { syntheticDecisions } from '../test/support/synthetic-history.js';

const N = 200_000;
const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-bench-audit-'));
const file = path.join(dir, 'r.db');
const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en')}/s`;

const store = SqliteStore.open(file);
const events = syntheticDecisions(N);
let t0 = performance.now();
// Appended in transactions of 100, as a busy daemon would group them.
for (let i = 0; i < N; i += 100) await store.appendEvents(events.slice(i, i + 100));
const appendMs = performance.now() - t0;
await store.close();

const reader = AuditReader.open(file);
t0 = performance.now();
const { verdict } = await reader.verify();
const verifyMs = performance.now() - t0;
if (verdict.problem || verdict.count !== N) throw new Error(`verify: ${verdict.problem?.message ?? verdict.count}`);

const out = path.join(dir, 'export.jsonl');
t0 = performance.now();
const stream = createWriteStream(out);
await reader.snapshot(() => writeJsonLines(reader.events(1), stream));
stream.end();
await finished(stream);
const exportMs = performance.now() - t0;
reader.close();

t0 = performance.now();
const fromFile = await verifyExportFile(out);
const fileMs = performance.now() - t0;
if (fromFile.problem || fromFile.count !== N) throw new Error(`verify --file: ${fromFile.problem?.message ?? fromFile.count}`);

console.log(
  `audit chain, ${N.toLocaleString('en')} events: append ${rate(N, appendMs)} (transactions of 100); verify ${verifyMs.toFixed(0)} ms = ${rate(N, verifyMs)}; ` +
    `export ${exportMs.toFixed(0)} ms = ${rate(N, exportMs)} (${(statSync(out).size / 2 ** 20).toFixed(0)} MiB); verify --file ${fileMs.toFixed(0)} ms = ${rate(N, fileMs)}`,
);
rmSync(dir, { recursive: true, force: true });
