import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { redactUrl } from '../../src/record/postgres/pg-connection.js';
import { describeError } from '../../src/record/postgres/transaction.js';

/** The PostgreSQL the tests use: REMEDIATOR_TEST_PG_URL, or the local one CI starts (trust auth). */
export function pgTestUrl(): string {
  return process.env['REMEDIATOR_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** Null when the test database answers, else why not. */
export async function pgAvailable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: pgTestUrl(), connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return describeError(err) || 'no answer';
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Whether the PostgreSQL tests of a file can run. When PostgreSQL is not reachable: outside CI,
 * prints one "skipped" line and returns false; in CI (CI set) throws, since CI must not skip them.
 */
export async function pgReachable(): Promise<boolean> {
  const reason = await pgAvailable();
  if (reason === null) return true;
  const where = `PostgreSQL not reachable at ${redactUrl(pgTestUrl())} (${reason})`;
  if (process.env['CI'] !== undefined) throw new Error(`${where}: CI runs the PostgreSQL tests, so it must be running (.ci/run starts it)`);
  console.log(`skipped: ${where}; set REMEDIATOR_TEST_PG_URL`);
  return false;
}

/** Runs statements on the test database outside any store (as an operator, or an attacker, would). */
export async function pgExec<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: pgTestUrl() });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** A new, empty, uniquely named schema; `drop` removes it and everything in it. */
export async function freshSchema(): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = `remediator_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await pgExec(`CREATE SCHEMA ${schema}`);
  return { schema, drop: async () => void (await pgExec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)) };
}
