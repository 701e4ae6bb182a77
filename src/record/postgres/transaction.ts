import type pg from 'pg';
import { RemediatorError } from '../../domain/errors.js';
import type { NewEvent } from '../../domain/run.js';
import { ChainAppender } from './pg-event-chain.js';
import { toParam, type Row } from './pg-rows.js';

/** How each kind of transaction begins. */
const BEGIN = {
  write: 'BEGIN',
  // A stored batch or an approval is what the caller answers or acts on next: on disk before the
  // commit returns, whatever the server's default for synchronous_commit.
  durable: 'BEGIN; SET LOCAL synchronous_commit TO on',
  // Reads of several tables see one snapshot, as a SQLite reader does.
  read: 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY',
} as const;

/** write: read committed, conditional statements and row locks decide races; durable: the same, synced; read: one snapshot. */
export type TxKind = keyof typeof BEGIN;

/** One transaction on one pooled connection: its queries, and the events it appends (chained at commit). */
export class Tx {
  constructor(
    private readonly client: pg.ClientBase,
    private readonly chain: ChainAppender | null,
    private readonly clock: () => Date,
  ) {}

  async rows(text: string, values: readonly unknown[] = []): Promise<Row[]> {
    return (await this.client.query<Row>(text, values.map(toParam))).rows;
  }

  async row(text: string, values: readonly unknown[] = []): Promise<Row | undefined> {
    return (await this.rows(text, values))[0];
  }

  /** The `n` column of a one-row query (COUNT(*) AS n). */
  async count(text: string, values: readonly unknown[] = []): Promise<number> {
    return Number((await this.row(text, values))?.['n'] ?? 0);
  }

  /** Appends events to the audit chain when this transaction commits; `defaults` fill what they leave out. */
  append(events: readonly NewEvent[], defaults: Partial<NewEvent> = {}): void {
    if (this.chain === null) throw new RemediatorError('internal', 'events must be appended in a write transaction');
    this.chain.add(events, defaults, this.now());
  }

  /**
   * Takes the audit chain's lock before anything else: for a transaction that moves the chain's
   * base (retention), in the order every appender takes them (the chain lock, then audit_head).
   */
  async lockChain(): Promise<void> {
    if (this.chain === null) throw new RemediatorError('internal', 'the chain is locked in a write transaction');
    await this.chain.lock(this.client);
  }

  now(): string {
    return this.clock().toISOString();
  }
}

/**
 * Runs each store method as one transaction: BEGIN … COMMIT on one pooled connection, ROLLBACK on
 * error, every failure a retryable store_unavailable error without the URL's password.
 */
export class Transactions {
  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: () => Date,
    private readonly chainKey: number,
    private readonly scrub: (text: string) => string,
  ) {}

  async run<T>(what: string, kind: TxKind, fn: (tx: Tx) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.error(what, err);
    }
    // A connection that dies between two queries emits 'error' on a checked-out client, which
    // nothing else listens to: note it, and have the pool discard the connection.
    let broken: unknown = null;
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    try {
      await client.query(BEGIN[kind]);
      const chain = kind === 'read' ? null : new ChainAppender(this.chainKey);
      const result = await fn(new Tx(client, chain, this.clock));
      await chain?.flush(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken ??= rollbackError;
      });
      throw this.error(what, err);
    } finally {
      client.off('error', onError);
      client.release(broken !== null);
    }
  }

  /** One statement, its own transaction: for single reads and writes that append no event. */
  async query(what: string, text: string, values: readonly unknown[] = []): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(text, values.map(toParam))).rows;
    } catch (err) {
      throw this.error(what, err);
    }
  }

  /** Lost connection, server down, locks refused: all worth a retry by the caller, as in SQLite. */
  error(what: string, err: unknown): RemediatorError {
    if (err instanceof RemediatorError) return err;
    return new RemediatorError('store_unavailable', `store: ${what} failed: ${this.scrub(describeError(err))}`, { retryable: true, cause: err });
  }
}

/** A message for a driver error; a refused connection to several addresses is an AggregateError with none. */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') {
    const first: unknown = err.errors[0];
    return first instanceof Error ? first.message : String((err as { code?: string }).code ?? 'connection failed');
  }
  return err instanceof Error ? err.message : String(err);
}
