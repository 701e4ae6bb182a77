import { errorMessage } from '../domain/errors.js';
import type { AuditLog } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import { bootId, hostName, type StepProcess } from './process-tree.js';
import type { StepCgroups } from './step-cgroup.js';
import { stopStepProcesses } from './step-leftovers.js';

/** What stopping a dead process's leftovers needs. */
export interface LeftoverDeps {
  readonly store: AuditLog;
  readonly logger: Logger;
  readonly killGraceMs: number;
  readonly cgroups: StepCgroups | null;
}

/**
 * For runs whose process died while they ran (found at a restart, or by an expired lease), stops
 * what their steps started that still runs — before the runs are marked interrupted, so
 * "interrupted" never describes a run whose command still acts. Each step's processes are found
 * from what was recorded: `step.process` (pid, start time, boot, host, cgroup) and the token in
 * `step.started` (in case the daemon died before the pid was written). Processes of another host or
 * an earlier boot cannot be reached from here: they are named in the `step.leftovers` event.
 */
export async function stopLeftovers(deps: LeftoverDeps, runIds: readonly string[]): Promise<void> {
  const boot = bootId();
  const host = hostName();
  await Promise.all(
    runIds.map(async (runId) => {
      try {
        const recorded = (await deps.store.listEvents({ runId, kind: 'step.process', limit: 1000 })).map(
          (e) => e.data as unknown as StepProcess & { step: string },
        );
        const started = await deps.store.listEvents({ runId, kind: 'step.started', limit: 1000 });
        const known = new Set(recorded.map((p) => p.token));
        const tokenOnly = started
          .map((e) => e.data['processToken'])
          .filter((t): t is string => typeof t === 'string' && !known.has(t))
          .map((token) => ({ step: '?', pid: -1, pgid: -1, startTime: null, bootId: boot, host, token, cgroup: deps.cgroups?.pathFor(token) ?? null }));
        const stopped: { step: string; pid: number; processes: number }[] = [];
        const unreachable: { step: string; pid: number; host: string }[] = [];
        for (const p of [...recorded, ...tokenOnly]) {
          if (p.host !== host || p.bootId !== boot) {
            unreachable.push({ step: p.step, pid: p.pid, host: p.host });
            continue;
          }
          const n = await stopStepProcesses(p, deps.killGraceMs, deps.cgroups);
          if (n > 0) stopped.push({ step: p.step, pid: p.pid, processes: n });
        }
        if (stopped.length === 0 && unreachable.length === 0) return;
        deps.logger.warn(
          `run ${runId}: stopped ${stopped.reduce((n, s) => n + s.processes, 0)} process(es) its steps left running` +
            (unreachable.length > 0 ? `; ${unreachable.length} step process(es) on another host or boot could not be checked` : ''),
          { runId, stopped, unreachable },
        );
        await deps.store.appendEvents([{ kind: 'step.leftovers', runId, data: { stopped, unreachable } }]);
      } catch (err) {
        deps.logger.error(`run ${runId}: stopping what its steps left running failed: ${errorMessage(err)}`, { runId });
      }
    }),
  );
}
