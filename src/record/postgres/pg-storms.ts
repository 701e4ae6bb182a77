import type { MessageRef, StormRecord, StormSeen } from '../../domain/store.js';
import type { Run } from '../../domain/run.js';
import { toRun, toStorm } from '../rows.js';
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
import type { Tx } from './transaction.js';

/** Storms (see StormStore); the open one is unique for every replica. */

const p = (n: number): string => `$${n}`;

export async function stormWindow(
  tx: Tx,
  w: { since: Date; targetsLimit: number },
): Promise<{ open: StormRecord | null; instances: number; targets: string[] }> {
  // FOR UPDATE: the slice that reads the open storm holds it until it commits, so the timer's end
  // (outside the decision lock) waits, and then sees the alerts this slice added.
  const open = toStorm(await tx.row(`${OPEN_STORM_SQL} FOR UPDATE`));
  if (open !== null) return { open, instances: 0, targets: [] };
  const since = w.since.toISOString();
  const count = await tx.row(windowCountSql(p), [since]);
  const targets = await tx.rows(windowTargetsSql(p), [since, w.targetsLimit]);
  return { open: null, instances: Number(count?.['n'] ?? 0), targets: targets.map((r) => String(r['target_key'])) };
}

export async function recordStormSeen(tx: Tx, rows: readonly StormSeen[], stormId: string | null): Promise<{ fresh: string[]; stormOf: Map<string, string> }> {
  if (rows.length === 0) return { fresh: [], stormOf: new Map() };
  const added = await tx.rows(
    `INSERT INTO storm_seen (instance_key, target_key, playbook, alertname, labels, generator_url, seen_at, storm_id)
     SELECT *, $8::text FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
     ON CONFLICT (instance_key) DO NOTHING RETURNING instance_key`,
    [
      rows.map((r) => r.instanceKey),
      rows.map((r) => r.targetKey),
      rows.map((r) => r.playbook),
      rows.map((r) => r.alertname),
      rows.map((r) => JSON.stringify(r.labels)),
      rows.map((r) => r.generatorUrl),
      rows.map((r) => r.at),
      stormId,
    ],
  );
  const isNew = new Set(added.map((r) => String(r['instance_key'])));
  // In the rows' order, as SQLite answers: the caller finds where the storm opens by it.
  const fresh = rows.filter((r) => isNew.has(r.instanceKey)).map((r) => r.instanceKey);
  const old = rows.filter((r) => !isNew.has(r.instanceKey)).map((r) => r.instanceKey);
  const stormOf = new Map<string, string>();
  if (old.length > 0) {
    const earlier = await tx.rows('SELECT instance_key, storm_id FROM storm_seen WHERE instance_key = ANY($1::text[]) AND storm_id IS NOT NULL', [old]);
    for (const r of earlier) stormOf.set(String(r['instance_key']), String(r['storm_id']));
  }
  return { fresh, stormOf };
}

export async function openStorm(tx: Tx, o: { id: string; at: string; since: string }): Promise<StormRecord | null> {
  if ((await tx.rows(`${insertStormSql(p)} RETURNING id`, [o.id, o.at])).length === 0) return null;
  await tx.rows(claimWindowSql(p), [o.id, o.since]);
  const figures = openedFigures(await tx.rows(stormSeenSql(p), [o.id]));
  await tx.rows(updateStormSql(p), [o.id, ...updateValues({ at: o.at, ...figures })]);
  const storm = (await getStorm(tx, o.id)) as StormRecord;
  tx.append([{ kind: 'storm.opened', at: o.at, data: stormEventData(storm) }]);
  return storm;
}

export async function growStorm(tx: Tx, id: string, g: { at: string; seen: readonly StormSeen[] }): Promise<StormRecord | null> {
  const storm = await getStorm(tx, id);
  if (storm === null || g.seen.length === 0) return storm;
  const targets = [...new Set(g.seen.map((s) => s.targetKey))];
  const counts = await tx.rows('SELECT target_key, COUNT(*) AS n FROM storm_seen WHERE storm_id = $1 AND target_key = ANY($2::text[]) GROUP BY target_key', [
    id,
    targets,
  ]);
  const stored = new Map(counts.map((r) => [String(r['target_key']), Number(r['n'])]));
  const updated = await tx.rows(`${updateStormSql(p)} RETURNING *`, [
    id,
    ...updateValues({ at: g.at, ...grownFigures(storm, g.seen, newTargetCount(g.seen, stored)) }),
  ]);
  return toStorm(updated[0]);
}

export async function endStorm(tx: Tx, e: { at: string; quietSince: string }): Promise<StormRecord | null> {
  const ended = toStorm((await tx.rows(`${endStormSql(p)} RETURNING *`, [e.at, e.quietSince]))[0]);
  if (ended === null) return null;
  tx.append([{ kind: 'storm.ended', at: e.at, data: { ...stormEventData(ended), endedAt: e.at } }]);
  return ended;
}

export async function getStorm(tx: Tx, id: string): Promise<StormRecord | null> {
  return toStorm(await tx.row('SELECT * FROM storms WHERE id = $1', [id]));
}

export async function listStorms(tx: Tx, l: { all?: boolean; limit: number }): Promise<StormRecord[]> {
  const where = l.all ? '' : 'WHERE ended_at IS NULL';
  const rows = await tx.rows(`SELECT * FROM storms ${where} ORDER BY opened_at DESC, id DESC LIMIT $1`, [l.limit]);
  return rows.map((r) => toStorm(r) as StormRecord);
}

export async function stormRuns(tx: Tx, id: string): Promise<Run[]> {
  return (await tx.rows('SELECT * FROM runs WHERE storm_id = $1 ORDER BY created_at, id', [id])).map(toRun);
}

export async function setStormMessage(tx: Tx, id: string, ref: MessageRef): Promise<void> {
  await tx.rows('UPDATE storms SET message_channel = $1, message_ts = $2 WHERE id = $3', [ref.channel, ref.ts, id]);
}
