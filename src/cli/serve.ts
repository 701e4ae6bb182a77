import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import type { Config } from '../config/config-schema.js';
import { parseListen } from '../config/load-config.js';
import type { Secrets } from '../config/secrets.js';
import { errorMessage, RemediatorError } from '../domain/errors.js';
import type { Playbook } from '../domain/playbook.js';
import type { Run } from '../domain/run.js';
import type { Store } from '../domain/store.js';
import { parseDuration } from '../domain/duration.js';
import { compileWindows } from '../decide/maintenance.js';
import type { Notifier } from '../domain/notifier.js';
import { ApprovalService } from '../approve/approval-service.js';
import { ExpiryTimer } from '../approve/expiry-timer.js';
import { Executor } from '../execute/executor.js';
import { SecretStore } from '../execute/secrets.js';
import { LogNotifier } from '../notify/log-notifier.js';
import { onlyKinds } from '../notify/only-kinds.js';
import { SlackRunMessages } from '../notify/slack/run-messages.js';
import { SlackSignatureVerifier } from '../notify/slack/signature.js';
import { SlackClient } from '../notify/slack/slack-client.js';
import { SlackNotifier } from '../notify/slack/slack-notifier.js';
import { WebhookNotifier } from '../notify/webhook-notifier.js';
import { createApp } from '../http/app.js';
import { InboundAuth } from '../http/auth.js';
import { Credentials } from '../http/credentials.js';
import { Receiver } from '../receive/receive-batch.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { BatchWorker } from '../pipeline/batch-worker.js';
import { LeaseKeeper } from '../execute/lease-keeper.js';
import { RetentionJob } from '../record/retention-job.js';
import { GuardSwitches } from '../guards/guard-switches.js';
import { PlaybookSet } from '../playbook/playbook-set.js';
import { processBatch } from '../pipeline/process-batch.js';
import { reloadPlaybooks, type ReloadResult } from '../playbook/reload-playbooks.js';
import { formatLoadError, loadPlaybooks } from '../playbook/loader.js';
import { openStore } from '../record/open-store.js';

/** A running daemon. */
export interface Daemon {
  readonly url: string;
  readonly store: Store;
  readonly worker: BatchWorker;
  readonly playbooks: PlaybookSet;
  readonly executor: Executor;
  readonly approvals: ApprovalService;
  /** Removes what is older than retention.keep, on its schedule (null: retention is off). */
  readonly retention: RetentionJob | null;
  /** Loads the playbooks again; a set with errors is refused and the old one stays. */
  reload(): Promise<ReloadResult>;
  /** Resolves when every started run has reached a resting state. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** Options beyond the configuration, mostly for tests. */
export interface DaemonOptions {
  readonly clock?: () => Date;
  readonly registry?: Registry;
  /** The environment commands and secrets are taken from (default: the process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Wires the daemon: the only place that picks concrete implementations. Order: playbooks (a
 * broken set refuses to start), store (and recovery of what a previous process left), HTTP.
 */
export async function startDaemon(config: Config, secrets: Secrets, logger: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  const clock = options.clock ?? (() => new Date());
  const loaded = await loadPlaybooks(config.playbooks);
  if (loaded.errors.length > 0) {
    throw new RemediatorError('invalid_playbook', `playbooks in ${config.playbooks} are not valid:\n  ${loaded.errors.map(formatLoadError).join('\n  ')}`);
  }
  const registry = options.registry ?? new Registry();
  const metrics = createMetrics(registry);
  const playbooks = new PlaybookSet(loaded.playbooks, clock());
  metrics.reloadSuccessful.set(1);
  metrics.reloadTimestamp.set(clock().getTime() / 1000);
  metrics.playbooksLoaded.set(loaded.playbooks.length);
  warnUnknownApprovers(
    loaded.playbooks,
    config.approvals.groups,
    secrets.apiTokens.map((t) => t.identity),
    logger,
  );
  if (config.execution === 'live') {
    // An empty approvers list lets anyone with a token, or with the Slack buttons in view, approve.
    for (const p of loaded.playbooks.filter((x) => x.mode === 'approve' && x.approval.approvers.length === 0)) {
      logger.warn(
        `playbook ${p.name} (${p.file}) needs approval but names no approvers: anyone with an API token or the Slack buttons may approve; set approval.approvers`,
        { playbook: p.name },
      );
    }
  }

  const store = await openStore(config.db, clock);
  await store.appendEvents([
    { kind: 'playbooks.loaded', data: { directory: path.resolve(config.playbooks), files: loaded.files, count: loaded.playbooks.length } },
  ]);
  // Claims and leases carry this name; the suffix tells a restarted process (same pod, same pid 1)
  // from the one before it, whose leases must run out rather than be renewed.
  const replica = `${config.replicaName ?? os.hostname()}-${randomBytes(3).toString('hex')}`;
  const leaseMs = parseDuration(config.runs.lease) ?? 30_000;
  // Alone on the database, every run left running was this process's; beside replicas, only an
  // expired lease says a run's replica is gone (the LeaseKeeper below).
  const interrupted = store.exclusive
    ? await store.interruptRunning(clock().toISOString(), 'the daemon restarted while the run was running; its steps were not re-executed')
    : [];
  if (interrupted.length > 0) logger.warn(`marked ${interrupted.length} run(s) interrupted after a restart`, { runIds: interrupted });

  let shuttingDown = false;
  const notifiers: Notifier[] = [new LogNotifier(logger)];
  if (secrets.notifyWebhookUrl) notifiers.push(new WebhookNotifier(secrets.notifyWebhookUrl));
  const budget = { count: config.guards.budget.count, perMs: parseDuration(config.guards.budget.per) ?? 3_600_000 };
  const decideSettings = { execution: config.execution, budget, maintenance: compileWindows(config.guards.maintenance) };
  const switches = new GuardSwitches({ store, clock, logger, metrics, notifiers, budget });
  metrics.guardProbe.read = async () => {
    const s = await switches.status();
    return { paused: s.paused, circuitOpen: s.circuitOpen };
  };
  metrics.guardProbe.pendingApprovals = () => store.countOpenApprovals();
  metrics.guardProbe.runsInProgress = () => store.countRunsInProgress();
  // Whoever keeps people up to date on runs (Slack's one message per run) is told of every change.
  const runWatchers: ((runId: string) => void)[] = [];
  const runChanged = (runId: string) => {
    for (const watch of runWatchers) watch(runId);
  };
  let expiry: ExpiryTimer | null = null;
  // Runs that end outside an executor (interrupted, cancelled at start or by a resolve) are
  // counted here, and their messages updated.
  const ended = (ids: readonly string[], outcome: 'interrupted' | 'cancelled') => {
    for (const id of ids) {
      runChanged(id);
      void store.getRun(id).then(
        (run) => {
          if (!run) return;
          metrics.runs.inc({ playbook: run.playbook, outcome, mode: run.dryRun ? 'dry-run' : 'live' });
          if (outcome === 'cancelled' && run.approvals.length > 0) metrics.approvals.inc({ playbook: run.playbook, outcome: 'cancelled' });
        },
        () => undefined,
      );
    }
  };
  const leases = new LeaseKeeper({ store, owner: replica, leaseMs, clock, logger, onInterrupted: (ids) => ended(ids, 'interrupted') });
  const slack =
    secrets.slackBotToken || secrets.slackWebhookUrl
      ? new SlackClient(secrets.slackBotToken ? { botToken: secrets.slackBotToken } : { webhookUrl: secrets.slackWebhookUrl ?? '' })
      : null;
  let slackMessages: SlackRunMessages | null = null;
  if (slack) {
    // Runs have their own message (below); the notifier carries notify steps and daemon notices.
    notifiers.push(
      onlyKinds(new SlackNotifier({ client: slack, defaultChannel: config.slack.channel ?? null }), [
        'step',
        'circuit.opened',
        'circuit.closed',
        'paused',
        'resumed',
      ]),
    );
    const messages = new SlackRunMessages({
      client: slack,
      channel: config.slack.channel ?? null,
      loadRun: (id) => store.getRun(id),
      refs: { get: (id) => store.runMessage(id, 'slack'), set: (id, ref) => store.setRunMessage(id, 'slack', ref) },
      publicUrl: config.publicUrl ?? null,
      onResult: (runId, result) => {
        metrics.notifications.inc({ notifier: 'slack', outcome: result.ok ? 'sent' : 'failed' });
        if (result.ok && result.action === 'updated') return;
        if (!result.ok) logger.warn(`Slack message of run ${runId} failed: ${result.error}`, { runId });
        const event = result.ok
          ? { kind: 'notification.sent' as const, data: { notifier: 'slack', kind: 'run.message' } }
          : { kind: 'notification.failed' as const, data: { notifier: 'slack', kind: 'run.message', error: result.error } };
        void store.appendEvents([{ ...event, runId }]).catch((err: unknown) => logger.error(`recording a Slack notification failed: ${errorMessage(err)}`));
      },
    });
    slackMessages = messages;
    runWatchers.push((runId) => messages.runChanged(runId));
  }
  const secretStore = new SecretStore(options.env ?? process.env, config.secretsDir ?? null, secrets.notifyWebhookUrl ? [secrets.notifyWebhookUrl] : []);
  const executor = new Executor({
    store,
    logger,
    metrics,
    clock,
    notifiers,
    secrets: secretStore,
    onRunChanged: runChanged,
    onHold: () => expiry?.poke(),
    lease: () => leases.lease(),
    liveRefused: () => (config.execution === 'dry-run' ? 'the daemon now runs with execution dry-run' : null),
    settings: {
      maxConcurrent: config.runs.maxConcurrent,
      outputCapBytes: config.runs.outputCapBytes,
      killGraceMs: parseDuration(config.runs.killGrace) ?? 5000,
      defaultTimeoutMs: parseDuration(config.runs.defaultTimeout) ?? 300_000,
      envAllow: config.runs.envAllow,
      env: options.env ?? process.env,
      prometheusUrl: config.prometheus.url,
      secretsDir: config.secretsDir ?? null,
    },
  });
  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  const start = (run: Run, playbook: Playbook) => {
    runChanged(run.id);
    track(executor.execute(run, playbook));
  };
  const approvals = new ApprovalService({
    store,
    playbook: (name) => playbooks.byName(name),
    resume: (run, playbook) => track(executor.resume(run, playbook)),
    stopRunning: (runId, reason) => executor.cancel(runId, reason),
    groups: config.approvals.groups,
    clock,
    logger,
    metrics,
    notifiers,
    onRunChanged: runChanged,
    lease: () => leases.lease(),
    refuseVerdicts: () =>
      shuttingDown
        ? { code: 'unavailable' as const, message: 'the daemon is shutting down: decide again in a moment (another replica, or this one after its restart)' }
        : config.execution === 'dry-run'
          ? {
              code: 'conflict' as const,
              message: 'the daemon runs with execution dry-run: an approved run would not act; reject it, or approve it on a live daemon',
            }
          : null,
  });
  expiry = new ExpiryTimer({ nextExpiry: () => store.nextApprovalExpiry(), expireDue: () => approvals.expireDue(), clock, logger });
  const worker = new BatchWorker(
    store,
    (batch) =>
      processBatch(batch, {
        store,
        playbooks,
        settings: decideSettings,
        clock,
        logger,
        metrics,
        onRunCreated: start,
        onRunsCancelled: (ids) => ended(ids, 'cancelled'),
        switches,
      }),
    logger,
    metrics,
    2000,
    { owner: replica, claimMs: 30_000, pollMs: store.exclusive ? 0 : 5000, clock },
  );

  const webhookCredentials = new Credentials({
    bearer: secrets.webhookTokens.map((token) => ({ token, identity: 'alertmanager' })),
    basic: secrets.webhookBasic.map((b) => ({ ...b, identity: b.user })),
  });
  const apiCredentials = new Credentials({ bearer: secrets.apiTokens });
  const receiver = new Receiver({ store, clock, logger, metrics, onStored: () => worker.kick(), isShuttingDown: () => shuttingDown });
  const app = createApp({
    logger,
    metrics,
    auth: new InboundAuth({ store, metrics, logger, clock }),
    apiCredentials,
    webhook: { receiver, credentials: webhookCredentials, maxBodyBytes: config.webhook.maxBodyBytes },
    api: { store, playbooks, reload: () => reload() },
    guards: { switches },
    runs: { approvals },
    slack: {
      verifier: secrets.slackSigningSecrets?.length ? new SlackSignatureVerifier({ secrets: secrets.slackSigningSecrets, now: () => clock().getTime() }) : null,
      approvals,
      client: slack,
      teamId: config.slack.teamId ?? null,
    },
  });

  // One reload at a time: a SIGHUP and a POST /-/reload together must not install an older set last.
  let reloading: Promise<unknown> = Promise.resolve();
  const reload = (): Promise<ReloadResult> => {
    const next = reloading.then(() => reloadPlaybooks(config.playbooks, { playbooks, store, logger, metrics, clock }));
    reloading = next.catch(() => undefined);
    return next;
  };

  const { host, port } = parseListen(config.listen);
  const server: Server = app.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (err) {
    await store.close();
    throw new RemediatorError('invalid_config', `listen: cannot listen on ${config.listen}: ${(err as Error).message}`);
  }
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  // Stored batches first: a resolve acknowledged before the stop must cancel a pending run
  // before that run is resumed.
  const restartedAt = clock().toISOString();
  worker.kick();
  await worker.idle();
  await resumePending(store, playbooks, start, clock, logger, restartedAt, (id) => ended([id], 'cancelled'));
  // Runs interrupted at start: counted, and their messages still say running.
  ended(interrupted, 'interrupted');
  leases.start();
  const retention = config.retention.enabled
    ? new RetentionJob({ store, keepMs: parseDuration(config.retention.keep) ?? 90 * 86_400_000, schedule: config.retention.schedule, clock, logger })
    : null;
  retention?.start();
  if (!store.exclusive) await leases.sweep();
  // Requests that expired while the daemon was down expire now; the timer is rebuilt from the store.
  expiry.poke();
  await expiry.idle();

  const settled = async () => {
    await worker.idle();
    while (inFlight.size > 0) await Promise.all([...inFlight]);
    await switches.idle();
    await slackMessages?.idle();
  };
  return {
    url,
    store,
    worker,
    playbooks,
    settled,
    executor,
    approvals,
    retention,
    reload,
    /**
     * Graceful stop: webhooks get 503 (Alertmanager retries them elsewhere or later), stored
     * batches wait for the next start, running steps get the grace period, then are killed and
     * their runs marked interrupted.
     */
    async close() {
      shuttingDown = true;
      expiry?.stop();
      await expiry?.idle();
      await worker.stop();
      await executor.shutdown(parseDuration(config.runs.shutdownGrace) ?? 30_000);
      await leases.stop();
      await retention?.stop();
      await Promise.all([...inFlight]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await switches.idle();
      await slackMessages?.idle();
      await store.close();
    },
  };
}

/**
 * An approver that is no API token identity, no group and does not look like a Slack user id is
 * most likely a group missing from approvals.groups: nobody could approve as it.
 */
function warnUnknownApprovers(
  list: readonly Playbook[],
  groups: Readonly<Record<string, readonly string[]>>,
  identities: readonly string[],
  logger: Logger,
): void {
  const known = new Set([...identities, ...Object.keys(groups), ...Object.values(groups).flat()]);
  for (const p of list) {
    const names = [...p.approval.approvers, ...[...p.steps, ...p.onFailure].flatMap((s) => (s.kind === 'approval' ? (s.approvers ?? []) : []))];
    for (const name of new Set(names)) {
      if (known.has(name) || /^[UW][A-Z0-9]{2,}$/.test(name)) continue;
      logger.warn(
        `playbook ${p.name} (${p.file}) names approver "${name}", which is no API token identity, no group in approvals.groups and no Slack user id: nobody can approve as it`,
        {
          playbook: p.name,
        },
      );
    }
  }
}

/**
 * Runs decided but not started before a stop are started now, if the playbook that decided them
 * is still the same version and the alert has not resolved meanwhile; otherwise they are
 * cancelled with the reason.
 */
async function resumePending(
  store: Store,
  playbooks: PlaybookSet,
  start: (run: Run, playbook: Playbook) => void,
  clock: () => Date,
  logger: Logger,
  /** Runs created since (by the batches just processed) are already on their way. */
  before: string,
  changed: (runId: string) => void,
): Promise<void> {
  const pending = [];
  let cursor: string | undefined;
  do {
    const page = await store.listRuns({ state: 'pending', limit: 200, ...(cursor ? { cursor } : {}) });
    pending.push(...page.runs.filter((r) => r.createdAt < before));
    cursor = page.next ?? undefined;
  } while (cursor);
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
      start(run, playbook);
    } else {
      await store.transitionRun(run.id, {
        from: ['pending'],
        to: 'cancelled',
        reason: `${why}; not started`,
        at: clock().toISOString(),
        events: [{ kind: 'run.state', data: { from: 'pending', to: 'cancelled', reason: why } }],
      });
      changed(run.id);
    }
  }
}
