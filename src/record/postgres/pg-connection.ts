import { createHash } from 'node:crypto';
import type pg from 'pg';
import { RemediatorError } from '../../domain/errors.js';

/** Advisory lock classes ('REMC', 'REMM', 'REMD'); the second half of each key is the schema's (schemaKey). */
export const CHAIN_LOCK_CLASS = 0x52454d43;
export const MIGRATION_LOCK_CLASS = 0x52454d4d;
export const DECISION_LOCK_CLASS = 0x52454d44;

/** A schema name we can put in search_path and SQL as it is: lowercase, unquoted, as PostgreSQL folds it. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Refuses a schema name that would need quoting. */
export function checkSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new RemediatorError(
      'invalid_config',
      `PostgreSQL schema ${JSON.stringify(schema)} is not valid: use lowercase letters, digits and _ (at most 63, not starting with a digit)`,
    );
  }
}

/**
 * The second half of the advisory lock keys: one per schema, so that deployments sharing a
 * database in different schemas do not wait for each other (a collision only serialises them).
 * Computed here rather than by the server so that every replica, of any version, agrees.
 */
export function schemaKey(schema: string): number {
  return createHash('sha256').update(schema, 'utf8').digest().readInt32BE(0);
}

/**
 * The pool's settings. The session options set the schema and end a transaction left idle for
 * 30 s (a frozen replica must not hold the audit chain's lock for ever). An `options` parameter in
 * the URL is kept, before ours; pg would otherwise let it replace ours.
 */
export function poolConfig(url: string, schema: string | undefined, poolSize: number): pg.PoolConfig {
  const session = ['-c idle_in_transaction_session_timeout=30s'];
  if (schema !== undefined) session.push(`-c search_path=${schema}`);
  let connectionString = url;
  if (/[?&]options=/.test(url)) {
    const parsed = new URL(url);
    session.unshift(parsed.searchParams.get('options') ?? '');
    parsed.searchParams.delete('options');
    connectionString = parsed.toString();
  }
  return { connectionString, max: poolSize, options: session.join(' ').trim(), connectionTimeoutMillis: 10_000, keepAlive: true };
}

/** The URL without its password, for messages; nothing of it when it cannot be parsed (it may hold one). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.searchParams.delete('password');
    return parsed.toString();
  } catch {
    return '(a PostgreSQL URL that cannot be parsed)';
  }
}

/** Removes the URL's password from any text (a driver message could quote it). */
export function passwordScrubber(url: string): (text: string) => string {
  const secrets = new Set<string>();
  try {
    const parsed = new URL(url);
    for (const s of [parsed.password, safeDecode(parsed.password), parsed.searchParams.get('password') ?? '']) if (s.length > 0) secrets.add(s);
  } catch {
    // Unparseable: pg will refuse it too, and its message does not quote it.
  }
  return (text) => [...secrets].reduce((t, s) => t.split(s).join('***'), text);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Takes remediator's own `?schema=NAME` off a PostgreSQL URL: the driver gets the rest. */
export function splitSchema(url: URL): { url: string; schema: string | undefined } {
  const copy = new URL(url);
  const schema = copy.searchParams.get('schema') || undefined;
  copy.searchParams.delete('schema');
  return { url: copy.toString(), schema };
}
