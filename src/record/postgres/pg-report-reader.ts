import type { EventKind, RunState } from '../../domain/run.js';
import { REPORT_EVENT_KINDS, type ReportEvent, type ReportRun, type ReportStep, type ReportWindow, type SuppressionCount } from '../../report/report.js';
import { runIdPrefix } from '../ids.js';
import { toReportStep } from '../report-rows.js';
import { PgReadOnly } from './pg-read-only.js';
import type { Row } from './pg-rows.js';

/** Runs read per query: a page, so that a long window never holds its rows all at once. */
const PAGE = 500;

/**
 * Reads what `remediator report` needs from a PostgreSQL store, as ReportReader does from an
 * SQLite file (the same rows, so the same figures): on one connection of its own, in one
 * read-only REPEATABLE READ transaction, while the replicas write on. It never migrates (it opens
 * no PostgresStore), and it refuses a schema without a runs table.
 *
 * Indexes: runs by id through the primary key (runs_playbook with --playbook), as in SQLite;
 * the steps and events of a page of live runs through the primary key of run_steps and
 * events_run; suppressions through events_kind_at, the decisions of the window only.
 */
export class PgReportReader {
  private constructor(private readonly db: PgReadOnly) {}

  /**
   * Connects to `db`, a PostgreSQL URL whose `?schema=NAME` picks the schema as for the store
   * (see openStore). Throws a message that names the URL without its password.
   */
  static async open(db: string): Promise<PgReportReader> {
    return new PgReportReader(await PgReadOnly.open(db));
  }

  /** Runs `fn` in one read-only transaction: runs and suppressions from one snapshot, while the replicas write on. */
  snapshot<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.snapshot(fn);
  }

  /**
   * Runs created in the window, in id order, a page at a time; each with its steps, each live run
   * with its step and approval events (as ReportReader reads them).
   */
  async *runs(w: ReportWindow): AsyncGenerator<ReportRun> {
    const playbook = w.playbook === null ? [] : [w.playbook];
    const page = `SELECT id, playbook, dry_run, state, created_at, resolved_at FROM runs
       WHERE id > $1 AND id < $2 AND created_at >= $3 AND created_at < $4 ${w.playbook === null ? '' : 'AND playbook = $5'}
       ORDER BY id LIMIT ${PAGE}`;
    const before = runIdPrefix(w.until);
    let after = runIdPrefix(w.since);
    for (;;) {
      const rows = await this.rows(page, [after, before, w.since, w.until, ...playbook]);
      const live = rows.filter((r) => r['dry_run'] !== true).map((r) => String(r['id']));
      const steps = await this.stepsOf(rows.map((r) => String(r['id'])));
      const events = await this.eventsOf(live);
      for (const row of rows) {
        const id = String(row['id']);
        yield {
          id,
          playbook: String(row['playbook']),
          dryRun: row['dry_run'] === true,
          state: row['state'] as RunState,
          createdAt: String(row['created_at']),
          resolvedAt: typeof row['resolved_at'] === 'string' ? row['resolved_at'] : null,
          steps: steps.get(id) ?? [],
          events: events.get(id) ?? [],
        };
      }
      if (rows.length < PAGE) return;
      after = String((rows[rows.length - 1] as Row)['id']);
    }
  }

  /** Suppress decisions, and live runs a guard held, recorded in the window, counted per playbook and reason (a reason that is not text: "unknown"). */
  async suppressions(w: ReportWindow): Promise<SuppressionCount[]> {
    const rows = await this.rows(
      `SELECT playbook, (data::json->>'held') IS NOT NULL AS held,
         COALESCE(data::json->>'held', CASE WHEN json_typeof(data::json->'reason') = 'string' THEN data::json->>'reason' END) AS reason, COUNT(*) AS n FROM events
       WHERE kind = 'decision' AND at >= $1 AND at < $2 AND (data::json->>'redelivery') IS DISTINCT FROM 'true'
         AND (data::json->>'action' = 'suppress' OR (data::json->>'held') IS NOT NULL)
         AND playbook IS NOT NULL ${w.playbook === null ? '' : 'AND playbook = $3'}
       GROUP BY 1, 2, 3`,
      [w.since, w.until, ...(w.playbook === null ? [] : [w.playbook])],
    );
    return rows.map((r) => ({
      playbook: String(r['playbook']),
      reason: typeof r['reason'] === 'string' ? r['reason'] : 'unknown',
      count: Number(r['n']),
      ...(r['held'] === true ? { held: true } : {}),
    }));
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** The steps of the runs `ids`, by run. */
  private async stepsOf(ids: readonly string[]): Promise<Map<string, ReportStep[]>> {
    const byRun = new Map<string, ReportStep[]>();
    if (ids.length === 0) return byRun;
    const rows = await this.rows(
      `SELECT run_id, kind, read_only, started_at, name, phase, state, error, json_typeof(rendered::json->'dryRunArgv') = 'array' AS variant
       FROM run_steps WHERE run_id = ANY($1::text[]) ORDER BY run_id, phase, idx`,
      [ids],
    );
    for (const s of rows) push(byRun, String(s['run_id']), toReportStep(s));
    return byRun;
  }

  /** The step and approval events of the runs `ids`, by run, each run's in the order recorded. */
  private async eventsOf(ids: readonly string[]): Promise<Map<string, ReportEvent[]>> {
    const byRun = new Map<string, ReportEvent[]>();
    if (ids.length === 0) return byRun;
    // data->'seq' is json, which pg parses: a number only when the event carries a number, as json_extract in SQLite.
    const rows = await this.rows(
      `SELECT run_id, kind, at, data::json->'seq' AS seq FROM events WHERE run_id = ANY($1::text[]) AND kind = ANY($2::text[]) ORDER BY id`,
      [ids, REPORT_EVENT_KINDS],
    );
    for (const e of rows) {
      const seq = e['seq'];
      push(byRun, String(e['run_id']), {
        kind: e['kind'] as EventKind,
        at: String(e['at']),
        seq: typeof seq === 'number' && Number.isInteger(seq) ? seq : null,
      });
    }
    return byRun;
  }

  private rows(text: string, values: readonly unknown[]): Promise<Row[]> {
    return this.db.rows(text, values, 'reading the report');
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
