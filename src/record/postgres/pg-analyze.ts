import type pg from 'pg';

/**
 * The tables whose queries' plans depend on their statistics: the budget's count (runs joined with
 * run_steps, read once per decision slice) took 42–55 ms on tables never analysed, 0.04 ms after
 * ANALYZE.
 */
export const ANALYZED_TABLES = ['runs', 'run_steps', 'events', 'batches', 'approvals', 'escalations', 'group_seen'] as const;

/**
 * ANALYZE of ANALYZED_TABLES, at every start, after the migrations (which create and alter them):
 * autovacuum analyses a table only once a share of it has changed, at most once a minute, so a
 * store that starts on tables it has not looked at since they grew (a restore, a bulk import, an
 * upgrade) would plan without their statistics until then. ANALYZE samples a bounded number of
 * rows, so it takes about as long on a large table as on a middling one.
 */
export async function analyzeTables(client: pg.PoolClient, schema: string): Promise<void> {
  await client.query(`ANALYZE ${ANALYZED_TABLES.map((t) => `"${schema}".${t}`).join(', ')}`);
}

/** Runs a store creates before its one ANALYZE after the start (PostgresStoreOptions.analyzeAfterRuns). */
export const ANALYZE_AFTER_RUNS = 1000;

/**
 * The one ANALYZE after the start, once the store has created ANALYZE_AFTER_RUNS runs: analysed at
 * the start, a fresh database's tables are empty, and as a storm fills them the planner still
 * plans for empty tables (the budget's count at 50–60 ms on 20,000 runs, 0.04 ms once analysed)
 * until autovacuum's next round, up to a minute later. In the background, on a pooled connection:
 * ANALYZE blocks no reads or writes, and its statistics only help.
 */
export class AnalyzeOnceGrown {
  private left: number;
  private running: Promise<void> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    after: number,
  ) {
    this.left = after;
  }

  /** Counts a created run; the last one before the threshold starts the ANALYZE. */
  created(): void {
    if (--this.left !== 0) return;
    // Unqualified: the pool's connections have the store's schema as their search_path.
    this.running = this.pool.query(`ANALYZE ${ANALYZED_TABLES.join(', ')}`).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Resolves once an ANALYZE that started is done (before the pool is closed). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}
