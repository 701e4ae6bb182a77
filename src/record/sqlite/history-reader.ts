import type Database from 'better-sqlite3';
import { toDecided, type Decided } from '../../domain/decided.js';
import type { HistoryRange, HistoryReader, RecordedBatch, RecordedRun, RecordedSwitch } from '../../domain/history.js';
import { recordedRun, recordedSwitch, SWITCH_KINDS } from '../history-rows.js';
import { idPrefix } from '../ids.js';
import { toEvent, toStep, type Row } from '../rows.js';
import { openReadOnly } from './read-only.js';

/** Rows read per query: pages, so that a long history is never held at once. */
const PAGE = 500;

/**
 * Reads a recorded history from an SQLite file for `remediator replay`: read-only and without the
 * daemon's process lock (like ReportReader), in one read transaction, so a replay works beside a
 * running daemon and sees one consistent history.
 *
 * Indexes: batches and runs by id through the primary key (an id starts with its creation time,
 * src/record/ids.ts), the exact time filtering; decisions through events_kind_at to find where
 * the range starts, then in id order through events_kind; a page of runs' steps through the
 * primary key of run_steps; switches through events_kind_at.
 */
export class SqliteHistoryReader implements HistoryReader {
  private constructor(private readonly db: Database.Database) {}

  /** Opens `file` read-only; throws a message naming the file and what is wrong. */
  static open(file: string): SqliteHistoryReader {
    return new SqliteHistoryReader(openReadOnly(file).db);
  }

  async snapshot<T>(fn: () => Promise<T>): Promise<T> {
    this.db.exec('BEGIN');
    try {
      return await fn();
    } finally {
      this.db.exec('COMMIT');
    }
  }

  countBatches(r: HistoryRange): Promise<number> {
    const row = this.db
      .prepare(
        `SELECT COUNT(*) AS n FROM batches WHERE id > @after AND id < @before AND received_at >= @since AND received_at < @until AND processed_at IS NOT NULL`,
      )
      .get(this.bounds('b', r)) as { n: number };
    return Promise.resolve(row.n);
  }

  *batches(r: HistoryRange): Generator<RecordedBatch> {
    const page = this.db.prepare(
      `SELECT id, received_at, payload FROM batches
       WHERE id > @after AND id < @before AND received_at >= @since AND received_at < @until AND processed_at IS NOT NULL
       ORDER BY id LIMIT ${PAGE}`,
    );
    const bounds = this.bounds('b', r);
    for (;;) {
      const rows = page.all(bounds) as Row[];
      for (const row of rows) {
        yield { id: String(row['id']), receivedAt: new Date(String(row['received_at'])), payload: JSON.parse(String(row['payload'])) as unknown };
      }
      if (rows.length < PAGE) return;
      bounds.after = String((rows[rows.length - 1] as Row)['id']);
    }
  }

  *decisions(r: HistoryRange): Generator<Decided> {
    const first = this.db.prepare(`SELECT MIN(id) AS id FROM events WHERE kind = 'decision' AND at >= ? AND at < ?`).get(r.since, r.until) as {
      id: number | null;
    };
    if (first.id === null) return;
    const page = this.db.prepare(`SELECT * FROM events WHERE kind = 'decision' AND id > ? AND at >= ? AND at < ? ORDER BY id LIMIT ${PAGE * 2}`);
    let after = first.id - 1;
    for (;;) {
      const rows = page.all(after, r.since, r.until) as Row[];
      for (const row of rows) {
        const d = toDecided(toEvent(row));
        if (d !== null) yield d;
      }
      if (rows.length < PAGE * 2) return;
      after = Number((rows[rows.length - 1] as Row)['id']);
    }
  }

  *runs(r: HistoryRange): Generator<RecordedRun> {
    const page = this.db.prepare(
      `SELECT id, playbook, instance_key, batch_id, state, dry_run, created_at, finished_at FROM runs
       WHERE id > @after AND id < @before AND created_at >= @since AND created_at < @until ORDER BY id LIMIT ${PAGE}`,
    );
    const bounds = this.bounds('r', r);
    for (;;) {
      const rows = page.all(bounds) as Row[];
      const ids = rows.map((row) => String(row['id']));
      const steps = new Map<string, ReturnType<typeof toStep>[]>();
      if (ids.length > 0) {
        const all = this.db.prepare(`SELECT * FROM run_steps WHERE run_id IN (${ids.map(() => '?').join(', ')})`).all(...ids) as Row[];
        for (const s of all) {
          const id = String(s['run_id']);
          steps.set(id, [...(steps.get(id) ?? []), toStep(s)]);
        }
      }
      for (const row of rows) yield recordedRun(row, steps.get(String(row['id'])) ?? []);
      if (rows.length < PAGE) return;
      bounds.after = String((rows[rows.length - 1] as Row)['id']);
    }
  }

  switches(r: HistoryRange): Promise<RecordedSwitch[]> {
    const rows = this.db
      .prepare(`SELECT kind, at, data FROM events WHERE kind IN (${SWITCH_KINDS.map(() => '?').join(', ')}) AND at >= ? AND at < ? ORDER BY id`)
      .all(...SWITCH_KINDS, r.since, r.until) as Row[];
    return Promise.resolve(rows.map(recordedSwitch));
  }

  switchesBefore(at: string): Promise<RecordedSwitch[]> {
    const last = (kinds: readonly string[]) =>
      this.db
        .prepare(`SELECT kind, at, data FROM events WHERE kind IN (${kinds.map(() => '?').join(', ')}) AND at < ? ORDER BY at DESC, id DESC LIMIT 1`)
        .get(...kinds, at) as Row | undefined;
    return Promise.resolve(
      [last(['paused', 'resumed']), last(['circuit.opened', 'circuit.closed'])].filter((r): r is Row => r !== undefined).map(recordedSwitch),
    );
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }

  private bounds(prefix: string, r: HistoryRange): { after: string; before: string; since: string; until: string } {
    return { after: idPrefix(prefix, r.since), before: idPrefix(prefix, r.until), since: r.since, until: r.until };
  }
}
