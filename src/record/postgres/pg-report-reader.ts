import pg from 'pg';
import { RemediatorError } from '../../domain/errors.js';
import type { EventKind, RenderedStep, RunState } from '../../domain/run.js';
import { REPORT_EVENT_KINDS, type ReportEvent, type ReportRun, type ReportStep, type ReportWindow, type SuppressionCount } from '../../report/report.js';
import { runIdPrefix } from '../ids.js';
import { checkSchemaName, passwordScrubber, poolConfig, redactUrl, splitSchema } from './pg-connection.js';
import type { Row } from './pg-rows.js';
import { describeError } from './transaction.js';

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
  private constructor(
    private readonly client: pg.Client,
    private readonly fail: (what: string, err: unknown) => RemediatorError,
  ) {}

  /**
   * Connects to `db`, a PostgreSQL URL whose `?schema=NAME` picks the schema as for the store
   * (see openStore). Throws a message that names the URL without its password.
   */
  static async open(db: string): Promise<PgReportReader> {
    const where = redactUrl(db);
    const scrub = passwordScrubber(db);
    let url: URL;
    try {
      url = new URL(db);
    } catch {
      throw new RemediatorError('invalid_config', `cannot use PostgreSQL URL ${where}: it cannot be parsed`);
    }
    const { url: plain, schema } = splitSchema(url);
    if (schema !== undefined) checkSchemaName(schema);
    let client: pg.Client;
    try {
      // The store's session settings (its schema, an end to a transaction left idle), on one connection.
      client = new pg.Client(poolConfig(plain, schema, 1));
    } catch (err) {
      // No cause: a URL the driver cannot parse is quoted, password and all, in its error's `input`.
      throw new RemediatorError('invalid_config', `cannot use PostgreSQL URL ${where}: ${scrub(describeError(err))}`);
    }
    // A connection that drops makes the query under way reject; without a listener it would end the process.
    client.on('error', () => undefined);
    const reader = new PgReportReader(client, (what, err) =>
      err instanceof RemediatorError
        ? err
        : new RemediatorError('store_unavailable', `cannot read the PostgreSQL database at ${where}: ${what}: ${scrub(describeError(err))}`, {
            retryable: true,
          }),
    );
    try {
      await client.connect();
      await reader.checkSchema(where, schema);
      return reader;
    } catch (err) {
      await client.end().catch(() => undefined);
      throw reader.fail('connecting', err);
    }
  }

  /** Refuses a schema the store never created: the report would read nothing, or someone else's tables. */
  private async checkSchema(where: string, schema: string | undefined): Promise<void> {
    const row = (
      await this.rows(
        'SELECT current_schema() AS schema, EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1) AS ours',
        ['runs'],
      )
    )[0];
    const current = typeof row?.['schema'] === 'string' ? row['schema'] : null;
    if (current === null) {
      const why = schema === undefined ? 'its search_path names no schema that exists' : `no schema ${schema}`;
      throw new RemediatorError('bad_request', `${where} is not a remediator database (${why}): give the daemon's --db (or --config)`);
    }
    if (row?.['ours'] !== true)
      throw new RemediatorError(
        'bad_request',
        `${where} is not a remediator database (no runs table in schema ${current}): give the daemon's --db (or --config)`,
      );
  }

  /** Runs `fn` in one read-only transaction: runs and suppressions from one snapshot, while the replicas write on. */
  async snapshot<T>(fn: () => Promise<T>): Promise<T> {
    await this.query('starting a read', 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    try {
      const result = await fn();
      await this.query('ending the read', 'COMMIT');
      return result;
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /**
   * Runs created in the window, in id order, a page at a time; each live run with its started
   * steps and its step and approval events (a dry run changes nothing and holds for nobody).
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
      const steps = await this.stepsOf(live);
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

  /** Suppress decisions recorded in the window, counted per playbook and reason (a reason that is not text: "unknown"). */
  async suppressions(w: ReportWindow): Promise<SuppressionCount[]> {
    const rows = await this.rows(
      `SELECT playbook, CASE WHEN json_typeof(data::json->'reason') = 'string' THEN data::json->>'reason' END AS reason, COUNT(*) AS n FROM events
       WHERE kind = 'decision' AND at >= $1 AND at < $2 AND data::json->>'action' = 'suppress'
         AND playbook IS NOT NULL ${w.playbook === null ? '' : 'AND playbook = $3'}
       GROUP BY 1, 2`,
      [w.since, w.until, ...(w.playbook === null ? [] : [w.playbook])],
    );
    return rows.map((r) => ({ playbook: String(r['playbook']), reason: typeof r['reason'] === 'string' ? r['reason'] : 'unknown', count: Number(r['n']) }));
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  /** The steps of the runs `ids`, by run. */
  private async stepsOf(ids: readonly string[]): Promise<Map<string, ReportStep[]>> {
    const byRun = new Map<string, ReportStep[]>();
    if (ids.length === 0) return byRun;
    for (const s of await this.rows('SELECT run_id, kind, read_only, started_at FROM run_steps WHERE run_id = ANY($1::text[])', [ids])) {
      const step = {
        kind: s['kind'] as RenderedStep['kind'],
        readOnly: s['read_only'] === true,
        startedAt: typeof s['started_at'] === 'string' ? s['started_at'] : null,
      };
      push(byRun, String(s['run_id']), step);
    }
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

  private async rows(text: string, values: readonly unknown[]): Promise<Row[]> {
    try {
      return (await this.client.query<Row>(text, [...values])).rows;
    } catch (err) {
      throw this.fail('reading the report', err);
    }
  }

  private async query(what: string, text: string): Promise<void> {
    try {
      await this.client.query(text);
    } catch (err) {
      throw this.fail(what, err);
    }
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
