import assert from 'node:assert/strict';
import { copyFileSync, createReadStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { auditExport } from '../../src/cli/audit-commands.js';
import { eventHash } from '../../src/domain/audit-chain.js';
import { SqliteStore } from '../../src/record/sqlite/sqlite-store.js';
import { runCli, spawnCli, type CliResult } from '../support/cli.js';
import { countRows, eventOfRow, tamper } from '../support/db.js';
import { fixture, fixtureText, ROOT, TEST_PLAYBOOKS } from '../support/fixtures.js';
import { API_TOKEN, removeDir, startTestDaemon, WEBHOOK_TOKEN, WEBHOOK_TOKEN_NEXT, type TestDaemon } from '../support/test-daemon.js';
import { syntheticDecisions } from '../support/synthetic-history.js';

const SECRET = 'audit-secret-value-7f3a9c';
const WRONG_TOKEN = 'a-wrong-token-somebody-tried-0042';
const BASIC_PASSWORD = 'basic-password-for-tests';
const HASH = '[0-9a-f]{64}';

/** A fresh directory for this file's scratch files. */
const scratch = mkdtempSync(path.join(os.tmpdir(), 'remediator-audit-'));
let copies = 0;

/** The event with this id, as the database has it. */
function eventRow(file: string, id: number): { id: number; kind: string; at: string } {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT id, kind, at FROM events WHERE id = ?').get(id) as { id: number; kind: string; at: string };
  } finally {
    db.close();
  }
}

const verify = (args: string[], timeoutMs?: number): Promise<CliResult> => runCli(['audit', 'verify', ...args], timeoutMs ? { timeoutMs } : {});

describe('remediator audit, on the database of a real daemon', () => {
  let daemon: TestDaemon;
  let total: number;
  /** A consistent copy of the daemon's database (SQLite's backup, taken while it runs). */
  const copy = async (): Promise<string> => {
    const dest = path.join(scratch, `copy-${++copies}.db`);
    const db = new Database(daemon.db, { readonly: true });
    try {
      await db.backup(dest);
    } finally {
      db.close();
    }
    return dest;
  };

  before(async () => {
    // The test playbooks, plus one whose read-only step (run in a dry run too) takes a secret.
    const playbooks = path.join(scratch, 'playbooks');
    mkdirSync(playbooks);
    for (const name of readdirSync(TEST_PLAYBOOKS)) copyFileSync(path.join(TEST_PLAYBOOKS, name), path.join(playbooks, name));
    writeFileSync(
      path.join(playbooks, 'uses-secret.yaml'),
      `name: uses-secret\nmatch: { alertname: SecretTest }\nmode: live\nsteps:\n  - name: call\n    readOnly: true\n    run: [${process.execPath}, ${path.join(ROOT, 'test', 'fixtures', 'scripts', 'print-args.mjs')}, '--token={{ secrets.TOKEN }}']\n`,
    );
    daemon = await startTestDaemon({ playbooks, env: { PATH: process.env['PATH'], REMEDIATOR_SECRET_TOKEN: SECRET } });
    for (const name of ['amtool-firing.json', 'prometheus-firing.json', 'api-v2-firing-no-generator-url.json', 'amtool-resolved.json']) {
      assert.equal((await daemon.post(fixtureText(name))).status, 200);
    }
    const secretAlert = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
    (secretAlert.alerts[0] as Record<string, unknown>)['labels'] = { alertname: 'SecretTest' };
    (secretAlert.alerts[0] as Record<string, unknown>)['fingerprint'] = 'feedfacefeedface';
    assert.equal((await daemon.post(secretAlert)).status, 200);
    assert.equal((await daemon.post(fixtureText('amtool-firing.json'), { authorization: `Bearer ${WEBHOOK_TOKEN_NEXT}` })).status, 200);
    assert.equal(
      (await daemon.post(fixtureText('amtool-firing.json'), { authorization: `Basic ${Buffer.from(`am:${BASIC_PASSWORD}`).toString('base64')}` })).status,
      200,
    );
    assert.equal((await daemon.post(fixtureText('amtool-firing.json'), { authorization: `Bearer ${WRONG_TOKEN}` })).status, 401);
    const call = (route: string, body: unknown) =>
      fetch(`${daemon.url}${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await call('/api/pause', { for: '1h', reason: 'audit test' })).status, 200);
    assert.equal((await call('/api/resume', {})).status, 200);
    await daemon.settled();
    total = countRows(daemon.db, 'events');
    assert.ok(total > 20, `a history worth checking (${total} events)`);
  });
  after(async () => {
    await daemon.close();
    removeDir(daemon.dir);
  });

  test('verify, while the daemon runs and holds its lock: intact, with the count (--db or --config)', async () => {
    const r = await verify(['--db', daemon.db]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^audit trail intact: ${total} events, last hash ${HASH} \\(event ${total}, \\S+Z\\)\\n$`));
    const config = path.join(scratch, 'remediator.yaml');
    writeFileSync(config, `db: ${daemon.db}\n`);
    const viaConfig = await verify(['--config', config]);
    assert.equal(viaConfig.code, 0, viaConfig.stderr);
    assert.equal(viaConfig.stdout, r.stdout);
  });

  test('one event changed with SQL: named, with its kind and time', async () => {
    const file = await copy();
    const k = Math.floor(total / 2);
    const e = eventRow(file, k);
    tamper(file, `DROP TRIGGER events_no_update; UPDATE events SET data = json_set(data, '$.note', 'nothing happened') WHERE id = ${k}`);
    const r = await verify(['--db', file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`^audit trail BROKEN: event ${k} \\(${e.kind}, at ${e.at}\\) was altered: its content does not match its hash`));
    assert.match(r.stdout, new RegExp(`\\nthe ${k - 1} event\\(s\\) before it, through event ${k - 1}, are intact\\n$`));
  });

  test('one event changed and rehashed by someone who knows the algorithm: the break after it is named', async () => {
    const file = await copy();
    const k = 5;
    const db = new Database(file);
    const row = db.prepare('SELECT * FROM events WHERE id = ?').get(k) as Record<string, string | number | null>;
    const data = { ...(JSON.parse(String(row['data'])) as Record<string, unknown>), forged: true };
    const forged = eventOfRow(row, data);
    db.exec('DROP TRIGGER events_no_update');
    db.prepare('UPDATE events SET data = ?, hash = ? WHERE id = ?').run(JSON.stringify(data), eventHash(forged), k);
    db.close();
    const r = await verify(['--db', file]);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      new RegExp(`^audit trail BROKEN: the chain breaks between event ${k} and event ${k + 1}: event ${k + 1} was written after a different event ${k}`),
    );
  });

  test('one event deleted: the gap is named', async () => {
    const file = await copy();
    const k = Math.floor(total / 3);
    tamper(file, `DROP TRIGGER events_no_delete; DELETE FROM events WHERE id = ${k}`);
    const r = await verify(['--db', file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`^audit trail BROKEN: an event between ${k - 1} and ${k + 1} is missing \\(event ${k}\\)\\n`));
  });

  test('two events swapped: the first is named', async () => {
    const file = await copy();
    const [a, b] = [7, 12];
    const moved = eventRow(file, b);
    const cols = 'at, kind, run_id, batch_id, playbook, fingerprint, data, prev_hash, hash';
    tamper(
      file,
      `DROP TRIGGER events_no_update;
       CREATE TEMP TABLE t AS SELECT * FROM events WHERE id IN (${a}, ${b});
       UPDATE events SET (${cols}) = (SELECT ${cols} FROM t WHERE t.id = CASE events.id WHEN ${a} THEN ${b} ELSE ${a} END) WHERE id IN (${a}, ${b});`,
    );
    assert.equal(eventRow(file, a).at, moved.at, 'the contents really moved');
    const r = await verify(['--db', file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`^audit trail BROKEN: event ${a} \\(${moved.kind}, at ${moved.at}\\) was altered`));
  });

  test('the tail cut off: the missing events are counted against the head', async () => {
    const file = await copy();
    tamper(file, `DROP TRIGGER events_no_delete; DELETE FROM events WHERE id > ${total - 3}`);
    const r = await verify(['--db', file]);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      new RegExp(`^audit trail BROKEN: the last 3 event\\(s\\) are missing: the chain ends at event ${total - 3}, the head says ${total}\\n`),
    );
  });

  test('export → verify --file: a round trip, to a file or stdout, with the chain hashes', async () => {
    const out = path.join(scratch, 'all.jsonl');
    const exported = await runCli(['audit', 'export', '--db', daemon.db, '--out', out]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, new RegExp(`^exported ${total} events \\(ids 1–${total}\\) to ${out}; last hash ${HASH}\\n`));
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, total);
    const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(first), ['id', 'at', 'kind', 'runId', 'batchId', 'playbook', 'fingerprint', 'data', 'prevHash', 'hash']);
    const toStdout = await runCli(['audit', 'export', '--db', daemon.db]);
    assert.equal(toStdout.code, 0, toStdout.stderr);
    assert.equal(toStdout.stdout, readFileSync(out, 'utf8'));

    const r = await verify(['--file', out]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^audit file intact: ${total} events \\(ids 1–${total}\\), last hash ${HASH}\\nanchor: the file starts at the beginning of the chain \\(event 1, genesis\\)\\n`,
      ),
    );
  });

  test('one line of an export changed, or removed: named by line', async () => {
    const out = path.join(scratch, 'tampered.jsonl');
    assert.equal((await runCli(['audit', 'export', '--db', daemon.db, '--out', out])).code, 0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    const fifth = JSON.parse(lines[4] ?? '{}') as { kind: string; at: string; data: Record<string, unknown> };
    fifth.data['edited'] = 'by hand';
    writeFileSync(out, `${[...lines.slice(0, 4), JSON.stringify(fifth), ...lines.slice(5)].join('\n')}\n`);
    const changed = await verify(['--file', out]);
    assert.equal(changed.code, 1);
    assert.match(changed.stdout, new RegExp(`^audit file BROKEN: line 5: event 5 \\(${fifth.kind}, at ${fifth.at}\\) was altered`));

    writeFileSync(out, `${[...lines.slice(0, 6), ...lines.slice(7)].join('\n')}\n`);
    const removed = await verify(['--file', out]);
    assert.equal(removed.code, 1);
    assert.match(removed.stdout, /^audit file BROKEN: line 7: an event between 6 and 8 is missing \(event 7\)\n/);

    writeFileSync(out, `${lines[0]}\nnot json\n`);
    const garbled = await verify(['--file', out]);
    assert.equal(garbled.code, 1);
    assert.match(garbled.stdout, /^audit file BROKEN: line 2: not JSON/);
  });

  test('no secret and no credential reaches the trail: webhook tokens, basic auth, API token, a wrong token, a playbook secret', async () => {
    const r = await runCli(['audit', 'export', '--db', daemon.db]);
    assert.equal(r.code, 0, r.stderr);
    const kinds = new Set(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { kind: string }).kind),
    );
    for (const k of ['auth.failed', 'paused', 'resumed', 'step.started', 'step.finished']) assert.ok(kinds.has(k), `the export has ${k} events`);
    assert.match(r.stdout, /--token=\*\*\*/, 'the step that used the secret is recorded, redacted');
    for (const secret of [
      WEBHOOK_TOKEN,
      WEBHOOK_TOKEN_NEXT,
      API_TOKEN,
      WRONG_TOKEN,
      BASIC_PASSWORD,
      SECRET,
      Buffer.from(`am:${BASIC_PASSWORD}`).toString('base64'),
    ]) {
      assert.ok(!r.stdout.includes(secret), `the export must not contain ${secret}`);
    }
  });

  test('--file with --db is refused', async () => {
    const r = await verify(['--file', 'x.jsonl', '--db', daemon.db]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot be used with option '--db/);
  });
});

describe('remediator audit export --since/--until', () => {
  let file: string;
  before(async () => {
    file = path.join(scratch, 'timed.db');
    const store = SqliteStore.open(file);
    // One event an hour from 10:00, and one whose clock ran a little behind, recorded after 11:00.
    const at = ['10:00:00.000', '11:00:00.000', '10:59:59.998', '12:00:00.000', '13:00:00.000', '14:00:00.000'];
    for (const [i, t] of at.entries()) await store.appendEvents([{ kind: 'paused', at: `2026-11-28T${t}Z`, data: { i } }]);
    await store.close();
  });

  const exportRange = async (args: string[]) => {
    const out = path.join(scratch, `range-${++copies}.jsonl`);
    const r = await runCli(['audit', 'export', '--db', file, '--out', out, ...args]);
    assert.equal(r.code, 0, r.stderr);
    const events = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: number; at: string });
    return { out, ids: events.map((e) => e.id) };
  };

  test('a range is one contiguous stretch of the chain, from the first event at or after --since to the first at or after --until', async () => {
    assert.deepEqual(
      (await exportRange(['--since', '2026-11-28T11:00:00Z', '--until', '2026-11-28T13:00:00Z'])).ids,
      [2, 3, 4],
      'the late-stamped event 3 is kept: the file must verify',
    );
  });

  test('a range exported mid-chain verifies on its own, its first prev_hash trusted as the anchor', async () => {
    const { out, ids } = await exportRange(['--since', '2026-11-28T13:00:00+01:00']);
    assert.deepEqual(ids, [4, 5, 6], 'a zone offset is honoured');
    const r = await verify(['--file', out]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^audit file intact: 3 events \\(ids 4–6\\), last hash ${HASH}\\nanchor: the first line's prev_hash ${HASH} is trusted, not checked: it must be the hash of event 3`,
      ),
    );
  });

  test('--until alone, an empty range, a duration ago (in process: the same code, without a process per case)', async () => {
    const run = async (opts: { since?: string; until?: string }, now = new Date('2026-11-28T15:00:00Z')) => {
      const sink = new PassThrough();
      let text = '';
      sink.on('data', (d: Buffer) => (text += d.toString('utf8')));
      const summary = await auditExport({ db: file, ...opts }, sink, now);
      return {
        ids: text
          .trimEnd()
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { id: number }).id),
        summary,
      };
    };
    assert.deepEqual((await run({ until: '2026-11-28T12:00:00Z' })).ids, [1, 2, 3]);
    assert.deepEqual((await run({ since: '2h' })).ids, [5, 6], '2h before 15:00 is 13:00');
    assert.deepEqual((await run({ since: '2026-11-28', until: '2026-11-28T10:30:00.000Z' })).ids, [1], 'a date is midnight UTC');
    const none = await run({ since: '2026-11-29' });
    assert.deepEqual(none.ids, []);
    assert.equal(none.summary, 'exported 0 events to stdout: none in the range\n');
    await assert.rejects(
      run({ since: '2026-11-28T10:00:00' }),
      /--since 2026-11-28T10:00:00: give a time such as 2026-11-28T21:00:00Z \(with its zone\), a date \(UTC\), or a duration ago such as 24h/,
    );
    await assert.rejects(
      run({ since: '2026-11-28T12:00:00Z', until: '2026-11-28T11:00:00Z' }),
      /--since 2026-11-28T12:00:00Z is not before --until 2026-11-28T11:00:00Z/,
    );
  });

  test('a time that is not one is refused by the CLI with the forms accepted', async () => {
    const r = await runCli(['audit', 'export', '--db', file, '--since', 'yesterday']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--since yesterday: give a time such as 2026-11-28T21:00:00Z \(with its zone\), a date \(UTC\), or a duration ago such as 24h/);
  });
});

describe('remediator audit on a large history, in bounded memory', () => {
  const N = 200_000;
  let file: string;
  before(async () => {
    file = path.join(scratch, 'large.db');
    const store = SqliteStore.open(file);
    // Through the store's own append path, in one transaction.
    await store.appendEvents(syntheticDecisions(N));
    await store.close();
  });

  // 64 MiB of heap, while the export is larger than that: only streaming can succeed. Real
  // processes, each with that heap.
  const small = { NODE_OPTIONS: '--max-old-space-size=64' };

  test(`export and verify of ${N} events, and verify --file of the export, each with a 64 MiB heap`, async () => {
    const out = path.join(scratch, 'large.jsonl');
    const [exported, fromDb] = await Promise.all([
      spawnCli(['audit', 'export', '--db', file, '--out', out], { env: small, timeoutMs: 120_000 }),
      spawnCli(['audit', 'verify', '--db', file], { env: small, timeoutMs: 120_000 }),
    ]);
    assert.equal(exported.code, 0, exported.stderr);
    let lines = 0;
    for await (const line of createInterface({ input: createReadStream(out), crlfDelay: Infinity })) if (line !== '') lines++;
    assert.equal(lines, N);
    assert.ok(statSync(out).size > 64 * 2 ** 20, `the export (${statSync(out).size} bytes) is larger than the heap`);
    const fromFile = await spawnCli(['audit', 'verify', '--file', out], { env: small, timeoutMs: 120_000 });
    assert.equal(fromFile.code, 0, fromFile.stdout + fromFile.stderr);
    assert.match(fromFile.stdout, new RegExp(`^audit file intact: ${N} events`));
    assert.equal(fromDb.code, 0, fromDb.stdout + fromDb.stderr);
    assert.match(fromDb.stdout, new RegExp(`^audit trail intact: ${N} events`));
  });
});

after(() => removeDir(scratch));
