import type { Playbook } from '../domain/playbook.js';
import type { Run } from '../domain/run.js';
import type { LeaseStore, RunStore } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import type { PlaybookSet } from '../playbook/playbook-set.js';

/**
 * Alone on its database (SQLite's lock), a daemon that starts knows every run left `running` was
 * its predecessor's: what their steps started and still runs is stopped (`stopLeftovers`: a kill
 * -9 of the daemon leaves its commands running), then they are marked interrupted, their steps
 * never re-executed. Beside replicas only an expired lease says a run's replica is gone (the
 * LeaseKeeper does the same then), so nothing is done here.
 */
export async function interruptLeftRunning(
  store: LeaseStore & Pick<RunStore, 'listRuns'>,
  clock: () => Date,
  logger: Logger,
  stopLeftovers?: (runIds: readonly string[]) => Promise<void>,
): Promise<string[]> {
  if (!store.exclusive) return [];
  if (stopLeftovers) {
    const running = await runsIn(store, 'running');
    if (running.length > 0) await stopLeftovers(running.map((r) => r.id));
  }
  const ids = await store.interruptRunning(clock().toISOString(), 'the daemon restarted while the run was running; its steps were not re-executed');
  if (ids.length > 0) logger.warn(`marked ${ids.length} run(s) interrupted after a restart`, { runIds: ids });
  return ids;
}

/** Every run in a state, page by page. */
export async function runsIn(store: Pick<RunStore, 'listRuns'>, state: Run['state']): Promise<Run[]> {
  const runs: Run[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listRuns({ state, limit: 200, ...(cursor ? { cursor } : {}) });
    runs.push(...page.runs);
    cursor = page.next ?? undefined;
  } while (cursor);
  return runs;
}

/**
 * Runs decided but not started before a stop are started now, if the playbook that decided them
 * is still the same version and the alert has not resolved meanwhile; otherwise they are
 * cancelled with the reason. Call after the stored batches are processed: a resolve acknowledged
 * before the stop must cancel a pending run before that run is resumed.
 */
export async function resumePending(deps: {
  readonly store: RunStore;
  readonly playbooks: PlaybookSet;
  readonly start: (run: Run, playbook: Playbook) => void;
  readonly clock: () => Date;
  readonly logger: Logger;
  /** Runs created since (by the batches just processed) are already on their way. */
  readonly before: string;
  readonly cancelled: (runId: string) => void;
}): Promise<void> {
  const { store, playbooks, clock, logger } = deps;
  const pending = (await runsIn(store, 'pending')).filter((r) => r.createdAt < deps.before);
  // Ids sort by creation time: resume in the order the runs were decided.
  pending.sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const run of pending) {
    const playbook = playbooks.byName(run.playbook);
    const why =
      run.resolvedAt !== null
        ? 'the alert resolved before the run started'
        : playbook === undefined
          ? `playbook ${run.playbook} is no longer loaded`
          : playbook.hash !== run.playbookHash
            ? `playbook ${run.playbook} changed since the run was decided`
            : null;
    if (why === null && playbook) {
      logger.info(`resuming run ${run.id} (${run.playbook}), decided before the restart`, { runId: run.id });
      deps.start(run, playbook);
    } else {
      await store.transitionRun(run.id, {
        from: ['pending'],
        to: 'cancelled',
        reason: `${why}; not started`,
        at: clock().toISOString(),
        events: [{ kind: 'run.state', data: { from: 'pending', to: 'cancelled', reason: why } }],
      });
      deps.cancelled(run.id);
    }
  }
}
