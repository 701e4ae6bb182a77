import type Database from 'better-sqlite3';
import { RemediatorError } from '../../domain/errors.js';
import { chainExistingEvents } from './event-chain.js';

/** Version 1's trigger that refuses updates of events, as written there; migration 3 lifts it for a moment. */
const EVENTS_NO_UPDATE = "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;";

/**
 * Schema versions, applied in order inside one transaction each. Never edit a shipped migration:
 * add a new one, so every existing database reaches the same schema.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE batches (
    id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    receiver TEXT NOT NULL,
    status TEXT NOT NULL,
    group_key TEXT NOT NULL,
    alert_count INTEGER NOT NULL,
    payload TEXT NOT NULL,
    processed_at TEXT
  );
  CREATE INDEX batches_pending ON batches (received_at) WHERE processed_at IS NULL;

  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    playbook TEXT NOT NULL,
    playbook_hash TEXT NOT NULL,
    batch_id TEXT REFERENCES batches (id),
    alertname TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    instance_key TEXT NOT NULL,
    target_key TEXT NOT NULL,
    -- target_key while the run is not over, NULL after: the unique index below allows one active
    -- run per playbook and target, decided by the database rather than by a read-then-write.
    active_key TEXT,
    dry_run INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    params TEXT NOT NULL,
    labels TEXT NOT NULL,
    annotations TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    resolved_at TEXT,
    UNIQUE (playbook, instance_key)
  );
  CREATE UNIQUE INDEX runs_active_key ON runs (playbook, active_key) WHERE active_key IS NOT NULL;
  CREATE INDEX runs_created ON runs (id DESC);
  CREATE INDEX runs_state ON runs (state, id DESC);
  CREATE INDEX runs_playbook ON runs (playbook, id DESC);
  CREATE INDEX runs_target ON runs (playbook, target_key, created_at DESC);
  CREATE INDEX runs_instance ON runs (fingerprint, starts_at);

  CREATE TABLE run_steps (
    run_id TEXT NOT NULL REFERENCES runs (id),
    phase TEXT NOT NULL,
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    read_only INTEGER NOT NULL,
    rendered TEXT NOT NULL,
    deferred INTEGER NOT NULL,
    state TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    exit_code INTEGER,
    output TEXT,
    error TEXT,
    PRIMARY KEY (run_id, phase, idx)
  );

  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    run_id TEXT,
    batch_id TEXT,
    playbook TEXT,
    fingerprint TEXT,
    data TEXT NOT NULL
  );
  CREATE INDEX events_run ON events (run_id, id) WHERE run_id IS NOT NULL;
  CREATE INDEX events_kind ON events (kind, id);
  CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
  CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
  `,
  // 2: locks across playbooks, the global budget, the circuit and the pause.
  `
  ALTER TABLE runs ADD COLUMN lock_key TEXT;
  -- lock_key while the run is not over, NULL after: one active run per lock key, across playbooks.
  ALTER TABLE runs ADD COLUMN active_lock TEXT;
  CREATE UNIQUE INDEX runs_active_lock ON runs (active_lock) WHERE active_lock IS NOT NULL;
  -- Whatever code path ends a run, its lock ends with it.
  CREATE TRIGGER runs_release_lock AFTER UPDATE OF state ON runs
    WHEN NEW.active_lock IS NOT NULL AND NEW.state IN ('succeeded', 'failed', 'cancelled', 'rejected', 'expired', 'interrupted')
    BEGIN UPDATE runs SET active_lock = NULL WHERE id = NEW.id; END;
  -- The global budget counts live runs by creation time.
  CREATE INDEX runs_live ON runs (created_at) WHERE dry_run = 0;

  -- One row: the last opening of the circuit, closed or not (the events keep the history).
  CREATE TABLE circuit (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    opened_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    closed_at TEXT,
    closed_by TEXT,
    close_note TEXT
  );
  -- One row: the last pause set, lifted or not; it ends by itself at until.
  CREATE TABLE pause (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    paused_at TEXT NOT NULL,
    until TEXT NOT NULL,
    reason TEXT NOT NULL,
    paused_by TEXT NOT NULL,
    resumed_at TEXT,
    resumed_by TEXT
  );
  `,
  // 3: the hash chain over events (see src/domain/audit-chain.ts). The columns stay nullable
  // (SQLite cannot add a NOT NULL column without a default); the insert trigger makes them
  // required for every new event instead, so no code path can append outside the chain.
  `
  ALTER TABLE events ADD COLUMN prev_hash TEXT;
  ALTER TABLE events ADD COLUMN hash TEXT;
  CREATE TRIGGER events_chained BEFORE INSERT ON events WHEN NEW.hash IS NULL OR NEW.prev_hash IS NULL
    BEGIN SELECT RAISE(ABORT, 'events are appended through the hash chain'); END;
  -- One row: where the chain starts (base: 0 and genesis, or the cut made by retention) and the last
  -- event appended, moved in the same transaction as every append. A tail cut off the events table
  -- leaves a shorter chain that is valid on its own; this row is what tells.
  CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    base_id INTEGER NOT NULL,
    base_hash TEXT NOT NULL,
    last_id INTEGER NOT NULL,
    last_hash TEXT NOT NULL
  );
  `,
  // 4: the audit API filters events by playbook and time.
  `
  CREATE INDEX events_playbook ON events (playbook, id) WHERE playbook IS NOT NULL;
  CREATE INDEX events_at ON events (at);
  `,
  // 5: approvals. A run holds for a person's decision; each request is a row, decided once.
  `
  ALTER TABLE runs ADD COLUMN needs_approval INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN generator_url TEXT;
  -- What {{ steps.NAME.* }} reads, kept so that a run resumed after an approval (even after a
  -- restart) renders its later steps exactly as it would have without the wait.
  ALTER TABLE run_steps ADD COLUMN vars TEXT;
  CREATE TABLE approvals (
    run_id TEXT NOT NULL REFERENCES runs (id),
    seq INTEGER NOT NULL,
    phase TEXT NOT NULL,
    step_idx INTEGER NOT NULL,
    step_name TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    approvers TEXT NOT NULL,
    message TEXT,
    decision TEXT,
    decided_by TEXT,
    decided_via TEXT,
    decided_at TEXT,
    comment TEXT,
    PRIMARY KEY (run_id, seq)
  );
  CREATE INDEX approvals_open ON approvals (expires_at) WHERE decision IS NULL;
  -- Where a notifier posted a run's message (Slack channel and ts), so later states update it.
  CREATE TABLE run_messages (
    run_id TEXT NOT NULL REFERENCES runs (id),
    notifier TEXT NOT NULL,
    channel TEXT NOT NULL,
    ts TEXT NOT NULL,
    PRIMARY KEY (run_id, notifier)
  );
  `,
  // 6: replicas. A batch is claimed by one process at a time; a running run is leased by the
  // process executing it, which renews the lease while it lives.
  `
  ALTER TABLE batches ADD COLUMN claimed_by TEXT;
  ALTER TABLE batches ADD COLUMN claimed_until TEXT;
  ALTER TABLE runs ADD COLUMN owner TEXT;
  ALTER TABLE runs ADD COLUMN lease_until TEXT;
  CREATE INDEX runs_running_lease ON runs (lease_until) WHERE state = 'running';
  `,
  // 7: listing at a million rows (bench/listing.ts): runs by playbook and state, and the audit
  // API's time window combined with a playbook or a kind.
  `
  CREATE INDEX runs_playbook_state ON runs (playbook, state, id DESC);
  CREATE INDEX events_playbook_at ON events (playbook, at) WHERE playbook IS NOT NULL;
  CREATE INDEX events_kind_at ON events (kind, at);
  `,
  // 8: Slack requests already accepted, for their 5-minute window: a replay after a restart is
  // refused too (it used to be remembered in memory only).
  `
  CREATE TABLE seen_requests (key TEXT PRIMARY KEY, stale_at TEXT NOT NULL);
  CREATE INDEX seen_requests_stale ON seen_requests (stale_at);
  `,
  // 9: the Alertmanager silence a run made while it acted (playbook silence).
  `
  ALTER TABLE runs ADD COLUMN silence_id TEXT;
  `,
  // 10: escalations (a playbook's escalate). One open per playbook and target key, decided by the
  // unique index, so two deciders open it once; runs is the JSON list the person was shown.
  `
  CREATE TABLE escalations (
    id TEXT PRIMARY KEY,
    playbook TEXT NOT NULL,
    target_key TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    runs TEXT NOT NULL,
    cleared_at TEXT,
    cleared_by TEXT,
    clear_note TEXT
  );
  CREATE UNIQUE INDEX escalations_open ON escalations (playbook, target_key) WHERE cleared_at IS NULL;
  CREATE INDEX escalations_cleared ON escalations (playbook, target_key, cleared_at);
  `,
  // 11: guards.group: the targets seen firing per playbook and group key, and the live runs made
  // for them (run_id), counted over the group's window.
  `
  CREATE TABLE group_seen (playbook TEXT NOT NULL, group_key TEXT NOT NULL, target_key TEXT NOT NULL, seen_at TEXT NOT NULL, run_id TEXT);
  CREATE INDEX group_seen_window ON group_seen (playbook, group_key, seen_at);
  `,
  // 12: guards.storm. storm_seen holds each alert instance the first time it matched a live
  // playbook (and the storm it joined); at most one storm is open, decided by the unique index, so
  // two deciders open it once; runs.storm_id ties a run to the storm its alert was part of.
  `
  CREATE TABLE storm_seen (
    instance_key TEXT PRIMARY KEY,
    target_key TEXT NOT NULL,
    playbook TEXT NOT NULL,
    alertname TEXT NOT NULL,
    labels TEXT NOT NULL,
    generator_url TEXT,
    seen_at TEXT NOT NULL,
    storm_id TEXT
  );
  CREATE INDEX storm_seen_window ON storm_seen (seen_at);
  CREATE INDEX storm_seen_storm ON storm_seen (storm_id, target_key);
  CREATE TABLE storms (
    id TEXT PRIMARY KEY,
    opened_at TEXT NOT NULL,
    last_alert_at TEXT NOT NULL,
    ended_at TEXT,
    alerts INTEGER NOT NULL,
    targets INTEGER NOT NULL,
    playbooks TEXT NOT NULL,
    common_labels TEXT NOT NULL,
    generator_url TEXT,
    message_channel TEXT,
    message_ts TEXT
  );
  CREATE UNIQUE INDEX storms_open ON storms ((1)) WHERE ended_at IS NULL;
  CREATE INDEX storms_opened ON storms (opened_at);
  ALTER TABLE runs ADD COLUMN storm_id TEXT;
  CREATE INDEX runs_storm ON runs (storm_id) WHERE storm_id IS NOT NULL;
  `,
];

/** Code that completes a version, run after its SQL in the same transaction. */
export const MIGRATION_CODE: ReadonlyMap<number, (db: Database.Database) => void> = new Map([
  [3, (db: Database.Database) => chainExistingEvents(db, EVENTS_NO_UPDATE)],
]);

/** Brings the schema up to date, one transaction per migration; refuses a schema newer than this code. */
export function migrate(db: Database.Database, clock: () => Date): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  const current = row.v ?? 0;
  if (current > MIGRATIONS.length) {
    throw new RemediatorError(
      'store_unavailable',
      `database schema version ${current} is newer than this remediator knows (${MIGRATIONS.length}): upgrade remediator`,
    );
  }
  MIGRATIONS.slice(current).forEach((sql, i) => {
    db.transaction(() => {
      db.exec(sql);
      MIGRATION_CODE.get(current + i + 1)?.(db);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(current + i + 1, clock().toISOString());
    })();
  });
}
