import pg from 'pg';
import { RemediatorError } from '../../domain/errors.js';
import { checkSchemaName, passwordScrubber, poolConfig, redactUrl, splitSchema } from './pg-connection.js';
import type { Row } from './pg-rows.js';
import { describeError } from './transaction.js';

/**
 * One connection of its own to a PostgreSQL store, for the commands that read it beside the
 * replicas (report, replay): it never migrates (it opens no PostgresStore), refuses a schema
 * without a runs table, reads in one read-only REPEATABLE READ snapshot, and names the URL
 * without its password in every message.
 */
export class PgReadOnly {
  private constructor(
    private readonly client: pg.Client,
    private readonly fail: (what: string, err: unknown) => RemediatorError,
  ) {}

  /** Connects to `db`, a PostgreSQL URL whose `?schema=NAME` picks the schema as for the store (see openStore). */
  static async open(db: string): Promise<PgReadOnly> {
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
    const reader = new PgReadOnly(client, (what, err) =>
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

  /** Refuses a schema the store never created: a reader would read nothing, or someone else's tables. */
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

  /** Runs `fn` in one read-only transaction: one snapshot, while the replicas write on. */
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

  /** The rows of a query; a failure names the database (without its password) and what was read. */
  async rows(text: string, values: readonly unknown[], what = 'reading'): Promise<Row[]> {
    try {
      return (await this.client.query<Row>(text, [...values])).rows;
    } catch (err) {
      throw this.fail(what, err);
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  private async query(what: string, text: string): Promise<void> {
    try {
      await this.client.query(text);
    } catch (err) {
      throw this.fail(what, err);
    }
  }
}
