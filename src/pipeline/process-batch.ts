import { alertName, type Alert } from '../domain/alert.js';
import { NOTHING_STORED, type Decision, type DecideSettings, type FiringAlerts, type StormState } from '../domain/decision.js';
import { formatDuration } from '../domain/duration.js';
import { errorMessage } from '../domain/errors.js';
import type { Playbook } from '../domain/playbook.js';
import type { NewEvent, Run } from '../domain/run.js';
import type { AuditLog, BatchStore, EscalationRecord, EscalationStore, GroupStore, GuardStore, RunStore, StoredBatch, StormStore } from '../domain/store.js';
import { instancePair } from '../domain/store-records.js';
import { groupKeyOf } from '../decide/group.js';
import { decide } from '../decide/decide.js';
import { instanceKeyOf, prepare } from '../decide/prepare.js';
import { renderPlan } from '../execute/plan.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { newId } from '../record/ids.js';
import { parseWebhookPayload } from '../receive/webhook-schema.js';
import { GuardSwitches } from '../guards/guard-switches.js';
import type { PlaybookSet } from '../playbook/playbook-set.js';
import { stormSlice, type StormSlice } from './storm-slice.js';

/** What processing needs; wired once in serve. */
export interface ProcessDeps {
  readonly store: BatchStore & GuardStore & EscalationStore & GroupStore & StormStore & RunStore & AuditLog;
  readonly playbooks: PlaybookSet;
  readonly settings: DecideSettings;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Called for every run created; the caller decides how it executes. */
  readonly onRunCreated: (run: Run, playbook: Playbook) => void;
  /** Alertmanager's active alerts, for playbooks with `unless` (read before the decision lock). */
  readonly firing?: () => Promise<FiringAlerts>;
  /** Told of runs a resolve cancelled before they acted (they are counted, their messages updated). */
  readonly onRunsCancelled?: (runIds: readonly string[]) => void;
  /** Opens the circuit when the budget is spent, and tells people (default: opens it, tells nobody). */
  readonly switches?: GuardSwitches;
  /** Told of an escalation this decision opened (once per escalation, whichever replica opened it); it notifies. */
  readonly onEscalated?: (escalation: EscalationRecord, playbook: Playbook) => void;
  /** Told of a storm a slice opened, grew or ended, after the slice commits. */
  readonly onStorm?: (slice: StormSlice) => void;
}

/** Alerts decided in one store transaction (a decision slice); between slices the event loop turns. */
export const SLICE_ALERTS = 50;

/** What a slice did that the rest of the daemon is told of after its commit. */
interface Afterwards {
  readonly created: { run: Run; playbook: Playbook }[];
  readonly cancelled: string[][];
  /** Alertmanager's active alerts, read before the slice (for playbooks with `unless`). */
  readonly firing?: FiringAlerts;
  /** guards.storm for the slice's alerts. */
  storm?: StormSlice;
  /** Runs that exist already for the slice's (playbook, alert instance) pairs, read before its transaction. */
  readonly known: ReadonlyMap<string, { id: string; state: string }>;
}

/**
 * Carries one stored batch through match and decide: every alert is matched against the active
 * playbooks, every match gets a recorded decision, and every "run" decision a stored run with its
 * rendered plan. Resolves are recorded on the runs of their alert instance. The alerts are decided
 * SLICE_ALERTS at a time, each slice one store transaction under the decision lock (the batch is
 * marked processed in the last one); runs start, and cancellations are told, once their slice has
 * committed. A slice that fails rolls back whole, and the batch is tried again.
 */
export async function processBatch(batch: StoredBatch, deps: ProcessDeps): Promise<void> {
  const parsed = parseWebhookPayload(batch.payload);
  if (!parsed.ok) {
    // Validated on receipt; only a schema change between versions can get here.
    await deps.store.markBatchProcessed(batch.id, { kind: 'batch.processed', data: { error: parsed.reason } });
    return;
  }
  await recordGroupTargets(parsed.alerts, deps);
  const alerts = parsed.alerts;
  let runs = 0;
  for (let from = 0; from === 0 || from < alerts.length; from += SLICE_ALERTS) {
    // SQLite answers synchronously: without a turn of the event loop between slices, webhooks and
    // health checks would wait for the whole batch.
    if (from > 0) await new Promise((resolve) => setImmediate(resolve));
    const slice = alerts.slice(from, from + SLICE_ALERTS);
    const last = from + SLICE_ALERTS >= alerts.length;
    // Alertmanager's active alerts (for playbooks with `unless`) are fetched before the slice's
    // transaction, never inside it: a slow Alertmanager must not hold the decision lock.
    const firing = deps.firing && deps.playbooks.all.some((p) => p.unless) ? await deps.firing() : undefined;
    // Re-deliveries (Alertmanager's repeat_interval, the HA peer's copy) are found in one read
    // outside the decision lock: their decision needs no guard state.
    const known = await deps.store.instanceRuns(redeliveryKeys(slice, deps));
    const after: Afterwards = { created: [], cancelled: [], known, ...(firing ? { firing } : {}) };
    runs += await deps.store.withDecisionSlice(async () => {
      const rule = deps.settings.storm ?? null;
      if (rule !== null)
        after.storm = await stormSlice(slice, { store: deps.store, playbooks: deps.playbooks, settings: deps.settings, rule, clock: deps.clock });
      let created = 0;
      for (const alert of slice) created += await processAlert(alert, batch.id, deps, after);
      if (last) await deps.store.markBatchProcessed(batch.id, { kind: 'batch.processed', data: { alerts: alerts.length, runs: runs + created } });
      return created;
    });
    const storm = after.storm;
    if (storm && (storm.opened || storm.grew || storm.ended)) deps.onStorm?.(storm);
    for (const ids of after.cancelled) deps.onRunsCancelled?.(ids);
    for (const { run, playbook } of after.created) deps.onRunCreated(run, playbook);
  }
}

async function processAlert(alert: Alert, batchId: string, deps: ProcessDeps, after: Afterwards): Promise<number> {
  const { store, clock } = deps;
  const at = clock().toISOString();
  const matched = deps.playbooks.index.match(alert);
  // A resolve reaches the playbooks that acted on the firing alert too, so their decision
  // ("suppress: resolved") is recorded and counted like any other.
  const resolvedFor = alert.status === 'resolved' ? deps.playbooks.index.match({ ...alert, status: 'firing' }) : [];
  const common = { batchId, fingerprint: alert.fingerprint };
  await store.appendEvents([
    {
      kind: 'alert.received',
      at,
      ...common,
      data: {
        alertname: alertName(alert),
        status: alert.status,
        startsAt: alert.startsAt,
        labels: alert.labels,
        matched: matched.map((p) => p.name),
        ...(resolvedFor.length > 0 ? { resolvedFor: resolvedFor.map((p) => p.name) } : {}),
      },
    },
  ]);
  if (alert.status === 'resolved') {
    const ids = await store.recordResolved(alert.fingerprint, alert.startsAt, at, alert.endsAt);
    if (ids.length > 0) deps.logger.info(`alert ${alertName(alert)} ${alert.fingerprint} resolved; recorded on ${ids.length} run(s)`, { runIds: ids });
    // Not the runs of playbooks that act on the resolve itself (match.status: resolved): a resolve
    // delivered again must not cancel what the first delivery started.
    const cancelled = await store.cancelNotStarted(
      alert.fingerprint,
      alert.startsAt,
      at,
      'the alert resolved before the run started',
      matched.map((p) => p.name),
    );
    if (cancelled.length > 0) {
      deps.logger.info(
        `alert ${alertName(alert)} ${alert.fingerprint} resolved; cancelled ${cancelled.length} run(s) that had not acted (pending, or waiting for approval)`,
        { runIds: cancelled },
      );
      after.cancelled.push(cancelled);
    }
  }
  let created = 0;
  for (const playbook of [...matched, ...resolvedFor]) {
    try {
      if (await decideAndCreate(alert, playbook, batchId, deps, after)) created++;
    } catch (err) {
      deps.logger.error(`deciding ${playbook.name} for ${alert.fingerprint} failed: ${errorMessage(err)}`, { playbook: playbook.name, batchId });
      throw err;
    }
  }
  return created;
}

/**
 * Under the store's decision lock: the guards read, the decision and the run written are one step
 * for every replica on the database, so none can pass a cooldown or the budget another has just
 * used. The run starts executing after the slice has committed.
 */
async function decideAndCreate(alert: Alert, playbook: Playbook, batchId: string, deps: ProcessDeps, after: Afterwards): Promise<boolean> {
  const firing = playbook.unless ? after.firing : undefined;
  const instanceKey = instanceKeyOf(alert);
  const storm = after.storm?.members.get(instanceKey);
  const known = redeliveryCandidate(alert, playbook) ? after.known.get(instancePair(playbook.name, instanceKey)) : undefined;
  const created = await deps.store.withDecisionLock(() => decideUnderLock(alert, playbook, batchId, deps, { firing, storm, known }));
  if (created === null) return false;
  if (created !== 'refused') after.created.push({ run: created.run, playbook });
  return true;
}

async function decideUnderLock(
  alert: Alert,
  playbook: Playbook,
  batchId: string,
  deps: ProcessDeps,
  { firing, storm, known }: { firing: FiringAlerts | undefined; storm: StormState | undefined; known: { id: string; state: string } | undefined },
): Promise<{ run: Run } | 'refused' | null> {
  const { store, clock, logger, metrics } = deps;
  const now = clock();
  const at = now.toISOString();
  const prepared = prepare(alert, playbook);
  const since = playbook.guards.maxRuns === null ? null : new Date(now.getTime() - playbook.guards.maxRuns.perMs);
  const budget = deps.settings.budget;
  const budgetSince = budget === null ? null : new Date(now.getTime() - budget.perMs);
  const decideNow = async (): Promise<Decision> => {
    // A run exists for this instance: decide says "duplicate" before it reads anything else.
    if (known !== undefined) return decide({ alert, playbook, prepared, state: { ...NOTHING_STORED, instanceRun: known }, now, settings: deps.settings });
    const state = await store.guardState({
      playbook: playbook.name,
      instanceKey: prepared.instanceKey,
      targetKey: prepared.targetKey,
      since,
      lockKey: prepared.lockKey,
      budgetSince,
    });
    const escalation =
      playbook.escalate === null
        ? undefined
        : await store.escalationState({
            playbook: playbook.name,
            targetKey: prepared.targetKey,
            instanceKey: prepared.instanceKey,
            since: new Date(now.getTime() - playbook.escalate.withinMs),
          });
    const groupKey = groupKeyOf(alert, playbook, prepared);
    const group =
      groupKey === null || playbook.guards.group === null
        ? undefined
        : { key: groupKey, ...(await store.groupState({ playbook: playbook.name, groupKey, since: new Date(now.getTime() - playbook.guards.group.perMs) })) };
    return decide({
      alert,
      playbook,
      prepared,
      state,
      now,
      settings: deps.settings,
      ...(firing ? { firing } : {}),
      ...(escalation ? { escalation } : {}),
      ...(group ? { group } : {}),
      ...(storm ? { storm } : {}),
    });
  };
  const decision = await decideNow();
  const eventBase = { at, batchId, playbook: playbook.name, fingerprint: alert.fingerprint };
  const decisionData = {
    alertname: alertName(alert),
    startsAt: alert.startsAt,
    instanceKey: prepared.instanceKey,
    targetKey: prepared.targetKey,
    ...(prepared.lockKey !== null ? { lockKey: prepared.lockKey } : {}),
    ...(storm ? { stormId: storm.id } : {}),
  };
  const suppress = async (d: Extract<Decision, { action: 'suppress' }>): Promise<null> => {
    const redelivery = d.redeliveryOf === undefined ? {} : { redelivery: true, instanceRun: d.redeliveryOf };
    await store.appendEvents([
      { kind: 'decision', ...eventBase, data: { ...decisionData, action: 'suppress', reason: d.reason, detail: d.detail, ...redelivery } },
    ]);
    if (d.redeliveryOf !== undefined) {
      // The same instance again: recorded (the audit shows every delivery), but no suppression to count or to announce.
      metrics.redelivered.inc({ playbook: playbook.name });
      logger.debug(`${playbook.name} for ${alert.fingerprint}: delivered again, already decided (run ${d.redeliveryOf})`, { playbook: playbook.name });
      return null;
    }
    metrics.suppressed.inc({ playbook: playbook.name, reason: d.reason });
    logger.info(`suppressed ${playbook.name} for ${alert.fingerprint}: ${d.reason} (${d.detail})`, { playbook: playbook.name, reason: d.reason });
    return null;
  };

  if (decision.action === 'suppress' && decision.opensEscalation) await openEscalation(alert, playbook, prepared.targetKey, decision.detail, deps);
  if (decision.action === 'suppress') return suppress(decision);
  if (decision.action === 'run' && decision.opensCircuit && budget !== null) {
    const switches = deps.switches ?? new GuardSwitches({ store, clock, logger, metrics, budget });
    await switches.openCircuit({
      reason: `budget of ${budget.count} live run(s) per ${formatDuration(budget.perMs)} spent; ${playbook.name} for ${alertName(alert)} ${alert.fingerprint} would have exceeded it`,
    });
  }

  const runId = newId('r', now);
  const refused = decision.action === 'refuse';
  const dryRun = decision.action === 'run' ? decision.dryRun : deps.settings.execution === 'dry-run' || playbook.mode === 'dry-run';
  const params = prepared.params.ok ? prepared.params.values : {};
  const steps = refused ? [] : renderPlan(playbook, alert, params, { runId, dryRun });
  const reason = refused ? `alert data refused before any step: ${decision.detail}` : decision.reason;
  const events: NewEvent[] = [
    {
      kind: 'decision',
      ...eventBase,
      data: {
        ...decisionData,
        action: decision.action,
        dryRun,
        ...(decision.action === 'run' && decision.needsApproval ? { needsApproval: true } : {}),
        ...(decision.action === 'run' && decision.held ? { held: decision.held } : {}),
        reason,
      },
    },
    { kind: 'run.created', ...eventBase, data: { state: refused ? 'failed' : 'pending', dryRun, playbookHash: playbook.hash, params } },
  ];
  const run = await store.createRun(
    {
      id: runId,
      playbook: playbook.name,
      playbookHash: playbook.hash,
      batchId,
      alertname: alertName(alert),
      fingerprint: alert.fingerprint,
      startsAt: alert.startsAt,
      instanceKey: prepared.instanceKey,
      targetKey: prepared.targetKey,
      lockKey: prepared.lockKey,
      dryRun,
      needsApproval: decision.action === 'run' && decision.needsApproval,
      generatorUrl: alert.generatorURL || null,
      state: refused ? 'failed' : 'pending',
      reason,
      params,
      labels: { ...alert.labels },
      annotations: { ...alert.annotations },
      createdAt: at,
      stormId: storm?.id ?? null,
    },
    steps,
    events,
  );
  if (run === null) {
    // A concurrent decision won the race between our read and our write (the same instance, the
    // same key, or the same lock): read again and say which, naming the run that holds it.
    const again = await decideNow();
    return suppress(
      again.action === 'suppress'
        ? again
        : { action: 'suppress', reason: 'duplicate', detail: 'a concurrent run for this instance, key or lock was created first (and has finished since)' },
    );
  }
  const groupKey = refused || dryRun ? null : groupKeyOf(alert, playbook, prepared);
  if (groupKey !== null) await store.recordGroupSeen([{ playbook: playbook.name, groupKey, targetKey: prepared.targetKey, at, runId: run.id }]);
  if (decision.action === 'run' && decision.held) metrics.held.inc({ playbook: playbook.name, reason: decision.held });
  if (refused) {
    metrics.runs.inc({ playbook: playbook.name, outcome: 'failed', mode: dryRun ? 'dry-run' : 'live' });
    logger.warn(`run ${run.id} of ${playbook.name} failed before any step: ${decision.detail}`, { runId: run.id, playbook: playbook.name });
    return 'refused';
  }
  logger.info(`run ${run.id} created: ${playbook.name} for ${alertName(alert)} ${alert.fingerprint} (${dryRun ? 'dry-run' : 'live'})`, {
    runId: run.id,
    playbook: playbook.name,
    targetKey: prepared.targetKey,
  });
  return { run };
}

/** Opens the escalation a decision asked for (conditionally: once per key) and has it notified. */
async function openEscalation(alert: Alert, playbook: Playbook, targetKey: string, reason: string, deps: ProcessDeps): Promise<void> {
  if (playbook.escalate === null) return;
  const now = deps.clock();
  const state = await deps.store.escalationState({
    playbook: playbook.name,
    targetKey,
    instanceKey: prepare(alert, playbook).instanceKey,
    since: new Date(now.getTime() - playbook.escalate.withinMs),
  });
  const opened = await deps.store.openEscalation({
    id: newId('e', now),
    playbook: playbook.name,
    targetKey,
    at: now.toISOString(),
    reason,
    runs: state.unfixed,
  });
  if (opened === null) return;
  deps.metrics.escalations.inc({ playbook: playbook.name });
  deps.logger.warn(`escalated ${playbook.name} for key "${targetKey}": ${reason}`, { playbook: playbook.name, targetKey, escalationId: opened.id });
  deps.onEscalated?.(opened, playbook);
}

/**
 * guards.group counts a percentage of the targets seen firing: every firing alert of the batch is
 * seen before any of them is decided, so ten alerts delivered together cap the fourth run, not the
 * second.
 */
async function recordGroupTargets(alerts: readonly Alert[], deps: ProcessDeps): Promise<void> {
  const at = deps.clock().toISOString();
  const rows = alerts.flatMap((alert) =>
    alert.status !== 'firing'
      ? []
      : deps.playbooks.index.match(alert).flatMap((playbook) => {
          if (playbook.guards.group === null) return [];
          const prepared = prepare(alert, playbook);
          const groupKey = groupKeyOf(alert, playbook, prepared);
          return groupKey === null ? [] : [{ playbook: playbook.name, groupKey, targetKey: prepared.targetKey, at, runId: null }];
        }),
  );
  if (rows.length > 0) await deps.store.recordGroupSeen(rows);
}

/**
 * A pair decide would call a re-delivery from its run alone: a firing alert, and a playbook
 * without escalate (whose check comes before the duplicate one).
 */
function redeliveryCandidate(alert: Alert, playbook: Playbook): boolean {
  return alert.status === 'firing' && playbook.escalate === null;
}

/** The (playbook, alert instance) pairs of a slice that may be re-deliveries. */
function redeliveryKeys(alerts: readonly Alert[], deps: ProcessDeps): { playbook: string; instanceKey: string }[] {
  return alerts.flatMap((alert) =>
    alert.status !== 'firing'
      ? []
      : deps.playbooks.index
          .match(alert)
          .filter((p) => redeliveryCandidate(alert, p))
          .map((p) => ({ playbook: p.name, instanceKey: instanceKeyOf(alert) })),
  );
}
