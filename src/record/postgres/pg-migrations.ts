import type pg from 'pg';
import { GENESIS_HASH } from '../../domain/audit-chain.js';
import { RemediatorError } from '../../domain/errors.js';
import { MIGRATION_LOCK_CLASS, schemaKey } from './pg-connection.js';
import { analyzeTables } from './pg-analyze.js';
import type { Row } from './pg-rows.js';

/**
 * Schema versions, applied in order, one transaction each. Never edit a shipped migration: add a
 * new one. Version 1 is the SQLite schema at its version 6, with the same tables, columns,
 * unique constraints and triggers, so the two stores behave the same:
 * - every text column compares bytewise (COLLATE "C"), as SQLite does: times are ISO UTC text and
 *   compared as text, ids sort by creation; the database's own collation would order them otherwise;
 * - times and JSON are text, stored exactly as given (a startsAt keeps its nanoseconds, event data
 *   its canonical text, which its hash covers); flags are BOOLEAN; event ids BIGINT, given by the
 *   chain writer (no sequence: see pg-event-chain.ts).
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE batches (
    id TEXT COLLATE "C" PRIMARY KEY,
    received_at TEXT COLLATE "C" NOT NULL,
    receiver TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    group_key TEXT COLLATE "C" NOT NULL,
    alert_count INTEGER NOT NULL,
    payload TEXT COLLATE "C" NOT NULL,
    processed_at TEXT COLLATE "C",
    -- The replica processing the batch, until when (claimed with FOR UPDATE SKIP LOCKED).
    claimed_by TEXT COLLATE "C",
    claimed_until TEXT COLLATE "C"
  );
  CREATE INDEX batches_pending ON batches (received_at, id) WHERE processed_at IS NULL;

  CREATE TABLE runs (
    id TEXT COLLATE "C" PRIMARY KEY,
    playbook TEXT COLLATE "C" NOT NULL,
    playbook_hash TEXT COLLATE "C" NOT NULL,
    batch_id TEXT COLLATE "C" REFERENCES batches (id),
    alertname TEXT COLLATE "C" NOT NULL,
    fingerprint TEXT COLLATE "C" NOT NULL,
    starts_at TEXT COLLATE "C" NOT NULL,
    instance_key TEXT COLLATE "C" NOT NULL,
    target_key TEXT COLLATE "C" NOT NULL,
    -- target_key while the run is not over, NULL after: one active run per playbook and target.
    active_key TEXT COLLATE "C",
    lock_key TEXT COLLATE "C",
    -- lock_key while the run is not over, NULL after: one active run per lock key, across playbooks.
    active_lock TEXT COLLATE "C",
    dry_run BOOLEAN NOT NULL,
    needs_approval BOOLEAN NOT NULL DEFAULT false,
    generator_url TEXT COLLATE "C",
    state TEXT COLLATE "C" NOT NULL,
    reason TEXT COLLATE "C" NOT NULL,
    params TEXT COLLATE "C" NOT NULL,
    labels TEXT COLLATE "C" NOT NULL,
    annotations TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    finished_at TEXT COLLATE "C",
    resolved_at TEXT COLLATE "C",
    -- The replica executing the run, and until when without a heartbeat (its lease).
    owner TEXT COLLATE "C",
    lease_until TEXT COLLATE "C",
    UNIQUE (playbook, instance_key)
  );
  -- Partial unique indexes: INSERT … ON CONFLICT DO NOTHING (no target) yields to them all.
  CREATE UNIQUE INDEX runs_active_key ON runs (playbook, active_key) WHERE active_key IS NOT NULL;
  CREATE UNIQUE INDEX runs_active_lock ON runs (active_lock) WHERE active_lock IS NOT NULL;
  CREATE INDEX runs_state ON runs (state, id DESC);
  CREATE INDEX runs_playbook ON runs (playbook, id DESC);
  CREATE INDEX runs_target ON runs (playbook, target_key, created_at DESC);
  CREATE INDEX runs_instance ON runs (fingerprint, starts_at);
  -- The global budget counts live runs by creation time.
  CREATE INDEX runs_live ON runs (created_at) WHERE NOT dry_run;
  CREATE INDEX runs_running_lease ON runs (lease_until) WHERE state = 'running';

  -- Whatever code path ends a run, its lock ends with it.
  CREATE FUNCTION runs_release_lock() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    NEW.active_lock := NULL;
    RETURN NEW;
  END $$;
  CREATE TRIGGER runs_release_lock BEFORE UPDATE OF state ON runs FOR EACH ROW
    WHEN (NEW.active_lock IS NOT NULL AND NEW.state IN ('succeeded', 'failed', 'cancelled', 'rejected', 'expired', 'interrupted'))
    EXECUTE FUNCTION runs_release_lock();

  CREATE TABLE run_steps (
    run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (id),
    phase TEXT COLLATE "C" NOT NULL,
    idx INTEGER NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    read_only BOOLEAN NOT NULL,
    rendered TEXT COLLATE "C" NOT NULL,
    deferred BOOLEAN NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    started_at TEXT COLLATE "C",
    finished_at TEXT COLLATE "C",
    exit_code INTEGER,
    output TEXT COLLATE "C",
    error TEXT COLLATE "C",
    -- What {{ steps.NAME.* }} reads, kept so that a run resumed after an approval renders its
    -- later steps exactly as it would have without the wait.
    vars TEXT COLLATE "C",
    PRIMARY KEY (run_id, phase, idx)
  );

  -- The audit trail: a hash chain (see src/domain/audit-chain.ts), append-only. The hashes are
  -- NOT NULL, so no code path can append outside the chain.
  CREATE TABLE events (
    id BIGINT PRIMARY KEY,
    at TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    run_id TEXT COLLATE "C",
    batch_id TEXT COLLATE "C",
    playbook TEXT COLLATE "C",
    fingerprint TEXT COLLATE "C",
    data TEXT COLLATE "C" NOT NULL,
    prev_hash TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL
  );
  CREATE INDEX events_run ON events (run_id, id) WHERE run_id IS NOT NULL;
  CREATE INDEX events_kind ON events (kind, id);
  CREATE INDEX events_playbook ON events (playbook, id) WHERE playbook IS NOT NULL;
  CREATE INDEX events_at ON events (at);
  CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION 'events are append-only';
  END $$;
  CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only();
  CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only();
  CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

  -- One row: where the chain starts and the last event appended, moved in the same transaction as
  -- every append. A tail cut off the events table leaves a shorter chain that is valid on its own;
  -- this row is what tells.
  CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    base_id BIGINT NOT NULL,
    base_hash TEXT COLLATE "C" NOT NULL,
    last_id BIGINT NOT NULL,
    last_hash TEXT COLLATE "C" NOT NULL
  );
  INSERT INTO audit_head (id, base_id, base_hash, last_id, last_hash) VALUES (1, 0, '${GENESIS_HASH}', 0, '${GENESIS_HASH}');

  -- One row: the last opening of the circuit, closed or not (the events keep the history).
  CREATE TABLE circuit (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    opened_at TEXT COLLATE "C" NOT NULL,
    reason TEXT COLLATE "C" NOT NULL,
    opened_by TEXT COLLATE "C" NOT NULL,
    closed_at TEXT COLLATE "C",
    closed_by TEXT COLLATE "C",
    close_note TEXT COLLATE "C"
  );
  -- One row: the last pause set, lifted or not; it ends by itself at until.
  CREATE TABLE pause (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    paused_at TEXT COLLATE "C" NOT NULL,
    until TEXT COLLATE "C" NOT NULL,
    reason TEXT COLLATE "C" NOT NULL,
    paused_by TEXT COLLATE "C" NOT NULL,
    resumed_at TEXT COLLATE "C",
    resumed_by TEXT COLLATE "C"
  );

  -- Approvals: a run holds for a person's decision; each request is a row, decided once.
  CREATE TABLE approvals (
    run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (id),
    seq INTEGER NOT NULL,
    phase TEXT COLLATE "C" NOT NULL,
    step_idx INTEGER NOT NULL,
    step_name TEXT COLLATE "C" NOT NULL,
    requested_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL,
    approvers TEXT COLLATE "C" NOT NULL,
    message TEXT COLLATE "C",
    decision TEXT COLLATE "C",
    decided_by TEXT COLLATE "C",
    decided_via TEXT COLLATE "C",
    decided_at TEXT COLLATE "C",
    comment TEXT COLLATE "C",
    PRIMARY KEY (run_id, seq)
  );
  CREATE INDEX approvals_open ON approvals (expires_at) WHERE decision IS NULL;
  -- Where a notifier posted a run's message (Slack channel and ts), so later states update it.
  CREATE TABLE run_messages (
    run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (id),
    notifier TEXT COLLATE "C" NOT NULL,
    channel TEXT COLLATE "C" NOT NULL,
    ts TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (run_id, notifier)
  );
  `,
  // 2: retention may delete the oldest events, in its own transaction only (SET LOCAL).
  `
  CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'DELETE' AND current_setting('remediator.pruning', true) = 'on' THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION 'events are append-only';
  END $$;
  `,
  // 3: listing at a million rows, as SQLite's version 7.
  `
  CREATE INDEX runs_playbook_state ON runs (playbook, state, id DESC);
  CREATE INDEX events_playbook_at ON events (playbook, at) WHERE playbook IS NOT NULL;
  CREATE INDEX events_kind_at ON events (kind, at);
  `,
  // 4: Slack requests already accepted, as SQLite's version 8: every replica refuses a replay.
  `
  CREATE TABLE seen_requests (key TEXT COLLATE "C" PRIMARY KEY, stale_at TEXT COLLATE "C" NOT NULL);
  CREATE INDEX seen_requests_stale ON seen_requests (stale_at);
  `,
  // 5: the Alertmanager silence of a run, as SQLite's version 9.
  `
  ALTER TABLE runs ADD COLUMN silence_id TEXT COLLATE "C";
  `,
  // 6: escalations, as SQLite's version 10: one open per playbook and target key, for every replica.
  `
  CREATE TABLE escalations (
    id TEXT COLLATE "C" PRIMARY KEY,
    playbook TEXT COLLATE "C" NOT NULL,
    target_key TEXT COLLATE "C" NOT NULL,
    opened_at TEXT COLLATE "C" NOT NULL,
    reason TEXT COLLATE "C" NOT NULL,
    runs TEXT COLLATE "C" NOT NULL,
    cleared_at TEXT COLLATE "C",
    cleared_by TEXT COLLATE "C",
    clear_note TEXT COLLATE "C"
  );
  CREATE UNIQUE INDEX escalations_open ON escalations (playbook, target_key) WHERE cleared_at IS NULL;
  CREATE INDEX escalations_cleared ON escalations (playbook, target_key, cleared_at);
  `,
  // 7: guards.group, as SQLite's version 11.
  `
  CREATE TABLE group_seen (
    playbook TEXT COLLATE "C" NOT NULL,
    group_key TEXT COLLATE "C" NOT NULL,
    target_key TEXT COLLATE "C" NOT NULL,
    seen_at TEXT COLLATE "C" NOT NULL,
    run_id TEXT COLLATE "C"
  );
  CREATE INDEX group_seen_window ON group_seen (playbook, group_key, seen_at);
  `,
  // 8: guards.storm, as SQLite's version 12: one open storm for every replica.
  `
  CREATE TABLE storm_seen (
    instance_key TEXT COLLATE "C" PRIMARY KEY,
    target_key TEXT COLLATE "C" NOT NULL,
    playbook TEXT COLLATE "C" NOT NULL,
    alertname TEXT COLLATE "C" NOT NULL,
    labels TEXT COLLATE "C" NOT NULL,
    generator_url TEXT COLLATE "C",
    seen_at TEXT COLLATE "C" NOT NULL,
    storm_id TEXT COLLATE "C"
  );
  CREATE INDEX storm_seen_window ON storm_seen (seen_at);
  CREATE INDEX storm_seen_storm ON storm_seen (storm_id, target_key);
  CREATE TABLE storms (
    id TEXT COLLATE "C" PRIMARY KEY,
    opened_at TEXT COLLATE "C" NOT NULL,
    last_alert_at TEXT COLLATE "C" NOT NULL,
    ended_at TEXT COLLATE "C",
    alerts INTEGER NOT NULL,
    targets INTEGER NOT NULL,
    playbooks TEXT COLLATE "C" NOT NULL,
    common_labels TEXT COLLATE "C" NOT NULL,
    generator_url TEXT COLLATE "C",
    message_channel TEXT COLLATE "C",
    message_ts TEXT COLLATE "C"
  );
  CREATE UNIQUE INDEX storms_open ON storms ((1)) WHERE ended_at IS NULL;
  CREATE INDEX storms_opened ON storms (opened_at);
  ALTER TABLE runs ADD COLUMN storm_id TEXT COLLATE "C";
  CREATE INDEX runs_storm ON runs (storm_id) WHERE storm_id IS NOT NULL;
  `,
];

/**
 * Brings the schema up to date. Replicas starting together take turns on a session advisory
 * lock (per schema), and each reads the version only once it holds it: the first migrates, the
 * others find nothing to do. The schema is created when missing. A failure discards the
 * connection, which ends the session and with it the lock.
 */
export async function migrate(pool: pg.Pool, schema: string, clock: () => Date): Promise<void> {
  const client = await pool.connect();
  const key = schemaKey(schema);
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [MIGRATION_LOCK_CLASS, key]);
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    // The name passed checkSchemaName, or came from current_schema(): safe between quotes.
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`);
    const { rows } = await client.query<Row>(`SELECT COALESCE(MAX(version), 0) AS v FROM "${schema}".schema_migrations`);
    const current = Number(rows[0]?.['v'] ?? 0);
    if (current > MIGRATIONS.length) {
      throw new RemediatorError(
        'store_unavailable',
        `database schema version ${current} is newer than this remediator knows (${MIGRATIONS.length}): upgrade remediator`,
      );
    }
    for (const [i, sql] of MIGRATIONS.slice(current).entries()) {
      await client.query(`BEGIN; SET LOCAL search_path TO "${schema}"`);
      await client.query(sql);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [current + i + 1, clock().toISOString()]);
      await client.query('COMMIT');
    }
    await analyzeTables(client, schema);
    await client.query('SELECT pg_advisory_unlock($1, $2)', [MIGRATION_LOCK_CLASS, key]);
    client.release();
  } catch (err) {
    client.release(true);
    throw err;
  }
}
