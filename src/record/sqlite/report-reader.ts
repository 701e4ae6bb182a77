import type Database from 'better-sqlite3';
import type { EventKind, RunState } from '../../domain/run.js';
import {
  REPORT_EVENT_KINDS,
  ReportBuilder,
  type Report,
  type ReportEvent,
  type ReportRun,
  type ReportWindow,
  type SuppressionCount,
} from '../../report/report.js';
import { runIdPrefix } from '../ids.js';
import { toReportStep } from '../report-rows.js';
import { openReadOnly } from './read-only.js';

type Row = Record<string, unknown>;

/** Runs read per query: a page, so that a long window never holds its rows all at once. */
const PAGE = 500;

/**
 * Reads what `remediator report` needs from an SQLite file: read-only and without the daemon's
 * process lock, like AuditReader, so it works while the daemon runs. It never migrates and reads
 * only columns every schema version has.
 *
 * Indexes, and where they fall short:
 * - runs in the window: by id, through the primary key (or runs_playbook with --playbook), since
 *   a run's id starts with its creation time (src/record/ids.ts); created_at then filters exactly.
 *   No index covers runs.created_at for dry runs too (runs_live is for live runs only).
 * - a run's steps: the primary key of run_steps; its events: events_run.
 * - suppressions: events_at, the window (`+kind` keeps the planner off events_kind, which would
 *   walk every decision ever recorded). An index on events (kind, at) would read only the
 *   decisions of the window.
 */
export class ReportReader {
  private constructor(private readonly db: Database.Database) {}

  /** Opens `file` read-only; throws a message naming the file and what is wrong. */
  static open(file: string): ReportReader {
    return new ReportReader(openReadOnly(file).db);
  }

  /** Runs `fn` in one read transaction: runs and suppressions from one snapshot, while the daemon writes on. */
  snapshot<T>(fn: () => T): T {
    this.db.exec('BEGIN');
    try {
      return fn();
    } finally {
      this.db.exec('COMMIT');
    }
  }

  /** The report of a window, from one snapshot. */
  report(w: ReportWindow): Report {
    return this.reports([w])[0] as Report;
  }

  /**
   * The reports of several windows of one playbook (or all), from one snapshot and one pass over
   * the runs of all of them together (the console's weekly figures: one read, not eight).
   */
  reports(windows: readonly ReportWindow[]): Report[] {
    const first = windows[0];
    if (first === undefined) return [];
    const union = {
      since: windows.reduce((m, w) => (w.since < m ? w.since : m), first.since),
      until: windows.reduce((m, w) => (w.until > m ? w.until : m), first.until),
      playbook: first.playbook,
    };
    if (windows.some((w) => w.playbook !== first.playbook)) throw new Error('reports: every window must name the same playbook (or none)');
    return this.snapshot(() => {
      const builders = windows.map(() => new ReportBuilder());
      for (const run of this.runs(union)) {
        windows.forEach((w, i) => {
          if (run.createdAt >= w.since && run.createdAt < w.until) builders[i]?.addRun(run);
        });
      }
      return windows.map((w, i) => {
        const builder = builders[i] as ReportBuilder;
        for (const s of this.suppressions(w)) builder.addSuppressions(s);
        return builder.build(w);
      });
    });
  }

  /**
   * Runs created in the window, in id order, a page at a time; each with its steps (a dry run's
   * are its shadow evidence), and each live run with its step and approval events (a dry run
   * changes nothing and holds for nobody).
   */
  *runs(w: ReportWindow): Generator<ReportRun> {
    const playbook = w.playbook === null ? '' : 'AND playbook = @playbook';
    const page = this.db.prepare(
      `SELECT id, playbook, dry_run, state, created_at, resolved_at FROM runs
       WHERE id > @after AND id < @before AND created_at >= @since AND created_at < @until ${playbook}
       ORDER BY id LIMIT ${PAGE}`,
    );
    // In plan order ('main' sorts before 'onFailure'); whether a step has a dryRun variant, without parsing its plan.
    const steps = this.db.prepare(
      `SELECT kind, read_only, started_at, name, phase, state, error, json_type(rendered, '$.dryRunArgv') = 'array' AS variant
       FROM run_steps WHERE run_id = ? ORDER BY phase, idx`,
    );
    const events = this.db.prepare(
      `SELECT kind, at, json_extract(data, '$.seq') AS seq FROM events WHERE run_id = ? AND +kind IN (${REPORT_EVENT_KINDS.map(() => '?').join(', ')}) ORDER BY id`,
    );
    const params = { since: w.since, until: w.until, before: runIdPrefix(w.until), ...(w.playbook === null ? {} : { playbook: w.playbook }) };
    let after = runIdPrefix(w.since);
    for (;;) {
      const rows = page.all({ ...params, after }) as Row[];
      for (const row of rows) {
        const id = String(row['id']);
        const dryRun = row['dry_run'] === 1;
        yield {
          id,
          playbook: String(row['playbook']),
          dryRun,
          state: row['state'] as RunState,
          createdAt: String(row['created_at']),
          resolvedAt: (row['resolved_at'] as string | null) ?? null,
          steps: (steps.all(id) as Row[]).map(toReportStep),
          events: dryRun ? [] : (events.all(id, ...REPORT_EVENT_KINDS) as Row[]).map(toEvent),
        };
      }
      if (rows.length < PAGE) return;
      after = String((rows[rows.length - 1] as Row)['id']);
    }
  }

  /** Suppress decisions, and live runs a guard held, recorded in the window, counted per playbook and reason. */
  suppressions(w: ReportWindow): SuppressionCount[] {
    const rows = this.db
      .prepare(
        `SELECT playbook, json_extract(data, '$.held') IS NOT NULL AS held, COALESCE(json_extract(data, '$.held'), json_extract(data, '$.reason')) AS reason,
           COUNT(*) AS n FROM events
         WHERE at >= @since AND at < @until AND +kind = 'decision' AND json_extract(data, '$.redelivery') IS NOT 1
           AND (json_extract(data, '$.action') = 'suppress' OR json_extract(data, '$.held') IS NOT NULL)
           AND playbook IS NOT NULL ${w.playbook === null ? '' : 'AND +playbook = @playbook'}
         GROUP BY playbook, held, reason`,
      )
      .all({ since: w.since, until: w.until, ...(w.playbook === null ? {} : { playbook: w.playbook }) }) as Row[];
    return rows.map((r) => ({
      playbook: String(r['playbook']),
      reason: typeof r['reason'] === 'string' ? r['reason'] : 'unknown',
      count: Number(r['n']),
      ...(r['held'] === 1 ? { held: true } : {}),
    }));
  }

  close(): void {
    this.db.close();
  }
}

function toEvent(row: Row): ReportEvent {
  const seq = row['seq'];
  return { kind: row['kind'] as EventKind, at: String(row['at']), seq: typeof seq === 'number' && Number.isInteger(seq) ? seq : null };
}
