import type { MessageRef, StormRecord, StormSeen } from '../../domain/store.js';
import type { Run } from '../../domain/run.js';
import { toRun, toStorm, type Row } from '../rows.js';
import {
  claimWindowSql,
  endStormSql,
  grownFigures,
  insertStormSql,
  newTargetCount,
  OPEN_STORM_SQL,
  openedFigures,
  stormEventData,
  stormSeenSql,
  updateStormSql,
  updateValues,
  windowCountSql,
  windowTargetsSql,
} from '../storm-sql.js';
import type { SqliteContext } from './context.js';

/** Storms (see StormStore); called inside the store's transaction for every write. */

const q = (): string => '?';
/** Numbered places as named ones (@p1, @p2): better-sqlite3 binds `?NNN` only by position. */
const nth = (n: number): string => `@p${n}`;
const named = (...values: unknown[]): Record<string, unknown> => Object.fromEntries(values.map((v, i) => [`p${i + 1}`, v]));

export function stormWindow(ctx: SqliteContext, w: { since: Date; targetsLimit: number }): { open: StormRecord | null; instances: number; targets: string[] } {
  const open = toStorm(ctx.sql(OPEN_STORM_SQL).get() as Row | undefined);
  if (open !== null) return { open, instances: 0, targets: [] };
  const since = w.since.toISOString();
  const count = ctx.sql(windowCountSql(q)).get(since) as Row;
  const targets = ctx.sql(windowTargetsSql(q)).all(since, w.targetsLimit) as Row[];
  return { open: null, instances: Number(count['n']), targets: targets.map((r) => String(r['target_key'])) };
}

export function recordStormSeen(ctx: SqliteContext, rows: readonly StormSeen[], stormId: string | null): { fresh: string[]; stormOf: Map<string, string> } {
  const insert = ctx.sql(
    `INSERT INTO storm_seen (instance_key, target_key, playbook, alertname, labels, generator_url, seen_at, storm_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_key) DO NOTHING`,
  );
  const earlier = ctx.sql('SELECT storm_id FROM storm_seen WHERE instance_key = ?');
  const fresh: string[] = [];
  const stormOf = new Map<string, string>();
  for (const r of rows) {
    const result = insert.run(r.instanceKey, r.targetKey, r.playbook, r.alertname, JSON.stringify(r.labels), r.generatorUrl, r.at, stormId);
    if (result.changes === 1) {
      fresh.push(r.instanceKey);
      continue;
    }
    const storm = (earlier.get(r.instanceKey) as Row | undefined)?.['storm_id'];
    if (typeof storm === 'string') stormOf.set(r.instanceKey, storm);
  }
  return { fresh, stormOf };
}

export function openStorm(ctx: SqliteContext, o: { id: string; at: string; since: string }): StormRecord | null {
  if (ctx.sql(insertStormSql(nth)).run(named(o.id, o.at)).changes === 0) return null;
  ctx.sql(claimWindowSql(nth)).run(named(o.id, o.since));
  const figures = openedFigures(ctx.sql(stormSeenSql(q)).all(o.id) as Row[]);
  ctx.sql(updateStormSql(nth)).run(named(o.id, ...updateValues({ at: o.at, ...figures })));
  const storm = getStorm(ctx, o.id) as StormRecord;
  ctx.insertEvents([{ kind: 'storm.opened', at: o.at, data: stormEventData(storm) }]);
  return storm;
}

export function growStorm(ctx: SqliteContext, id: string, g: { at: string; seen: readonly StormSeen[] }): StormRecord | null {
  const storm = getStorm(ctx, id);
  if (storm === null || g.seen.length === 0) return storm;
  const targets = [...new Set(g.seen.map((s) => s.targetKey))];
  const counts = ctx
    .sql('SELECT target_key, COUNT(*) AS n FROM storm_seen WHERE storm_id = ? AND target_key IN (SELECT value FROM json_each(?)) GROUP BY target_key')
    .all(id, JSON.stringify(targets)) as Row[];
  const stored = new Map(counts.map((r) => [String(r['target_key']), Number(r['n'])]));
  ctx.sql(updateStormSql(nth)).run(named(id, ...updateValues({ at: g.at, ...grownFigures(storm, g.seen, newTargetCount(g.seen, stored)) })));
  return getStorm(ctx, id);
}

export function endStorm(ctx: SqliteContext, e: { at: string; quietSince: string }): StormRecord | null {
  const open = toStorm(ctx.sql(OPEN_STORM_SQL).get() as Row | undefined);
  if (open === null) return null;
  if (ctx.sql(endStormSql(q)).run(e.at, e.quietSince).changes === 0) return null;
  const ended = getStorm(ctx, open.id) as StormRecord;
  ctx.insertEvents([{ kind: 'storm.ended', at: e.at, data: { ...stormEventData(ended), endedAt: e.at } }]);
  return ended;
}

export function getStorm(ctx: SqliteContext, id: string): StormRecord | null {
  return toStorm(ctx.sql('SELECT * FROM storms WHERE id = ?').get(id) as Row | undefined);
}

export function listStorms(ctx: SqliteContext, l: { all?: boolean; limit: number }): StormRecord[] {
  const where = l.all ? '' : 'WHERE ended_at IS NULL';
  const rows = ctx.sql(`SELECT * FROM storms ${where} ORDER BY opened_at DESC, id DESC LIMIT ?`).all(l.limit) as Row[];
  return rows.map((r) => toStorm(r) as StormRecord);
}

export function stormRuns(ctx: SqliteContext, id: string): Run[] {
  return (ctx.sql('SELECT * FROM runs WHERE storm_id = ? ORDER BY created_at, id').all(id) as Row[]).map(toRun);
}

export function setStormMessage(ctx: SqliteContext, id: string, ref: MessageRef): void {
  ctx.sql('UPDATE storms SET message_channel = ?, message_ts = ? WHERE id = ?').run(ref.channel, ref.ts, id);
}
