import path from 'node:path';
import type { AuditLog } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { formatLoadError, loadPlaybooks } from './loader.js';
import type { Playbook } from '../domain/playbook.js';
import type { PlaybookSet } from './playbook-set.js';

/** The outcome of a reload. */
export type ReloadResult =
  | {
      ok: true;
      playbooks: number;
      added: string[];
      removed: string[];
      changed: string[];
      /** Runs held for approval under a changed or removed playbook: re-proposed under the new version, or cancelled. */
      heldRuns?: { reproposed: number; cancelled: number };
    }
  | { ok: false; errors: string[] };

/**
 * Loads the playbook directory again. A set with any error is refused and the old set stays, as
 * Prometheus and Alertmanager do with their configuration; either way the attempt is recorded,
 * logged and reflected in remediator_config_last_reload_successful.
 */
export async function reloadPlaybooks(
  dir: string,
  deps: {
    playbooks: PlaybookSet;
    store: AuditLog;
    logger: Logger;
    metrics: Metrics;
    clock: () => Date;
    /** What start-up refuses beyond the files themselves (a notifier escalate.notify names that is not configured), as error lines. */
    check?: (playbooks: readonly Playbook[]) => string[];
  },
): Promise<ReloadResult> {
  const { playbooks, store, logger, metrics, clock } = deps;
  let loaded: Awaited<ReturnType<typeof loadPlaybooks>>;
  try {
    loaded = await loadPlaybooks(dir);
  } catch (err) {
    // A file that vanished or became unreadable mid-read: a refused reload like any other.
    loaded = {
      playbooks: [],
      files: [],
      errors: [{ file: dir, path: '', line: null, column: null, message: `cannot read playbooks: ${(err as Error).message}` }],
    };
  }
  const refused = loaded.errors.length > 0 ? [] : (deps.check?.(loaded.playbooks) ?? []);
  if (loaded.errors.length > 0 || refused.length > 0) {
    const errors = [...loaded.errors.map(formatLoadError), ...refused];
    metrics.reloadSuccessful.set(0);
    logger.error(`playbook reload refused, the previous set stays active: ${errors.length} error(s)`, { errors });
    await store.appendEvents([{ kind: 'playbooks.reload_failed', data: { directory: path.resolve(dir), errors } }]);
    return { ok: false, errors };
  }
  const before = new Map(playbooks.all.map((p) => [p.name, p.hash]));
  const after = new Map(loaded.playbooks.map((p) => [p.name, p.hash]));
  const added = [...after.keys()].filter((n) => !before.has(n));
  const removed = [...before.keys()].filter((n) => !after.has(n));
  const changed = [...after.keys()].filter((n) => before.has(n) && before.get(n) !== after.get(n));
  playbooks.replace(loaded.playbooks, clock());
  metrics.reloadSuccessful.set(1);
  metrics.reloadTimestamp.set(clock().getTime() / 1000);
  metrics.playbooksLoaded.set(loaded.playbooks.length);
  await store.appendEvents([
    { kind: 'playbooks.loaded', data: { directory: path.resolve(dir), files: loaded.files, count: loaded.playbooks.length, added, removed, changed } },
  ]);
  logger.info(`playbooks reloaded: ${loaded.playbooks.length} active (added ${added.length}, removed ${removed.length}, changed ${changed.length})`, {
    added,
    removed,
    changed,
  });
  return { ok: true, playbooks: loaded.playbooks.length, added, removed, changed };
}
