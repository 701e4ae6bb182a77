import type { DecideSettings } from '../domain/decision.js';
import type { StormMessages } from '../domain/storm-view.js';
import { Storms } from '../guards/storms.js';
import type { Notifier } from '../domain/notifier.js';
import type { Playbook } from '../domain/playbook.js';
import type { Run } from '../domain/run.js';
import type { Store } from '../domain/store.js';
import { ApprovalService } from '../approve/approval-service.js';
import { ExpiryTimer } from '../approve/expiry-timer.js';
import { Executor, type ExecutorDeps } from '../execute/executor.js';
import { LeaseKeeper } from '../execute/lease-keeper.js';
import { stopLeftovers } from '../execute/leftovers.js';
import { RunNotices } from '../execute/run-notices.js';
import type { SecretStore } from '../execute/secrets.js';
import { Escalations } from '../guards/escalations.js';
import { GuardSwitches } from '../guards/guard-switches.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { PlaybookSet } from '../playbook/playbook-set.js';
import { Receiver } from '../receive/receive-batch.js';
import type { AlertmanagerClient } from '../roundtrip/alertmanager-client.js';
import { ActiveAlerts } from '../roundtrip/active-alerts.js';
import { RunAnnotations, type GrafanaSettings } from '../roundtrip/run-annotations.js';
import { RunSilences } from '../roundtrip/run-silences.js';
import { BatchWorker } from './batch-worker.js';
import { processBatch } from './process-batch.js';
import { reproposeHeld, type HeldAfterReload } from './held-on-reload.js';
import { resumePending } from './recovery.js';
import { RunChanges } from './run-changes.js';

/** The concrete parts the pipeline runs on, picked by serve. */
export interface PipelineParts {
  readonly store: Store;
  readonly playbooks: PlaybookSet;
  readonly notifiers: readonly Notifier[];
  readonly secrets: SecretStore;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** This replica's name on batch claims and run leases. */
  readonly replica: string;
  readonly settings: PipelineSettings;
  /** Alertmanager's API (silences of runs), or null/absent when the configuration has none. */
  readonly alertmanager?: AlertmanagerClient | null;
  /** How often silenced runs' alerts are looked up in Alertmanager to see them resolve (default 30 s). */
  readonly resolvePollMs?: number;
  /** How long Alertmanager's active alerts are reused for `unless` preconditions (default 10 s). */
  readonly activeAlertsCacheMs?: number;
  /** Grafana's annotations API (a region per run), or null/absent when the configuration has none. */
  readonly grafana?: GrafanaSettings | null;
  /** Where people read about a run: links in silences' comments and annotations' text. */
  readonly runUrl?: (runId: string) => string | null;
  /** Notifiers by name, for playbooks' escalate.notify (default: the notifiers, by their names). */
  readonly namedNotifiers?: ReadonlyMap<string, Notifier>;
  /** Where people reach the daemon (links in escalations). */
  readonly publicUrl?: string;
  /** The one chat message of a storm (Slack), or null/absent. */
  readonly stormMessages?: StormMessages | null;
  /** Told once a storm's message is posted, with its runs (Slack posts their replies in its thread). */
  readonly onStormMessagePosted?: (runIds: readonly string[]) => void;
}

/** What the configuration says about each stage. */
export interface PipelineSettings {
  readonly execution: 'dry-run' | 'live';
  readonly decide: DecideSettings;
  readonly steps: ExecutorDeps['settings'];
  /** approvals.groups */
  readonly approverGroups: Readonly<Record<string, readonly string[]>>;
  /** How long a run stays leased to the replica executing it without a heartbeat. */
  readonly leaseMs: number;
  /** How long a batch claim holds, and how often to look for batches other replicas left. */
  readonly claimMs: number;
  readonly pollMs: number;
}

/** The assembled stages, and the switches a daemon drives them with. */
export interface Pipeline {
  readonly receiver: Receiver;
  readonly worker: BatchWorker;
  readonly executor: Executor;
  readonly approvals: ApprovalService;
  readonly switches: GuardSwitches;
  readonly escalations: Escalations;
  readonly storms: Storms;
  readonly changes: RunChanges;
  /**
   * Picks up what a previous process left (stored batches first, then pending runs; runs it
   * interrupted are announced), then starts the timers: leases, approval expiry.
   */
  start(interrupted: readonly string[]): Promise<void>;
  /** Resolves when every batch is processed and every started run has reached a resting state. */
  settled(): Promise<void>;
  /** After a reload: runs held under a playbook it changed are re-proposed, under one it removed cancelled. */
  reloaded(reload: { readonly changed: readonly string[]; readonly removed: readonly string[] }): Promise<HeldAfterReload>;
  /**
   * Stops taking work: webhooks are refused (retryable), stored batches wait for the next start,
   * running steps get `graceMs`, then are killed and their runs interrupted.
   */
  stop(graceMs: number): Promise<void>;
}

/**
 * The pipeline, in the order an alert travels it:
 *
 *   receive ──► claim ──► match, decide, create ──► execute ──► (hold ──► approve ──► execute)
 *
 * with every stage recording what it does and telling the run watchers (Slack's message per run).
 * This is the one place the stages are joined; each stage knows only the next one's entry point.
 */
export function assemblePipeline(parts: PipelineParts): Pipeline {
  const { store, playbooks, notifiers, secrets, clock, logger, metrics, replica, settings } = parts;
  let stopping = false;
  // Runs that end outside the executor are announced as the executor announces the ones it ends.
  const notices = new RunNotices({ notifiers, secrets, store, metrics, logger });
  const changes = new RunChanges({ store, metrics, logger, announce: (run, n) => notices.send(run, n) });
  const leases = new LeaseKeeper({
    store,
    owner: replica,
    leaseMs: settings.leaseMs,
    clock,
    logger,
    onInterrupted: (ids) => endedElsewhere(ids, 'interrupted'),
    driving: (): readonly string[] => executor.driving(),
    stopLeftovers: (ids) => stopLeftovers({ store, logger, killGraceMs: settings.steps.killGraceMs, cgroups: settings.steps.cgroups ?? null }, ids),
    onLost: (ids): void =>
      executor.release(ids, 'another replica interrupted the run after its lease ran out (this replica lost the database for longer than the lease)'),
  });
  const silences = new RunSilences({
    client: parts.alertmanager ?? null,
    store,
    playbook: (name) => playbooks.byName(name),
    clock,
    logger,
    metrics,
    runUrl: parts.runUrl ?? (() => null),
    ...(parts.resolvePollMs !== undefined ? { resolvePollMs: parts.resolvePollMs } : {}),
  });
  changes.watch(silences.changed);
  const annotations = new RunAnnotations({
    ...(parts.grafana ?? { client: null, dryRuns: false, labelTags: [] }),
    store,
    clock,
    logger,
    metrics,
    runUrl: parts.runUrl ?? (() => null),
  });
  changes.watch(annotations.changed);
  // Runs that end outside the executor: counted and told, and their silences and regions ended here.
  const endedElsewhere = (ids: readonly string[], outcome: 'interrupted' | 'cancelled') => {
    changes.endedElsewhere(ids, outcome);
    silences.ended(ids);
    annotations.ended(ids);
  };
  const activeAlerts = new ActiveAlerts(parts.alertmanager ?? null, parts.activeAlertsCacheMs ?? 10_000, clock);
  const switches = new GuardSwitches({ store, clock, logger, metrics, notifiers, budget: settings.decide.budget });
  const escalations = new Escalations({
    store,
    clock,
    logger,
    metrics,
    notifiers: parts.namedNotifiers ?? new Map(notifiers.map((n) => [n.name, n])),
    playbook: (name) => playbooks.byName(name),
    ...(parts.publicUrl ? { publicUrl: parts.publicUrl } : {}),
  });

  // 1. receive: a webhook's batch is stored, then the worker is kicked.
  const receiver = new Receiver({ store, clock, logger, metrics, onStored: () => worker.kick(), isShuttingDown: () => stopping });

  // 2. claim: the worker takes stored batches in arrival order (replicas each take their own) …
  // 3. match, decide, create: … and each alert of a batch is matched, decided and, for a run, created.
  const worker = new BatchWorker(
    store,
    (batch) =>
      processBatch(batch, {
        store,
        playbooks,
        settings: settings.decide,
        clock,
        logger,
        metrics,
        switches,
        onEscalated: (e, playbook) => escalations.opened(e, playbook),
        onStorm: (change) => storms.changed(change),
        onRunCreated: (run, playbook) => {
          if (run.stormId) storms.created(run.id, run.stormId);
          start(run, playbook);
        },
        firing: () => activeAlerts.read(),
        onRunsCancelled: (ids) => endedElsewhere(ids, 'cancelled'),
      }),
    logger,
    metrics,
    2000,
    { owner: replica, claimMs: settings.claimMs, pollMs: settings.pollMs, clock },
  );

  // 4. execute: every created run is queued for a slot.
  const liveRefused = () => (settings.execution === 'dry-run' ? 'the daemon now runs with execution dry-run' : null);
  const executor: Executor = new Executor({
    store,
    logger,
    metrics,
    clock,
    notifiers,
    secrets,
    settings: settings.steps,
    onRunChanged: changes.changed,
    onHold: () => expiry.poke(),
    lease: () => leases.lease(),
    liveRefused,
    // Side by side: a run waits for at most one request's timeout, whichever of the two is slower.
    onActing: (run, playbook) => Promise.all([silences.started(run, playbook), annotations.started(run)]).then(() => undefined),
  });
  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  const start = (run: Run, playbook: Playbook) => {
    changes.changed(run.id);
    track(executor.execute(run, playbook));
  };

  // 5. approve: a held run waits for a person (any channel) or its expiry; approved, it goes on.
  const approvals = new ApprovalService({
    store,
    playbook: (name) => playbooks.byName(name),
    resume: (run, playbook) => track(executor.resume(run, playbook)),
    stopRunning: (runId, reason) => executor.cancel(runId, reason),
    groups: settings.approverGroups,
    clock,
    logger,
    metrics,
    notifiers,
    onRunChanged: changes.changed,
    onRunEnded: (id) => {
      silences.ended([id]);
      annotations.ended([id]);
    },
    lease: () => leases.lease(),
    refuseVerdicts: () =>
      stopping
        ? { code: 'unavailable' as const, message: 'the daemon is shutting down: decide again in a moment (another replica, or this one after its restart)' }
        : settings.execution === 'dry-run'
          ? {
              code: 'conflict' as const,
              message: 'the daemon runs with execution dry-run: an approved run would not act; reject it, or approve it on a live daemon',
            }
          : null,
  });
  const storms = new Storms({
    store,
    rule: settings.decide.storm ?? null,
    clock,
    logger,
    metrics,
    notifiers,
    messages: parts.stormMessages ?? null,
    decideRun: (runId, verdict, who, comment) => approvals.decide(runId, verdict, who, comment, undefined, { quiet: true }),
    ...(parts.onStormMessagePosted ? { onMessagePosted: parts.onStormMessagePosted } : {}),
    ...(parts.publicUrl ? { publicUrl: parts.publicUrl } : {}),
  });
  changes.watch(storms.runChanged);
  const expiry = new ExpiryTimer({ nextExpiry: () => store.nextApprovalExpiry(), expireDue: () => approvals.expireDue(), clock, logger });

  return {
    receiver,
    worker,
    executor,
    approvals,
    switches,
    escalations,
    storms,
    changes,
    async start(interrupted) {
      const restartedAt = clock().toISOString();
      worker.kick();
      await worker.idle();
      await resumePending({ store, playbooks, start, clock, logger, before: restartedAt, cancelled: (id) => endedElsewhere([id], 'cancelled') });
      // Runs interrupted at start: counted, their messages (which still say running) updated, and
      // their silences expired (or kept, keepOnFailure) and regions closed now, not left to run out.
      endedElsewhere(interrupted, 'interrupted');
      leases.start();
      storms.start();
      if (!store.exclusive) await leases.sweep();
      // Requests that expired while the daemon was down expire now; the timer is rebuilt from the store.
      expiry.poke();
      await expiry.idle();
    },
    async settled() {
      await worker.idle();
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      await executor.idle();
      await changes.idle();
      await silences.idle();
      await annotations.idle();
      await switches.idle();
      await escalations.idle();
      await storms.idle();
    },
    reloaded(reload) {
      return reproposeHeld({ store, playbooks, start, clock, logger, cancelled: (id) => endedElsewhere([id], 'cancelled') }, reload);
    },
    async stop(graceMs) {
      stopping = true;
      silences.stop();
      storms.stop();
      expiry.stop();
      await expiry.idle();
      await worker.stop();
      await executor.shutdown(graceMs);
      await leases.stop();
      await Promise.all([...inFlight]);
      await changes.idle();
      await silences.idle();
      await annotations.idle();
      await switches.idle();
      await escalations.idle();
      await storms.idle();
    },
  };
}
