import { commonLabels } from '../domain/common-labels.js';
import type { StormRecord, StormSeen } from '../domain/store.js';
import type { Row } from './rows.js';

/**
 * The storm queries and the bookkeeping around them, the same for both stores but for the
 * placeholders (SQLite `?`, PostgreSQL `$n`).
 */

type P = (n: number) => string;

export const OPEN_STORM_SQL = 'SELECT * FROM storms WHERE ended_at IS NULL';

export const windowCountSql = (p: P): string => `SELECT COUNT(*) AS n FROM storm_seen WHERE seen_at >= ${p(1)} AND storm_id IS NULL`;

export const windowTargetsSql = (p: P): string =>
  `SELECT DISTINCT target_key FROM storm_seen WHERE seen_at >= ${p(1)} AND storm_id IS NULL ORDER BY target_key LIMIT ${p(2)}`;

/** The storm row of a new storm; the unique index on open storms makes it a no-op while one is open. */
export const insertStormSql = (p: P): string =>
  `INSERT INTO storms (id, opened_at, last_alert_at, alerts, targets, playbooks, common_labels, generator_url)
   VALUES (${p(1)}, ${p(2)}, ${p(2)}, 0, 0, '[]', '{}', NULL) ON CONFLICT DO NOTHING`;

export const claimWindowSql = (p: P): string => `UPDATE storm_seen SET storm_id = ${p(1)} WHERE seen_at >= ${p(2)} AND storm_id IS NULL`;

export const stormSeenSql = (p: P): string => `SELECT target_key, playbook, labels, generator_url FROM storm_seen WHERE storm_id = ${p(1)}`;

export const updateStormSql = (p: P): string =>
  `UPDATE storms SET last_alert_at = ${p(2)}, alerts = ${p(3)}, targets = ${p(4)}, playbooks = ${p(5)}, common_labels = ${p(6)}, generator_url = ${p(7)}
   WHERE id = ${p(1)}`;

export const endStormSql = (p: P): string => `UPDATE storms SET ended_at = ${p(1)} WHERE ended_at IS NULL AND last_alert_at <= ${p(2)}`;

/** The storm's figures once it opened over the window's rows, all of them read once. */
export function openedFigures(rows: readonly Row[]): Omit<StormUpdate, 'at'> {
  const labels = rows.map((r) => JSON.parse(String(r['labels'])) as Record<string, string>);
  const urls = new Set(rows.map((r) => (typeof r['generator_url'] === 'string' ? r['generator_url'] : '')));
  const url = urls.size === 1 ? [...urls][0] : '';
  return {
    alerts: rows.length,
    targets: new Set(rows.map((r) => String(r['target_key']))).size,
    playbooks: [...new Set(rows.map((r) => String(r['playbook'])))].sort(),
    commonLabels: commonLabels(null, labels),
    generatorUrl: url === '' || url === undefined ? null : url,
  };
}

/**
 * A storm's figures after new instances joined it: `newTargets` of their target keys had no row
 * in the storm before. Kept incrementally, so a 10,000-alert storm is never read whole per slice.
 */
export function grownFigures(storm: StormRecord, seen: readonly StormSeen[], newTargets: number): Omit<StormUpdate, 'at'> {
  const sameUrl = storm.generatorUrl !== null && seen.every((s) => s.generatorUrl === storm.generatorUrl);
  return {
    alerts: storm.alerts + seen.length,
    targets: storm.targets + newTargets,
    playbooks: [...new Set([...storm.playbooks, ...seen.map((s) => s.playbook)])].sort(),
    commonLabels: commonLabels(
      storm.commonLabels,
      seen.map((s) => s.labels),
    ),
    generatorUrl: sameUrl ? storm.generatorUrl : null,
  };
}

/** How many distinct target keys of `seen` have no other row in the storm than these (counts by target read from the store). */
export function newTargetCount(seen: readonly StormSeen[], stored: ReadonlyMap<string, number>): number {
  const mine = new Map<string, number>();
  for (const s of seen) mine.set(s.targetKey, (mine.get(s.targetKey) ?? 0) + 1);
  let n = 0;
  for (const [target, count] of mine) if ((stored.get(target) ?? 0) <= count) n++;
  return n;
}

export interface StormUpdate {
  readonly at: string;
  readonly alerts: number;
  readonly targets: number;
  readonly playbooks: readonly string[];
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly generatorUrl: string | null;
}

/** The values of updateStormSql after the id. */
export function updateValues(u: StormUpdate): unknown[] {
  return [u.at, u.alerts, u.targets, JSON.stringify(u.playbooks), JSON.stringify(u.commonLabels), u.generatorUrl];
}

/** The "storm.opened" / "storm.ended" event data. */
export function stormEventData(s: StormRecord): Record<string, unknown> {
  return {
    id: s.id,
    openedAt: s.openedAt,
    lastAlertAt: s.lastAlertAt,
    alerts: s.alerts,
    targets: s.targets,
    playbooks: s.playbooks,
    commonLabels: s.commonLabels,
    ...(s.generatorUrl !== null ? { generatorUrl: s.generatorUrl } : {}),
  };
}
