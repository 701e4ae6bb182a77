// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { GENESIS_HASH, verifyChain } from '../../src/domain/audit-chain.js';
import { verifyStoreChain } from '../../src/record/audit-verify.js';
import { AuditReader } from '../../src/record/sqlite/audit-reader.js';
import { MIGRATIONS } from '../../src/record/sqlite/migrations.js';
import { SqliteStore } from '../../src/record/sqlite/sqlite-store.js';
import { tamper } from '../support/db.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function tempDb(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-chain-'));
  dirs.push(dir);
  return path.join(dir, 'r.db');
}

/** Verifies the file as `remediator audit verify` does: read-only, one snapshot. */
async function verifyFile(file: string) {
  const reader = AuditReader.open(file);
  try {
    return await reader.verify();
  } finally {
    reader.close();
  }
}

describe('the hash chain in SQLite', () => {
  test('every append links to the one before, across transactions and group-committed batches; the head follows', async () => {
    const file = tempDb();
    const store = SqliteStore.open(file);
    await store.appendEvents([
      { kind: 'auth.failed', data: { b: 1, a: 2 } },
      { kind: 'paused', data: {} },
    ]);
    await Promise.all(
      [1, 2, 3].map((i) =>
        store.saveBatch({ receivedAt: new Date(), receiver: 'r', status: 'firing', groupKey: `g${i}`, alertCount: 0, payload: {}, source: {} }),
      ),
    );
    await store.appendEvents([{ kind: 'resumed', data: { n: 1 } }]);
    const events = await store.auditEvents({ afterId: 0, limit: 100 });
    assert.deepEqual(
      events.map((e) => e.id),
      [1, 2, 3, 4, 5, 6],
    );
    assert.equal(events[0]?.prevHash, GENESIS_HASH);
    events.forEach((e, i) => i > 0 && assert.equal(e.prevHash, events[i - 1]?.hash));
    assert.deepEqual(await store.auditHead(), { baseId: 0, baseHash: GENESIS_HASH, lastId: 6, lastHash: events[5]?.hash });
    assert.equal((await verifyStoreChain(store, 4)).problem, null, 'walked through the Store interface, in pages');
    await store.close();
    const { verdict } = await verifyFile(file);
    assert.equal(verdict.problem, null);
    assert.equal(verdict.count, 6);
  });

  test('data is stored as canonical JSON, the text its hash covers', async () => {
    const file = tempDb();
    const store = SqliteStore.open(file);
    await store.appendEvents([{ kind: 'paused', data: { z: 1, a: { y: 2, b: [3] } } }]);
    await store.close();
    const db = new Database(file, { readonly: true });
    assert.equal((db.prepare('SELECT data FROM events').get() as { data: string }).data, '{"a":{"b":[3],"y":2},"z":1}');
    db.close();
  });

  test('a transaction that fails after appending leaves no trace in the chain', async () => {
    const file = tempDb();
    const store = SqliteStore.open(file);
    await store.appendEvents([{ kind: 'paused', data: {} }]);
    // The second event cannot be written (a bigint has no JSON form): the first is rolled back with it.
    await assert.rejects(
      store.appendEvents([
        { kind: 'resumed', data: {} },
        { kind: 'resumed', data: { n: 1n } },
      ]),
    );
    await store.appendEvents([{ kind: 'resumed', data: { after: 'the failure' } }]);
    assert.deepEqual(
      (await store.auditEvents({ afterId: 0, limit: 10 })).map((e) => [e.id, e.kind]),
      [
        [1, 'paused'],
        [2, 'resumed'],
      ],
    );
    assert.equal((await store.auditHead())?.lastId, 2);
    await store.close();
    assert.equal((await verifyFile(file)).verdict.problem, null);
  });

  test('an append never heals a cut-off tail: it links to the hash the head kept, and the gap is reported', async () => {
    const file = tempDb();
    const store = SqliteStore.open(file);
    await store.appendEvents(Array.from({ length: 5 }, (_, i) => ({ kind: 'auth.failed' as const, data: { i } })));
    await store.close();
    tamper(file, 'DROP TRIGGER events_no_delete; DELETE FROM events WHERE id > 3');
    assert.match((await verifyFile(file)).verdict.problem?.message ?? '', /^the last 2 event\(s\) are missing: the chain ends at event 3, the head says 5$/);
    const again = SqliteStore.open(file);
    await again.appendEvents([{ kind: 'paused', data: {} }]);
    await again.close();
    assert.match((await verifyFile(file)).verdict.problem?.message ?? '', /^2 events between 3 and 6 are missing \(events 4–5\)$/);
  });

  test('an event slipped in beyond the head stops further appends with a clear error, and verify names it', async () => {
    const file = tempDb();
    const store = SqliteStore.open(file);
    await store.appendEvents([{ kind: 'paused', data: {} }]);
    tamper(
      file,
      `INSERT INTO events (id, at, kind, data, prev_hash, hash) VALUES (2, '2026-01-01T00:00:00.000Z', 'resumed', '{}', '${'a'.repeat(64)}', '${'b'.repeat(64)}')`,
    );
    await assert.rejects(
      store.appendEvents([{ kind: 'resumed', data: {} }]),
      /event 2 exists beyond the audit head \(event 1\): the trail was edited outside remediator/,
    );
    await store.close();
    assert.match((await verifyFile(file)).verdict.problem?.message ?? '', /^event 2 \(resumed, at 2026-01-01T00:00:00.000Z\) is beyond the head \(event 1\)/);
  });

  test('the database refuses an event without its hashes, whatever code path writes it', async () => {
    const file = tempDb();
    await SqliteStore.open(file).close();
    assert.throws(() => tamper(file, `INSERT INTO events (at, kind, data) VALUES ('t', 'paused', '{}')`), /events are appended through the hash chain/);
  });

  test('a database from before the chain is chained by the upgrade, oldest first, its data left as it was', async () => {
    const file = tempDb();
    const old = new Database(file);
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    old.exec(MIGRATIONS[0] ?? '');
    old.exec(MIGRATIONS[1] ?? '');
    old.prepare("INSERT INTO schema_migrations VALUES (1, 't'), (2, 't')").run();
    const insert = old.prepare('INSERT INTO events (at, kind, data) VALUES (?, ?, ?)');
    // Written by JSON.stringify, keys in insertion order: not canonical. In one transaction, not
    // one sync to disk per row.
    old.transaction(() => {
      for (let i = 0; i < 12_001; i++) insert.run(`2026-01-01T00:00:00.${String(i % 1000).padStart(3, '0')}Z`, 'auth.failed', JSON.stringify({ z: i, a: 'x' }));
    })();
    old.close();
    assert.throws(() => AuditReader.open(file), /has schema version 2, from before the audit chain: start this version of remediator on it once/);

    const store = SqliteStore.open(file);
    await store.appendEvents([{ kind: 'paused', data: { after: 'upgrade' } }]);
    assert.equal((await verifyStoreChain(store)).problem, null);
    await store.close();
    const { verdict, head } = await verifyFile(file);
    assert.equal(verdict.problem, null);
    assert.equal(verdict.count, 12_002);
    assert.equal(head?.lastId, 12_002);
    const db = new Database(file, { readonly: true });
    assert.equal((db.prepare('SELECT data FROM events WHERE id = 1').get() as { data: string }).data, '{"z":0,"a":"x"}', 'old data untouched');
    assert.throws(() => db.prepare("UPDATE events SET kind = 'x'").run(), /readonly|append-only/);
    db.close();
    assert.throws(() => tamper(file, "UPDATE events SET kind = 'x' WHERE id = 1"), /append-only/, 'the update trigger is back');
  });

  test('the reader works beside the daemon holding the file, and sees one snapshot while it appends', async () => {
    const file = tempDb();
    const store = SqliteStore.open(file);
    await store.appendEvents([
      { kind: 'paused', data: {} },
      { kind: 'resumed', data: {} },
    ]);
    const reader = AuditReader.open(file);
    try {
      const verdict = await reader.snapshot(async () => {
        const head = reader.head();
        await store.appendEvents([{ kind: 'paused', data: { during: 'the walk' } }]);
        return verifyChain(reader.events(1), { head, snapshot: true });
      });
      assert.equal(verdict.problem, null);
      assert.equal(verdict.count, 2, 'the append after the snapshot began is not seen');
      assert.equal((await reader.verify()).verdict.count, 3);
    } finally {
      reader.close();
      await store.close();
    }
  });

  test('the reader names what is wrong with the file it was given', () => {
    const file = tempDb();
    assert.throws(() => AuditReader.open(file), /no database at .*r\.db: give the daemon's --db/);
    writeFileSync(file, '');
    tamper(file, 'CREATE TABLE t (x)');
    assert.throws(() => AuditReader.open(file), /is not a remediator database/);
  });
});
