// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/record/sqlite/migrations.js';
import { SqliteStore } from '../../src/record/sqlite/sqlite-store.js';
import { storeContract } from './store-contract.js';

storeContract('SQLite', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-store-'));
  return Promise.resolve({ store: SqliteStore.open(path.join(dir, 'r.db')), cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) });
});

test('SQLite: events are append-only at the database level', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-store-'));
  const file = path.join(dir, 'r.db');
  const store = SqliteStore.open(file);
  await store.appendEvents([{ kind: 'auth.failed', data: {} }]);
  await store.close();
  const db = new Database(file);
  assert.throws(() => db.prepare("UPDATE events SET kind = 'x'").run(), /append-only/);
  assert.throws(() => db.prepare('DELETE FROM events').run(), /append-only/);
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

test('SQLite group commit: a batch that cannot be written fails alone, its neighbours in the same commit are stored', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-store-'));
  const store = SqliteStore.open(path.join(dir, 'r.db'));
  const batch = (payload: unknown) =>
    store.saveBatch({ receivedAt: new Date('2026-11-28T21:13:00Z'), receiver: 'r', status: 'firing', groupKey: '{}', alertCount: 0, payload, source: {} });
  // A value JSON.stringify throws on, as it did on 5,000-deep nesting: all queued in one turn, so one commit.
  const poison = {
    toJSON: () => {
      throw new RangeError('Maximum call stack size exceeded');
    },
  };
  const results = await Promise.allSettled([batch({ n: 1 }), batch({ n: 2 }), batch(poison), batch({ n: 3 })]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
  );
  assert.equal(await store.countPendingBatches(), 3);
  const claimed = await store.claimBatches({ owner: 'a', limit: 10, until: '2026-11-28T22:00:00.000Z', now: '2026-11-28T21:14:00.000Z' });
  assert.deepEqual(
    claimed.map((b) => b.payload as { n: number }).sort((x, y) => x.n - y.n),
    [{ n: 1 }, { n: 2 }, { n: 3 }],
  );
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('SQLite: reopening a file keeps its data and does not re-run migrations', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-store-'));
  const file = path.join(dir, 'r.db');
  const first = SqliteStore.open(file);
  await first.appendEvents([{ kind: 'auth.failed', data: { n: 1 } }]);
  await first.close();
  const second = SqliteStore.open(file);
  assert.deepEqual(
    (await second.listEvents({ limit: 5 })).map((e) => e.data),
    [{ n: 1 }],
  );
  await second.close();
  rmSync(dir, { recursive: true, force: true });
});

test('SQLite: a store that cannot serve gives a retryable store_unavailable error', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-store-'));
  const store = SqliteStore.open(path.join(dir, 'r.db'));
  await store.close();
  await assert.rejects(
    store.appendEvents([{ kind: 'auth.failed', data: {} }]),
    (err: { code?: string; retryable?: boolean }) => err.code === 'store_unavailable' && err.retryable === true,
  );
  await assert.rejects(store.ping(), /store: ping failed/);
  rmSync(dir, { recursive: true, force: true });
});

test('SQLite: a path that cannot hold a database fails with a message naming it', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-store-'));
  assert.throws(
    () => SqliteStore.open(dir),
    (err: Error) => err.message.includes(`cannot open SQLite database ${dir}`),
  );
  rmSync(dir, { recursive: true, force: true });
});

test('SQLite: a database of schema 1 is upgraded in place; its runs keep their data and take no lock', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-store-'));
  const file = path.join(dir, 'r.db');
  const old = new Database(file);
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  old.exec(MIGRATIONS[0] ?? '');
  old.prepare('INSERT INTO schema_migrations VALUES (1, ?)').run('2026-01-01T00:00:00.000Z');
  old
    .prepare(
      `INSERT INTO runs (id, playbook, playbook_hash, alertname, fingerprint, starts_at, instance_key, target_key, active_key, dry_run, state, reason, params, labels, annotations, created_at, updated_at)
     VALUES ('r_old', 'rollback', 'h', 'A', 'fp', 's', 'fp@s', 'k', 'k', 1, 'pending', 'x', '{}', '{}', '{}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`,
    )
    .run();
  old.close();
  const store = SqliteStore.open(file);
  assert.equal((await store.getRun('r_old'))?.lockKey, null);
  assert.equal((await store.guardState({ playbook: 'rollback', instanceKey: 'x', targetKey: 'k', since: null, lockKey: 'k' })).lockedBy, null);
  assert.equal((await store.guardState({ playbook: 'rollback', instanceKey: 'x', targetKey: 'k', since: null })).activeRun?.id, 'r_old');
  await store.close();
  const db = new Database(file, { readonly: true });
  assert.equal((db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v, MIGRATIONS.length);
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

test('SQLite: the lock is a unique index, so a direct second insert of the same active lock fails', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-store-'));
  const file = path.join(dir, 'r.db');
  await SqliteStore.open(file).close();
  const db = new Database(file);
  const insert = db.prepare(
    `INSERT INTO runs (id, playbook, playbook_hash, alertname, fingerprint, starts_at, instance_key, target_key, active_key, lock_key, active_lock, dry_run, state, reason, params, labels, annotations, created_at, updated_at)
     VALUES (?, ?, 'h', 'A', 'fp', 's', 'fp@s', ?, ?, 'L', 'L', 1, 'pending', 'x', '{}', '{}', '{}', 't', 't')`,
  );
  insert.run('r1', 'rollback', 'k1', 'k1');
  assert.throws(() => insert.run('r2', 'scale-out', 'k2', 'k2'), /UNIQUE constraint failed: runs.active_lock/);
  db.prepare("UPDATE runs SET state = 'succeeded' WHERE id = 'r1'").run();
  assert.equal(
    (db.prepare("SELECT active_lock FROM runs WHERE id = 'r1'").get() as { active_lock: string | null }).active_lock,
    null,
    'the trigger released it',
  );
  insert.run('r2', 'scale-out', 'k2', 'k2');
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

test('SQLite: one daemon per database file; a stale lock from a dead process is taken over', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-store-'));
  const file = path.join(dir, 'r.db');
  const first = SqliteStore.open(file);
  assert.throws(
    () => SqliteStore.open(file),
    (err: Error) => err.message.includes(`database ${file} is in use by another remediator (pid ${process.pid}, this process)`),
  );
  await first.close();
  // A crashed daemon leaves its lock behind: a pid that no longer runs.
  writeFileSync(`${file}.lock`, '2147483646\n');
  const second = SqliteStore.open(file);
  assert.equal(readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid));
  await second.close();
  assert.equal(existsSync(`${file}.lock`), false, 'closing releases the lock');
  rmSync(dir, { recursive: true, force: true });
});
