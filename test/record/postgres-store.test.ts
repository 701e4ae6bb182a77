import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NewRun } from '../../src/domain/store.js';
import { verifyStoreChain } from '../../src/record/audit-verify.js';
import { ANALYZED_TABLES } from '../../src/record/postgres/pg-analyze.js';
import { MIGRATIONS } from '../../src/record/postgres/pg-migrations.js';
import { PostgresStore, type PostgresStoreOptions } from '../../src/record/postgres/postgres-store.js';
import { freshSchema, pgExec, pgReachable, pgTestUrl } from '../support/postgres.js';
import { contractRun, contractStep, storeContract } from './store-contract.js';

const reachable = await pgReachable();

/** Runs `fn` with a fresh schema and an opener of stores on it (replicas); closes them and drops the schema after. */
async function onFreshSchema(fn: (schema: string, open: (options?: PostgresStoreOptions) => Promise<PostgresStore>) => Promise<void>): Promise<void> {
  const fresh = await freshSchema();
  const stores: PostgresStore[] = [];
  const open = async (options: PostgresStoreOptions = {}) => {
    const store = await PostgresStore.open(pgTestUrl(), { schema: fresh.schema, ...options });
    stores.push(store);
    return store;
  };
  try {
    await fn(fresh.schema, open);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await fresh.drop();
  }
}

const at = (seconds: number) => new Date(Date.parse('2026-11-28T21:13:00.000Z') + seconds * 1000).toISOString();
// The contract's run, live: these tests act as replicas would.
const run = (over: Partial<NewRun> = {}): NewRun => contractRun({ dryRun: false, reason: 'live', createdAt: at(0), ...over });
const step = contractStep;

if (reachable) {
  storeContract('PostgreSQL', async () => {
    const fresh = await freshSchema();
    return { store: await PostgresStore.open(pgTestUrl(), { schema: fresh.schema }), cleanup: fresh.drop };
  });

  describe('PostgreSQL store', () => {
    test('events are append-only at the database level, and carry their hashes', () =>
      onFreshSchema(async (schema, open) => {
        const store = await open();
        await store.appendEvents([{ kind: 'auth.failed', data: {} }]);
        await assert.rejects(pgExec(`UPDATE ${schema}.events SET kind = 'x'`), /events are append-only/);
        await assert.rejects(pgExec(`DELETE FROM ${schema}.events`), /events are append-only/);
        await assert.rejects(pgExec(`TRUNCATE ${schema}.events`), /events are append-only/);
        await assert.rejects(pgExec(`INSERT INTO ${schema}.events (id, at, kind, data) VALUES (2, 't', 'paused', '{}')`), /null value in column "prev_hash"/);
        assert.equal((await store.listEvents({ limit: 5 })).length, 1);
      }));

    test('the lock is a unique index across playbooks, and the trigger releases it on any terminal state', () =>
      onFreshSchema(async (schema, open) => {
        await open();
        const insert = (id: string, playbook: string) =>
          pgExec(
            `INSERT INTO ${schema}.runs (id, playbook, playbook_hash, alertname, fingerprint, starts_at, instance_key, target_key, active_key, lock_key, active_lock, dry_run, state, reason, params, labels, annotations, created_at, updated_at)
             VALUES ($1, $2, 'h', 'A', 'fp', 's', 'fp@s', $1, $1, 'L', 'L', true, 'pending', 'x', '{}', '{}', '{}', 't', 't')`,
            [id, playbook],
          );
        await insert('r1', 'rollback');
        await assert.rejects(insert('r2', 'scale-out'), /duplicate key value violates unique constraint "runs_active_lock"/);
        await pgExec(`UPDATE ${schema}.runs SET state = 'succeeded' WHERE id = 'r1'`);
        assert.deepEqual(await pgExec(`SELECT active_lock FROM ${schema}.runs WHERE id = 'r1'`), [{ active_lock: null }], 'the trigger released it');
        await insert('r2', 'scale-out');
      }));

    test('times and JSON are stored as text exactly as given, and every text column compares bytewise, as in SQLite', () =>
      onFreshSchema(async (schema, open) => {
        const store = await open();
        await store.createRun(run(), [step], [{ kind: 'run.created', data: { z: 1, a: { y: 2, b: [3] } } }]);
        const [row] = await pgExec(`SELECT starts_at, params FROM ${schema}.runs`);
        assert.deepEqual(row, { starts_at: '2026-11-28T21:12:23.687341347Z', params: '{"namespace":"shop"}' });
        assert.deepEqual(await pgExec(`SELECT data FROM ${schema}.events`), [{ data: '{"a":{"b":[3],"y":2},"z":1}' }]);
        // Whatever the database's collation: in en_US, "…:00Z" sorts after "…:00.000Z"; bytewise, before.
        const notBytewise = await pgExec(
          `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1 AND data_type = 'text' AND collation_name IS DISTINCT FROM 'C' AND table_name <> 'schema_migrations'`,
          [schema],
        );
        assert.deepEqual(notBytewise, []);
      }));

    test('text with a NUL character (binary command output) is stored, as U+FFFD', () =>
      onFreshSchema(async (_schema, open) => {
        const store = await open();
        const r = run();
        await store.createRun(r, [step], []);
        assert.ok(
          await store.transitionRun(r.id, {
            from: ['pending'],
            to: 'running',
            at: at(1),
            steps: [{ phase: 'main', index: 0, state: 'succeeded', output: 'a\u0000b' }],
            events: [{ kind: 'step.finished', data: { output: 'a\u0000b' } }],
          }),
        );
        const detail = await store.getRun(r.id);
        assert.equal(detail?.steps[0]?.output, 'a\uFFFDb');
        assert.equal(detail?.events[0]?.data['output'], 'a\u0000b', 'JSON text escapes it and keeps it');
        assert.equal((await verifyStoreChain(store)).problem, null);
      }));

    test('two stores (two replicas) appending at once extend one chain, with consecutive ids', () =>
      onFreshSchema(async (_schema, open) => {
        const [a, b] = [await open(), await open()];
        const appends = (store: PostgresStore, name: string) =>
          Array.from({ length: 200 }, (_, i) => store.appendEvents([{ kind: 'auth.failed', data: { store: name, i } }]));
        const runs = (store: PostgresStore, name: string) =>
          Array.from({ length: 10 }, async (_, i) => {
            const r = run({ instanceKey: `${name}-${i}`, targetKey: `${name}-${i}`, fingerprint: name });
            assert.ok(await store.createRun(r, [step], [{ kind: 'run.created', data: {} }]));
            assert.ok(
              await store.transitionRun(r.id, { from: ['pending'], to: 'running', at: at(1), events: [{ kind: 'run.state', data: { to: 'running' } }] }),
            );
          });
        await Promise.all([...appends(a, 'a'), ...runs(a, 'a'), ...appends(b, 'b'), ...runs(b, 'b')]);
        const total = 2 * 200 + 2 * 10 * 2;
        const verdict = await verifyStoreChain(b, 100);
        assert.equal(verdict.problem, null);
        assert.equal(verdict.count, total);
        const head = await a.auditHead();
        assert.equal(head?.lastId, total);
        const events = await a.auditEvents({ afterId: 0, limit: 1000 });
        assert.deepEqual(
          events.map((e) => e.id),
          Array.from({ length: total }, (_, i) => i + 1),
        );
        assert.equal(events.filter((e) => e.data['store'] === 'a').length, 200);
        assert.equal(events.filter((e) => e.data['store'] === 'b').length, 200);
      }));

    test('the same alert instance created by two replicas at once: exactly one run', () =>
      onFreshSchema(async (_schema, open) => {
        const [a, b] = [await open(), await open()];
        for (let i = 0; i < 20; i++) {
          const instance = { instanceKey: `fp@${i}`, fingerprint: `fp${i}` };
          const results = await Promise.all([
            a.createRun(run({ ...instance, targetKey: `a${i}` }), [step], [{ kind: 'run.created', data: {} }]),
            b.createRun(run({ ...instance, targetKey: `b${i}` }), [step], [{ kind: 'run.created', data: {} }]),
          ]);
          assert.equal(results.filter((r) => r !== null).length, 1, `instance ${i}`);
        }
        assert.equal((await a.listRuns({ limit: 100 })).runs.length, 20);
        assert.equal((await b.listEvents({ limit: 100, kind: 'run.created' })).length, 20, 'the loser wrote no event');
        assert.equal((await verifyStoreChain(a)).problem, null);
      }));

    test('one approval decided through two replicas at once: exactly one wins', () =>
      onFreshSchema(async (_schema, open) => {
        const [a, b] = [await open(), await open()];
        for (let i = 0; i < 5; i++) {
          const r = run({ instanceKey: `fp@${i}`, targetKey: `t${i}`, needsApproval: true });
          await a.createRun(r, [step], []);
          await a.transitionRun(r.id, { from: ['pending'], to: 'running', at: at(1) });
          await a.holdForApproval(r.id, { at: at(2), expiresAt: at(900), phase: 'main', stepIndex: 0, stepName: 'undo', approvers: [], message: null });
          const approve = (store: typeof a, by: { id: string; via: 'api' | 'slack' }, owner: string) =>
            store.decideApproval({ runId: r.id, verdict: 'approve', by, comment: null, at: at(3), lease: { owner, until: at(60) } });
          const outcomes = await Promise.all([approve(a, { id: 'alice', via: 'api' }, 'a'), approve(b, { id: 'bob', via: 'slack' }, 'b')]);
          const won = outcomes.filter((o) => o.ok);
          assert.equal(won.length, 1);
          const winner = won[0]?.ok ? won[0].approval.decidedBy : null;
          const lost = outcomes.find((o) => !o.ok);
          assert.deepEqual(lost && !lost.ok ? [lost.why, lost.approval?.decidedBy, lost.run?.state] : null, ['not_awaiting', winner, 'running']);
          const detail = await b.getRun(r.id);
          assert.equal(detail?.events.filter((e) => e.kind === 'approval.granted').length, 1);
          assert.equal(detail?.owner, winner === 'alice' ? 'a' : 'b', 'the winner executes it');
        }
      }));

    test('two replicas claiming at once take different batches; the decision lock is one across them', () =>
      onFreshSchema(async (_schema, open) => {
        const [a, b] = [await open(), await open()];
        for (let i = 0; i < 4; i++) {
          await a.saveBatch({ receivedAt: new Date(at(i)), receiver: 'r', status: 'firing', groupKey: `g${i}`, alertCount: 0, payload: { i }, source: {} });
        }
        const claims = await Promise.all([
          a.claimBatches({ owner: 'a', limit: 2, until: at(60), now: at(5) }),
          b.claimBatches({ owner: 'b', limit: 2, until: at(60), now: at(5) }),
        ]);
        const ids = claims.flat().map((c) => c.id);
        assert.equal(new Set(ids).size, 4, 'every batch claimed once');

        let inside = 0;
        let overlaps = 0;
        const holder = (store: PostgresStore) =>
          store.withDecisionLock(async () => {
            inside++;
            if (inside > 1) overlaps++;
            await store.ping();
            await new Promise((resolve) => setTimeout(resolve, 10));
            inside--;
          });
        await Promise.all([a, b, a, b, a, b].map(holder));
        assert.equal(overlaps, 0);
      }));

    test('replicas opening one empty schema at once migrate it once; a missing schema is created', () =>
      onFreshSchema(async (schema, open) => {
        await pgExec(`DROP SCHEMA ${schema}`);
        const stores = await Promise.all([open(), open(), open()]);
        const rows = await pgExec(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
        assert.deepEqual(
          rows.map((r) => r['version']),
          MIGRATIONS.map((_, i) => i + 1),
        );
        await Promise.all(stores.map((s) => s.appendEvents([{ kind: 'paused', data: {} }])));
        assert.equal((await verifyStoreChain(stores[0])).count, 3);
      }));

    test('reopening keeps the data and does not migrate again; a newer schema is refused', () =>
      onFreshSchema(async (schema, open) => {
        const first = await open();
        await first.appendEvents([{ kind: 'auth.failed', data: { n: 1 } }]);
        await first.close();
        const second = await open();
        assert.deepEqual(
          (await second.listEvents({ limit: 5 })).map((e) => e.data),
          [{ n: 1 }],
        );
        assert.equal((await pgExec(`SELECT COUNT(*)::int AS n FROM ${schema}.schema_migrations`))[0]?.['n'], MIGRATIONS.length);
        await pgExec(`INSERT INTO ${schema}.schema_migrations VALUES (99, 't')`);
        await assert.rejects(open(), /database schema version 99 is newer than this remediator knows/);
      }));

    test('the hot tables are analysed at every open: on a fresh schema, and again once they grew while no store was open', () =>
      onFreshSchema(async (schema, open) => {
        const first = await open();
        const stats = () =>
          pgExec<{ relname: string; last_analyze: Date | null; reltuples: number }>(
            `SELECT t.relname, t.last_analyze, c.reltuples FROM pg_stat_user_tables t JOIN pg_class c ON c.oid = t.relid
             WHERE t.schemaname = $1 AND t.relname = ANY($2) ORDER BY t.relname`,
            [schema, ANALYZED_TABLES],
          );
        const fresh = await stats();
        assert.deepEqual(
          fresh.map((r) => r.relname),
          [...ANALYZED_TABLES].sort(),
        );
        for (const r of fresh) assert.ok(r.last_analyze !== null, `${r.relname} analysed after the migrations`);
        await first.close();
        // Grown behind the store's back (a restore, an import): 2,000 runs with a step each.
        await pgExec(
          `INSERT INTO ${schema}.runs (id, playbook, playbook_hash, alertname, fingerprint, starts_at, instance_key, target_key, dry_run, state,
             reason, params, labels, annotations, created_at, updated_at)
           SELECT 'r' || lpad(g::text, 6, '0'), 'p', 'h', 'A', 'fp' || g, 's', 'i' || g, 't' || g, g % 10 <> 0, 'succeeded', 'x', '{}', '{}', '{}',
             '2026-12-02T10:00:00.000Z', '2026-12-02T10:00:00.000Z'
           FROM generate_series(1, 2000) g`,
        );
        await pgExec(
          `INSERT INTO ${schema}.run_steps (run_id, phase, idx, name, kind, read_only, rendered, deferred, state)
           SELECT 'r' || lpad(g::text, 6, '0'), 'main', 0, 'n', 'notify', true, '{}', false, 'succeeded' FROM generate_series(1, 2000) g`,
        );
        await open();
        const grown = new Map((await stats()).map((r) => [r.relname, r.reltuples]));
        assert.equal(grown.get('runs'), 2000, 'the planner knows the rows that came meanwhile');
        assert.equal(grown.get('run_steps'), 2000);
      }));

    test('once it has created analyzeAfterRuns runs, the store analyses once more: a fresh database is not planned as empty all through a storm', () =>
      onFreshSchema(async (schema, open) => {
        const store = await open({ analyzeAfterRuns: 3 });
        const runs = async () => (await pgExec<{ reltuples: number }>(`SELECT reltuples FROM pg_class WHERE oid = '${schema}.runs'::regclass`))[0]?.reltuples;
        assert.equal(await runs(), 0, 'analysed empty at the start');
        for (const i of [1, 2, 3]) await store.createRun(run({ instanceKey: `i${i}`, targetKey: `t${i}` }), [step], []);
        await store.close(); // waits for the ANALYZE it started
        assert.equal(await runs(), 3);
      }));

    test('a transaction that fails after appending leaves no gap in the chain', () =>
      onFreshSchema(async (_schema, open) => {
        const store = await open();
        await store.appendEvents([{ kind: 'paused', data: {} }]);
        await assert.rejects(
          store.appendEvents([
            { kind: 'resumed', data: {} },
            { kind: 'resumed', data: { n: 1n } },
          ]),
        );
        await assert.rejects(store.createRun(run({ id: 'r_dup' }), [step, step], [{ kind: 'run.created', data: {} }]), /duplicate key/);
        await store.appendEvents([{ kind: 'resumed', data: { after: 'the failures' } }]);
        assert.deepEqual(
          (await store.auditEvents({ afterId: 0, limit: 10 })).map((e) => [e.id, e.kind]),
          [
            [1, 'paused'],
            [2, 'resumed'],
          ],
        );
        assert.equal(await store.getRun('r_dup'), null);
        assert.equal((await verifyStoreChain(store)).problem, null);
      }));

    test('an event slipped in beyond the head stops appends with a clear error, and verify names it', () =>
      onFreshSchema(async (schema, open) => {
        const store = await open();
        await store.appendEvents([{ kind: 'paused', data: {} }]);
        await pgExec(`INSERT INTO ${schema}.events (id, at, kind, data, prev_hash, hash) VALUES (2, '2026-01-01T00:00:00.000Z', 'resumed', '{}', $1, $2)`, [
          'a'.repeat(64),
          'b'.repeat(64),
        ]);
        await assert.rejects(
          store.appendEvents([{ kind: 'resumed', data: {} }]),
          /event 2 exists beyond the audit head \(event 1\): the trail was edited outside remediator/,
        );
        assert.equal((await store.auditHead())?.lastId, 1);
        assert.equal((await verifyStoreChain(store)).problem, null, 'a walk through the store stops at the head');
      }));

    test('a store that cannot serve fails with a retryable store_unavailable error that never shows the password', async () => {
      await assert.rejects(PostgresStore.open('postgres://postgres:s3cr3t-pw@127.0.0.1:1/test'), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'store_unavailable');
        assert.match(err.message, /^cannot open the PostgreSQL store at postgres:\/\/postgres@127\.0\.0\.1:1\/test: /);
        assert.doesNotMatch(err.message, /s3cr3t/);
        return true;
      });
      await assert.rejects(
        PostgresStore.open('postgres://postgres:s3cr3t-pw@[bad/test'),
        (err: Error) => err.message.includes('cannot open the PostgreSQL store') && !err.message.includes('s3cr3t'),
      );
      await assert.rejects(PostgresStore.open(pgTestUrl(), { schema: 'Bad-Name' }), /schema "Bad-Name" is not valid/);
      await onFreshSchema(async (_schema, open) => {
        const store = await open();
        await store.close();
        await assert.rejects(
          store.appendEvents([{ kind: 'auth.failed', data: {} }]),
          (err: { code?: string; retryable?: boolean }) => err.code === 'store_unavailable' && err.retryable === true,
        );
        await assert.rejects(store.ping(), /store: ping failed/);
      });
    });
  });
}
