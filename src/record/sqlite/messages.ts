import type { MessageRef } from '../../domain/store.js';
import type { Row } from '../rows.js';
import type { SqliteContext } from './context.js';

/** Where a notifier posted a run's message, or null. */
export function runMessage(ctx: SqliteContext, runId: string, notifier: string): MessageRef | null {
  const row = ctx.sql('SELECT channel, ts FROM run_messages WHERE run_id = ? AND notifier = ?').get(runId, notifier) as Row | undefined;
  return row ? { channel: String(row['channel']), ts: String(row['ts']) } : null;
}

/** Records a request key until staleAt (removing stale ones); false when it was recorded and is not stale. */
export function rememberRequest(ctx: SqliteContext, key: string, staleAt: string, now: string): boolean {
  ctx.sql('DELETE FROM seen_requests WHERE stale_at <= ?').run(now);
  return ctx.sql('INSERT INTO seen_requests (key, stale_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, staleAt).changes === 1;
}

/** Remembers (or moves) where a notifier posted a run's message. */
export function setRunMessage(ctx: SqliteContext, runId: string, notifier: string, ref: MessageRef): void {
  ctx
    .sql(
      'INSERT INTO run_messages (run_id, notifier, channel, ts) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, notifier) DO UPDATE SET channel = excluded.channel, ts = excluded.ts',
    )
    .run(runId, notifier, ref.channel, ref.ts);
}
