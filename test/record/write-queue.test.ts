// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { GENESIS_HASH } from '../../src/domain/audit-chain.js';
import { RemediatorError } from '../../src/domain/errors.js';
import { verifyStoreChain } from '../../src/record/audit-verify.js';
import { SqliteStore } from '../../src/record/sqlite/sqlite-store.js';
import { GROUP_MAX_CALLERS, WriteQueue } from '../../src/record/sqlite/write-queue.js';
import { contractRun, contractStep } from './store-contract.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function tempFile(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-writes-'));
  dirs.push(dir);
  return path.join(dir, 'r.db');
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SQLite group commit through the store', () => {
  test('runs moving at once: each is answered after the commit that holds its move; one that fails fails alone; one chain', async () => {
    const file = tempFile();
    const store = SqliteStore.open(file);
    const reader = new Database(file, { readonly: true });
    const stateOf = (id: string) => (reader.prepare('SELECT state FROM runs WHERE id = ?').get(id) as { state: string } | undefined)?.state;
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.createRun(
          contractRun({ fingerprint: `fp${i}`, instanceKey: `fp${i}@x`, targetKey: `t${i}` }),
          [contractStep],
          [{ kind: 'run.created', data: {} }],
        ),
      ),
    );
    const ids = runs.map((r) => r?.id as string);
    // All called in one turn: twenty moves, a run in none of `from`, and an event JSON cannot hold.
    const seenAtAnswer: (string | undefined)[] = [];
    const moves = ids.map((id) =>
      store
        .transitionRun(id, {
          from: ['pending'],
          to: 'running',
          at: '2026-11-28T21:14:00.000Z',
          steps: [{ phase: 'main', index: 0, state: 'running', startedAt: '2026-11-28T21:14:00.000Z' }],
          events: [{ kind: 'run.state', data: { from: 'pending', to: 'running' } }],
        })
        .then((moved) => {
          seenAtAnswer.push(stateOf(id));
          return moved;
        }),
    );
    const notFrom = store.transitionRun(ids[0] as string, { from: ['succeeded'], to: 'failed', at: '2026-11-28T21:14:00.000Z', events: [] });
    const poison = store.appendEvents([{ kind: 'auth.failed', data: { n: 10n } }]);
    const after = store.appendEvents([{ kind: 'auth.failed', data: { n: 1 } }]);
    assert.deepEqual(await Promise.all(moves), Array(20).fill(true));
    assert.equal(await notFrom, false);
    await assert.rejects(poison, (err) => err instanceof RemediatorError && err.code === 'store_unavailable' && /BigInt/i.test(err.message));
    await after;
    assert.deepEqual(seenAtAnswer, Array(20).fill('running'), 'another connection saw each move when its caller was answered');
    const detail = await store.getRun(ids[7] as string);
    assert.equal(detail?.steps[0]?.state, 'running');
    const events = await store.auditEvents({ afterId: 0, limit: 1000 });
    assert.deepEqual(
      events.map((e) => e.id),
      Array.from({ length: 41 }, (_, i) => i + 1),
      '20 created, 20 moved, the event after the one that failed: no gap where it was',
    );
    assert.equal(events[0]?.prevHash, GENESIS_HASH);
    assert.deepEqual(events.at(-1)?.data, { n: 1 });
    assert.equal((await verifyStoreChain(store, 7)).problem, null);
    reader.close();
    await store.close();
  });

  test(`a turn's callers are committed ${GROUP_MAX_CALLERS} at most at a time, with the event loop let in between`, async () => {
    const file = tempFile();
    const store = SqliteStore.open(file);
    const reader = new Database(file, { readonly: true });
    const count = () => (reader.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'paused'").get() as { n: number }).n;
    await store.appendEvents([{ kind: 'auth.failed', data: {} }]); // statements prepared
    const total = 300;
    const all = Promise.all(Array.from({ length: total }, (_, i) => store.appendEvents([{ kind: 'paused', data: { i } }])));
    const seen: number[] = [];
    while (seen.at(-1) !== total) {
      await turn();
      seen.push(count());
    }
    await all;
    const steps = seen.map((n, i) => n - (i === 0 ? 0 : (seen[i - 1] as number))).filter((d) => d > 0);
    assert.ok(Math.max(...steps) <= GROUP_MAX_CALLERS, `at most ${GROUP_MAX_CALLERS} a commit: ${steps.join(', ')}`);
    assert.ok(Math.max(...steps) > 1, `callers share commits: ${steps.join(', ')}`);
    assert.ok(steps.length >= Math.ceil(total / GROUP_MAX_CALLERS), `seen between commits: ${steps.join(', ')}`);
    assert.equal((await verifyStoreChain(store)).problem, null);
    reader.close();
    await store.close();
  });
});

/** A queue on a bare database: a parent table and a child whose foreign key is checked at COMMIT. */
function bareQueue() {
  const db = new Database(tempFile());
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY)');
  db.exec('CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)');
  db.exec('INSERT INTO parent (id) VALUES (1)');
  let resets = 0;
  const queue = new WriteQueue({
    db,
    transaction: (body) => db.transaction(body)(),
    waitFor: () => null,
    resetChain: () => void resets++,
    storeError: (what, err) => new RemediatorError('store_unavailable', `${what}: ${(err as Error).message}`, { cause: err }),
  });
  const child = (id: number, parent: number) => () => db.prepare('INSERT INTO child (id, parent) VALUES (?, ?)').run(id, parent).changes;
  const children = () => (db.prepare('SELECT id FROM child ORDER BY id').all() as { id: number }[]).map((r) => r.id);
  return { db, queue, child, children, resets: () => resets };
}

describe('WriteQueue', () => {
  test('a shared commit that fails (a deferred foreign key) has each caller written again alone: only the one at fault fails', async () => {
    const { db, queue, child, children, resets } = bareQueue();
    const results = await Promise.allSettled([
      queue.write('a', child(1, 1), false),
      queue.write('b', child(2, 99), false),
      queue.write('c', child(3, 1), false),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String((results[1] as PromiseRejectedResult).reason), /b: FOREIGN KEY constraint failed/);
    assert.deepEqual(children(), [1, 3]);
    assert.equal(resets(), 1, 'the audit tip cached for the rolled-back transaction is forgotten');
    assert.equal(db.inTransaction, false);
    db.close();
  });

  test('a transaction SQLite ended under the callers (a full disk does) answers nobody as written: they are written again alone', async () => {
    const { db, queue, child, children } = bareQueue();
    const answered: number[][] = [];
    const a = queue.write('a', child(1, 1), false).then(() => answered.push(children()));
    // What SQLite does on SQLITE_FULL: the whole transaction is gone, the statement's error thrown or not.
    const b = queue.write('b', () => db.exec('ROLLBACK'), false);
    const c = queue.write('c', child(3, 1), false);
    await a;
    await assert.rejects(b, /b: cannot commit - no transaction is active/);
    await c;
    assert.deepEqual(answered, [[1]], 'a was answered once its row was committed, on its own');
    assert.deepEqual(children(), [1, 3]);
    db.close();
  });

  test('bodies run in the order they were called; one durable caller makes its whole commit synchronous=FULL', async () => {
    const { db, queue } = bareQueue();
    const order: string[] = [];
    const sync = (name: string) => () => {
      order.push(name);
      return db.pragma('synchronous', { simple: true }) as number;
    };
    const shared = await Promise.all([queue.write('a', sync('a'), false), queue.write('b', sync('b'), true), queue.write('c', sync('c'), false)]);
    assert.deepEqual(order, ['a', 'b', 'c']);
    assert.deepEqual(shared, [2, 2, 2], 'FULL is 2');
    const before = db.pragma('synchronous', { simple: true }) as number;
    assert.equal(await queue.write('d', sync('d'), false), before, 'and only that commit');
    assert.notEqual(before, 2);
    db.close();
  });
});
