import { toDecided, type Decided } from '../../domain/decided.js';
import type { HistoryRange, HistoryReader, RecordedBatch, RecordedRun, RecordedSwitch } from '../../domain/history.js';
import type { RunStep } from '../../domain/run.js';
import { recordedRun, recordedSwitch, SWITCH_KINDS } from '../history-rows.js';
import { idPrefix } from '../ids.js';
import { toEvent, toStep } from '../rows.js';
import { PgReadOnly } from './pg-read-only.js';
import type { Row } from './pg-rows.js';

/** Rows read per query: pages, so that a long history is never held at once. */
const PAGE = 500;

/**
 * Reads a recorded history from a PostgreSQL store for `remediator replay`, as
 * SqliteHistoryReader does from an SQLite file (the same records): on one connection of its
 * own, in one read-only REPEATABLE READ snapshot, while the replicas write on.
 *
 * Indexes: batches and runs by id through their primary keys (ids start with their creation
 * time), decisions and switches through events_kind_at, a page of runs' steps through the
 * primary key of run_steps.
 */
export class PgHistoryReader implements HistoryReader {
  private constructor(private readonly db: PgReadOnly) {}

  /** Connects to `db` (a PostgreSQL URL, `?schema=NAME` as for the store); messages name it without its password. */
  static async open(db: string): Promise<PgHistoryReader> {
    return new PgHistoryReader(await PgReadOnly.open(db));
  }

  snapshot<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.snapshot(fn);
  }

  async countBatches(r: HistoryRange): Promise<number> {
    const rows = await this.db.rows(
      'SELECT COUNT(*) AS n FROM batches WHERE id > $1 AND id < $2 AND received_at >= $3 AND received_at < $4 AND processed_at IS NOT NULL',
      [idPrefix('b', r.since), idPrefix('b', r.until), r.since, r.until],
      'counting batches',
    );
    return Number(rows[0]?.['n'] ?? 0);
  }

  async *batches(r: HistoryRange): AsyncGenerator<RecordedBatch> {
    let after = idPrefix('b', r.since);
    for (;;) {
      const rows = await this.db.rows(
        `SELECT id, received_at, payload FROM batches
         WHERE id > $1 AND id < $2 AND received_at >= $3 AND received_at < $4 AND processed_at IS NOT NULL ORDER BY id LIMIT ${PAGE}`,
        [after, idPrefix('b', r.until), r.since, r.until],
        'reading batches',
      );
      for (const row of rows)
        yield { id: String(row['id']), receivedAt: new Date(String(row['received_at'])), payload: JSON.parse(String(row['payload'])) as unknown };
      if (rows.length < PAGE) return;
      after = String((rows[rows.length - 1] as Row)['id']);
    }
  }

  async *decisions(r: HistoryRange): AsyncGenerator<Decided> {
    // Keyset by (at, id) through events_kind_at: each page starts where the last ended.
    let after = { at: '', id: '0' };
    for (;;) {
      const rows = await this.db.rows(
        `SELECT * FROM events WHERE kind = 'decision' AND at >= $1 AND at < $2 AND (at, id) > ($3, $4::bigint) ORDER BY at, id LIMIT ${PAGE * 2}`,
        [r.since, r.until, after.at, after.id],
        'reading decisions',
      );
      for (const row of rows) {
        const d = toDecided(toEvent(row));
        if (d !== null) yield d;
      }
      if (rows.length < PAGE * 2) return;
      const last = rows[rows.length - 1] as Row;
      after = { at: String(last['at']), id: String(last['id']) };
    }
  }

  async *runs(r: HistoryRange): AsyncGenerator<RecordedRun> {
    let after = idPrefix('r', r.since);
    for (;;) {
      const rows = await this.db.rows(
        `SELECT id, playbook, instance_key, batch_id, state, dry_run, created_at, finished_at FROM runs
         WHERE id > $1 AND id < $2 AND created_at >= $3 AND created_at < $4 ORDER BY id LIMIT ${PAGE}`,
        [after, idPrefix('r', r.until), r.since, r.until],
        'reading runs',
      );
      const steps = new Map<string, RunStep[]>();
      if (rows.length > 0) {
        const ids = rows.map((row) => String(row['id']));
        for (const s of await this.db.rows('SELECT * FROM run_steps WHERE run_id = ANY($1::text[])', [ids], 'reading run steps')) {
          const id = String(s['run_id']);
          steps.set(id, [...(steps.get(id) ?? []), toStep(s)]);
        }
      }
      for (const row of rows) yield recordedRun(row, steps.get(String(row['id'])) ?? []);
      if (rows.length < PAGE) return;
      after = String((rows[rows.length - 1] as Row)['id']);
    }
  }

  async switches(r: HistoryRange): Promise<RecordedSwitch[]> {
    const rows = await this.db.rows(
      'SELECT kind, at, data FROM events WHERE kind = ANY($1::text[]) AND at >= $2 AND at < $3 ORDER BY id',
      [SWITCH_KINDS, r.since, r.until],
      'reading switches',
    );
    return rows.map(recordedSwitch);
  }

  async switchesBefore(at: string): Promise<RecordedSwitch[]> {
    const last = async (kinds: readonly string[]) =>
      (
        await this.db.rows(
          'SELECT kind, at, data FROM events WHERE kind = ANY($1::text[]) AND at < $2 ORDER BY at DESC, id DESC LIMIT 1',
          [kinds, at],
          'reading switches',
        )
      )[0];
    const found = [await last(['paused', 'resumed']), await last(['circuit.opened', 'circuit.closed'])];
    return found.filter((r): r is Row => r !== undefined).map(recordedSwitch);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
