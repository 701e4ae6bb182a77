import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
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

test('SQLite: reopening a file keeps its data and does not re-run migrations', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-store-'));
  const file = path.join(dir, 'r.db');
  const first = SqliteStore.open(file);
  await first.appendEvents([{ kind: 'auth.failed', data: { n: 1 } }]);
  await first.close();
  const second = SqliteStore.open(file);
  assert.deepEqual((await second.listEvents({ limit: 5 })).map((e) => e.data), [{ n: 1 }]);
  await second.close();
  rmSync(dir, { recursive: true, force: true });
});

test('SQLite: a store that cannot serve gives a retryable store_unavailable error', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-store-'));
  const store = SqliteStore.open(path.join(dir, 'r.db'));
  await store.close();
  await assert.rejects(store.appendEvents([{ kind: 'auth.failed', data: {} }]), (err: { code?: string; retryable?: boolean }) => err.code === 'store_unavailable' && err.retryable === true);
  await assert.rejects(store.ping(), /store: ping failed/);
  rmSync(dir, { recursive: true, force: true });
});

test('SQLite: a path that cannot hold a database fails with a message naming it', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-store-'));
  assert.throws(() => SqliteStore.open(dir), (err: Error) => err.message.includes(`cannot open SQLite database ${dir}`));
  rmSync(dir, { recursive: true, force: true });
});
