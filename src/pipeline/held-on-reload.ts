import type { Identity } from '../domain/approval.js';
import { describeRendered } from '../domain/describe-step.js';
import { errorMessage } from '../domain/errors.js';
import type { Playbook } from '../domain/playbook.js';
import { alertOfRun, type Run, type RunDetail, type RunStep } from '../domain/run.js';
import type { RunStore } from '../domain/store.js';
import { prepare } from '../decide/prepare.js';
import { renderPlan } from '../execute/plan.js';
import type { Logger } from '../observability/logger.js';
import type { PlaybookSet } from '../playbook/playbook-set.js';
import { runsIn } from './recovery.js';

/** Who ends a request when a reload changes the playbook under it: the record says so, not an approver. */
export const RELOAD: Identity = { id: 'reload', via: 'system' };

/** What a reload did to the runs held for approval under the playbooks it changed or removed. */
export interface HeldAfterReload {
  /** Put back to pending under the new version: they run their read-only steps again and ask anew. */
  readonly reproposed: readonly string[];
  /** Ended: their playbook is gone, or its new version refuses the alert's data. */
  readonly cancelled: readonly string[];
}

/**
 * After a reload, a run held for approval under a version that is no longer active would be
 * refused at its approval (the plan approved would not be the plan run) and could never get a new
 * run for its alert instance. So it is re-proposed: its request is ended by the reload, its plan
 * rendered under the new version, and it starts over (read-only steps again, then a new request
 * that names what changed). A run whose playbook was removed, or whose alert the new version
 * refuses, is cancelled with the reason. Of two replicas reloading, the store lets one do each.
 */
export async function reproposeHeld(
  deps: {
    readonly store: RunStore;
    readonly playbooks: PlaybookSet;
    readonly start: (run: Run, playbook: Playbook) => void;
    readonly cancelled: (runId: string) => void;
    readonly clock: () => Date;
    readonly logger: Logger;
  },
  reload: { readonly changed: readonly string[]; readonly removed: readonly string[] },
): Promise<HeldAfterReload> {
  const touched = new Set([...reload.changed, ...reload.removed]);
  if (touched.size === 0) return { reproposed: [], cancelled: [] };
  const held = (await runsIn(deps.store, 'awaiting_approval')).filter((r) => touched.has(r.playbook));
  const reproposed: string[] = [];
  const cancelled: string[] = [];
  const cancel = async (run: Run, reason: string) => {
    if ((await deps.store.cancelRun(run.id, { at: deps.clock().toISOString(), by: RELOAD, reason })) === null) return;
    deps.logger.warn(`run ${run.id} (${run.playbook}) cancelled by the reload: ${reason}`, { runId: run.id });
    deps.cancelled(run.id);
    cancelled.push(run.id);
  };
  for (const run of held) {
    const playbook = deps.playbooks.byName(run.playbook);
    if (playbook === undefined) {
      await cancel(run, `playbook ${run.playbook} was removed by a reload; the request it was held for is ended`);
      continue;
    }
    if (playbook.hash === run.playbookHash) continue;
    const detail = await deps.store.getRun(run.id);
    if (detail === null || detail.state !== 'awaiting_approval') continue;
    // A run held at an approval step after it acted cannot start over: that would act twice.
    if (detail.steps.some((st) => st.startedAt !== null && !st.readOnly && (st.kind === 'run' || st.kind === 'http'))) {
      await cancel(
        run,
        `playbook ${run.playbook} changed (a reload) after the run acted; it cannot start over under the new version, so the request it was held for is ended`,
      );
      continue;
    }
    const alert = alertOfRun(detail);
    const prepared = prepare(alert, playbook);
    if (!prepared.params.ok) {
      await cancel(run, `playbook ${run.playbook} changed (a reload) and its new version refuses the alert's data: ${prepared.params.reason}`);
      continue;
    }
    let steps: RunStep[];
    try {
      steps = renderPlan(playbook, alert, prepared.params.values, { runId: run.id, dryRun: run.dryRun });
    } catch (err) {
      await cancel(run, `playbook ${run.playbook} changed (a reload) and its new version cannot be rendered for this alert: ${errorMessage(err)}`);
      continue;
    }
    const changes = planChanges(detail.steps, steps);
    const why = `playbook ${run.playbook} changed (a reload): re-proposed under the new version`;
    const again = await deps.store.reproposeRun(run.id, {
      at: deps.clock().toISOString(),
      fromHash: run.playbookHash,
      playbookHash: playbook.hash,
      steps,
      reason: `re-proposed under playbook ${run.playbook} as changed by a reload (${describeChanges(changes)}); ${decisionReason(detail)}`,
      by: RELOAD,
      why,
      changes,
    });
    if (again === null) continue;
    deps.logger.info(`run ${run.id} (${run.playbook}) re-proposed under the reloaded playbook: ${describeChanges(changes)}`, { runId: run.id, ...changes });
    reproposed.push(run.id);
    deps.start(again, playbook);
  }
  return { reproposed, cancelled };
}

/** Which steps differ between the plan proposed and the plan under the new version, by name. */
export function planChanges(before: readonly RunStep[], after: readonly RunStep[]): { changedSteps: string[]; addedSteps: string[]; removedSteps: string[] } {
  const shown = (s: RunStep) => `${s.phase}:${s.index}:${s.readOnly}:${describeRendered(s.rendered, false)}`;
  const old = new Map(before.map((s) => [s.name, shown(s)]));
  const now = new Map(after.map((s) => [s.name, shown(s)]));
  return {
    changedSteps: [...now.keys()].filter((n) => old.has(n) && old.get(n) !== now.get(n)),
    addedSteps: [...now.keys()].filter((n) => !old.has(n)),
    removedSteps: [...old.keys()].filter((n) => !now.has(n)),
  };
}

function describeChanges(c: ReturnType<typeof planChanges>): string {
  const parts = [
    c.changedSteps.length > 0 ? `steps changed: ${c.changedSteps.join(', ')}` : '',
    c.addedSteps.length > 0 ? `steps added: ${c.addedSteps.join(', ')}` : '',
    c.removedSteps.length > 0 ? `steps removed: ${c.removedSteps.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : 'the rendered steps are the same; other fields changed';
}

/** The reason the run was decided with (mode approve, the circuit …), from its decision event. */
function decisionReason(detail: RunDetail): string {
  const decision = detail.events.find((e) => e.kind === 'decision');
  const reason = decision?.data['reason'];
  return typeof reason === 'string' ? reason : 'held for approval';
}
