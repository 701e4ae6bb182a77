// Past the usual size on purpose: the daemon's configuration and wiring, top to bottom, the one
// place where concrete stores, notifiers and adapters are chosen; the stages live in pipeline/.
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import type { Playbook } from '../domain/playbook.js';
import { stormRule, type Config } from '../config/config-schema.js';
import { parseListen } from '../config/load-config.js';
import type { Secrets } from '../config/secrets.js';
import { RemediatorError } from '../domain/errors.js';
import type { Notifier } from '../domain/notifier.js';
import type { Store } from '../domain/store.js';
import { compileWindows, nextStart } from '../decide/maintenance.js';
import { formatDuration } from '../domain/duration.js';
import type { MaintenanceWindow } from '../domain/decision.js';
import { stopLeftovers } from '../execute/leftovers.js';
import { SecretStore } from '../execute/secrets.js';
import { StepCgroups } from '../execute/step-cgroup.js';
import { InboundAuth } from '../http/auth.js';
import { createApp } from '../http/app.js';
import { createConsole, type Console } from '../http/console/console-router.js';
import type { WindowView } from '../http/console/pages/guards-page.js';
import { RolePolicy } from '../http/roles.js';
import { Credentials } from '../http/credentials.js';
import { LogNotifier } from '../notify/log-notifier.js';
import { SlackSignatureVerifier } from '../notify/slack/signature.js';
import { wireSlack } from '../notify/slack/slack-wiring.js';
import { WebhookNotifier } from '../notify/webhook-notifier.js';
import { namedNotifiers } from './named-notifiers.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { assemblePipeline, type Pipeline } from '../pipeline/assemble.js';
import { AlertmanagerClient } from '../roundtrip/alertmanager-client.js';
import { GrafanaClient } from '../roundtrip/grafana-client.js';
import { interruptLeftRunning } from '../pipeline/recovery.js';
import { formatLoadError, loadPlaybooks } from '../playbook/loader.js';
import { PlaybookSet } from '../playbook/playbook-set.js';
import { PlaybookWatcher } from '../playbook/playbook-watcher.js';
import { reloadPlaybooks, type ReloadResult } from '../playbook/reload-playbooks.js';
import { playbookWarnings } from '../playbook/warnings.js';
import { isPostgresUrl, openStore } from '../record/open-store.js';
import { ReportThread } from '../record/report-thread.js';
import { RetentionJob } from '../record/retention-job.js';
import { StoreHealth, watchedStore } from '../record/store-health.js';
import { announceBrokenTrail, openCheckpoints } from './checkpoint-wiring.js';
import { readReport } from './report-command.js';

/** A running daemon. */
export interface Daemon {
  readonly url: string;
  readonly store: Store;
  readonly worker: Pipeline['worker'];
  readonly playbooks: PlaybookSet;
  readonly executor: Pipeline['executor'];
  readonly approvals: Pipeline['approvals'];
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
 * Starts the daemon: configuration in, concrete parts picked (the only place that picks them),
 * the pipeline assembled (src/pipeline/assemble.ts), the HTTP adapters put on top. Order:
 * playbooks (a broken set refuses to start), store (and what a previous process left running),
 * HTTP, then recovery of stored batches and pending runs, then the background jobs.
 */
export async function startDaemon(config: Config, secrets: Secrets, logger: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  const clock = options.clock ?? (() => new Date());
  const env = options.env ?? process.env;
  // Before the playbooks are read: whatever changes from here on is reloaded once watching starts.
  const watcher = config.reload.watch
    ? new PlaybookWatcher({ dir: config.playbooks, intervalMs: config.reload.interval, reload: () => reload(), logger })
    : null;
  await watcher?.snapshot();
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
  const warningContext = { execution: config.execution, groups: config.approvals.groups, identities: secrets.apiTokens.map((t) => t.identity) };
  for (const w of playbookWarnings(loaded.playbooks, warningContext)) logger.warn(w.message, { playbook: w.playbook });

  // Every write's outcome is watched: readiness must say so when the store stops taking writes.
  const storeHealth = new StoreHealth();
  const store = watchedStore(await openStore(config.db, clock), storeHealth);
  // Before anything is appended: the chain since the last signed checkpoint must still be the one signed.
  let notifiersLater: readonly Notifier[] = [];
  const checkpoints = await openCheckpoints(config, store, logger, clock, () => notifiersLater).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  await store.appendEvents([
    { kind: 'playbooks.loaded', data: { directory: path.resolve(config.playbooks), files: loaded.files, count: loaded.playbooks.length } },
  ]);
  const cgroups = config.runs.cgroup === undefined ? null : StepCgroups.open(config.runs.cgroup);
  const interrupted = await interruptLeftRunning(store, clock, logger, (ids) =>
    stopLeftovers({ store, logger, killGraceMs: config.runs.killGrace, cgroups }, ids),
  );

  const windows = compileWindows(config.guards.maintenance);
  const notifiers: Notifier[] = [new LogNotifier(logger)];
  if (secrets.notifyWebhookUrl) notifiers.push(new WebhookNotifier(secrets.notifyWebhookUrl));
  const slack = wireSlack(
    { botToken: secrets.slackBotToken, webhookUrl: secrets.slackWebhookUrl, channel: config.slack.channel ?? null, publicUrl: config.publicUrl ?? null },
    { store, metrics, logger },
  );
  if (slack) notifiers.push(slack.notifier);
  // Every notifier's series exist from the start, so a notifier that has never once succeeded (a
  // wrong URL, a revoked token) still shows as failing against its zero successes.
  const named = await (async () => {
    try {
      return namedNotifiers(config, notifiers);
    } catch (err) {
      await store.close();
      throw err;
    }
  })();
  // A playbook naming a notifier that is not configured is refused at start and at every reload.
  const unknownNotifiers = (books: readonly Playbook[]): string[] =>
    playbookWarnings(books, { ...warningContext, notifiers: [...named.keys()] })
      .filter((w) => w.path[0] === 'escalate')
      .map((w) => `${w.message} (escalate.notify)`);
  const unknown = unknownNotifiers(loaded.playbooks);
  if (unknown.length > 0) {
    await store.close();
    throw new RemediatorError('invalid_config', unknown.join('\n'));
  }
  for (const name of new Set([...notifiers.map((n) => n.name), ...named.keys()]))
    for (const outcome of ['sent', 'failed']) metrics.notifications.inc({ notifier: name, outcome }, 0);

  const alertmanager =
    config.alertmanager === undefined
      ? null
      : new AlertmanagerClient({
          urls: config.alertmanager.url,
          tokenFile: config.alertmanager.tokenFile,
          basicAuth: config.alertmanager.basicAuth,
          timeoutMs: config.alertmanager.timeout,
        });
  const grafana = await (async () => {
    if (config.grafana === undefined) return null;
    try {
      const client = new GrafanaClient({ url: config.grafana.url, tokenFile: config.grafana.tokenFile, timeoutMs: config.grafana.timeout });
      return { client, dashboardUID: config.grafana.dashboardUID, dryRuns: config.grafana.dryRuns, labelTags: config.grafana.tags };
    } catch (err) {
      await store.close();
      throw err;
    }
  })();
  if (grafana) for (const outcome of ['created', 'updated', 'failed']) metrics.annotations.inc({ outcome }, 0);
  const pipeline = assemblePipeline({
    alertmanager,
    grafana,
    ...(config.alertmanager ? { activeAlertsCacheMs: config.alertmanager.activeAlertsCache, resolvePollMs: config.alertmanager.resolvePoll } : {}),
    runUrl: (runId) => (config.publicUrl === undefined ? null : `${config.publicUrl.replace(/\/+$/, '')}/console/runs/${encodeURIComponent(runId)}`),
    store,
    playbooks,
    notifiers,
    namedNotifiers: named,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    stormMessages: slack?.stormMessages ?? null,
    ...(slack ? { onStormMessagePosted: (ids: readonly string[]) => ids.forEach((id) => slack.runMessages.runChanged(id)) } : {}),
    secrets: new SecretStore(env, config.secretsDir ?? null, secrets.notifyWebhookUrl ? [secrets.notifyWebhookUrl] : [], [config.audit.checkpoints.key]),
    clock,
    logger,
    metrics,
    // Claims and leases carry this name; the suffix tells a restarted process (same pod, same pid 1)
    // from the one before it, whose leases must run out rather than be renewed.
    replica: `${config.replicaName ?? os.hostname()}-${randomBytes(3).toString('hex')}`,
    settings: {
      execution: config.execution,
      decide: {
        execution: config.execution,
        budget: { count: config.guards.budget.count, perMs: config.guards.budget.per },
        maintenance: windows,
        storm: stormRule(config),
      },
      steps: {
        maxConcurrent: config.runs.maxConcurrent,
        outputCapBytes: config.runs.outputCapBytes,
        killGraceMs: config.runs.killGrace,
        defaultTimeoutMs: config.runs.defaultTimeout,
        envAllow: config.runs.envAllow,
        env,
        prometheusUrl: config.prometheus.url,
        secretsDir: config.secretsDir ?? null,
        cgroups,
      },
      approverGroups: config.approvals.groups,
      leaseMs: config.runs.lease,
      claimMs: 30_000,
      pollMs: store.exclusive ? 0 : 5000,
    },
  });
  if (slack) pipeline.changes.watch((runId) => slack.runMessages.runChanged(runId));
  metrics.guardProbe.read = async () => {
    const s = await pipeline.switches.status();
    return { paused: s.paused, circuitOpen: s.circuitOpen };
  };
  metrics.guardProbe.pendingApprovals = () => store.countOpenApprovals();
  metrics.guardProbe.nextApprovalExpiry = () => store.nextApprovalExpiry();
  metrics.guardProbe.runsInProgress = () => store.countRunsInProgress();
  metrics.guardProbe.batchesPending = () => store.countPendingBatches();

  // One reload at a time: a SIGHUP and a POST /-/reload together must not install an older set last.
  let reloading: Promise<unknown> = Promise.resolve();
  const reload = (): Promise<ReloadResult> => {
    const next = reloading.then(async (): Promise<ReloadResult> => {
      const result = await reloadPlaybooks(config.playbooks, { playbooks, store, logger, metrics, clock, check: unknownNotifiers });
      if (!result.ok) return result;
      const held = await pipeline.reloaded(result);
      return { ...result, heldRuns: { reproposed: held.reproposed.length, cancelled: held.cancelled.length } };
    });
    reloading = next.catch(() => undefined);
    return next;
  };

  const apiCredentials = new Credentials({ bearer: secrets.apiTokens });
  const roles = new RolePolicy({
    grants: config.auth.roles,
    tokenDefault: config.auth.tokenRoles,
    proxyDefault: config.auth.proxy.roles,
    groups: config.approvals.groups,
  });
  const auth = new InboundAuth({ store, metrics, logger, clock, roles });
  // SQLite reads synchronously: the console's report figures are computed off the event loop.
  const reportThread = config.console.enabled && !isPostgresUrl(config.db) ? new ReportThread(config.db) : null;
  const web: Console | null = config.console.enabled
    ? createConsole({
        store,
        playbooks,
        approvals: pipeline.approvals,
        switches: pipeline.switches,
        escalations: pipeline.escalations,
        storms: pipeline.storms,
        reload,
        watchRuns: (watcher) => pipeline.changes.watch(watcher),
        auth,
        credentials: apiCredentials,
        groups: config.approvals.groups,
        proxy: config.auth.proxy.header ? { header: config.auth.proxy.header, from: config.auth.proxy.from } : null,
        session: { idleMs: config.console.sessionIdle, maxMs: config.console.sessionMax },
        publicUrl: config.publicUrl ?? null,
        reports: reportThread
          ? (windows) => reportThread.reports(windows)
          : (windows) =>
              Promise.all(
                windows.map((w) => readReport({ db: config.db, since: w.since, until: w.until, ...(w.playbook ? { playbook: w.playbook } : {}) }, clock())),
              ),
        windows: (now) => windows.map((w) => windowView(w, now)),
        source: (p) => readFile(path.join(config.playbooks, p.file), 'utf8').catch(() => null),
        clock,
        logger,
      })
    : null;
  const app = createApp({
    logger,
    metrics,
    auth,
    storeHealth,
    apiCredentials,
    webhook: {
      receiver: pipeline.receiver,
      credentials: new Credentials({
        bearer: secrets.webhookTokens.map((token) => ({ token, identity: 'alertmanager' })),
        basic: secrets.webhookBasic.map((b) => ({ ...b, identity: b.user })),
      }),
      maxBodyBytes: config.webhook.maxBodyBytes,
      maxConcurrentBodies: config.webhook.maxConcurrentBodies,
    },
    api: { store, playbooks, reload },
    guards: { switches: pipeline.switches, escalations: pipeline.escalations, storms: pipeline.storms },
    runs: { approvals: pipeline.approvals },
    slack: {
      verifier: secrets.slackSigningSecrets?.length ? new SlackSignatureVerifier({ secrets: secrets.slackSigningSecrets, now: () => clock().getTime() }) : null,
      approvals: pipeline.approvals,
      storms: pipeline.storms,
      client: slack?.client ?? null,
      teamId: config.slack.teamId ?? null,
      replays: store,
      clock,
    },
    ...(web ? { console: web.router } : {}),
  });

  const { host, port } = parseListen(config.listen);
  // Slow clients (headers or a body trickling in) are cut off; the check runs every second, not
  // Node's default 30 s, so the timeouts hold to about a second.
  const server: Server = createServer(
    {
      headersTimeout: Math.min(config.http.headersTimeout, config.http.requestTimeout),
      requestTimeout: config.http.requestTimeout,
      connectionsCheckingInterval: 1000,
    },
    app,
  ).listen(port, host);
  try {
    await once(server, 'listening');
  } catch (err) {
    await store.close();
    throw new RemediatorError('invalid_config', `listen: cannot listen on ${config.listen}: ${(err as Error).message}`);
  }
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  await pipeline.start(interrupted);
  await watcher?.start();
  const retention = config.retention.enabled
    ? new RetentionJob({ store, keepMs: config.retention.keep, schedule: config.retention.schedule, clock, logger })
    : null;
  retention?.start();
  notifiersLater = notifiers;
  if (checkpoints?.broken) await announceBrokenTrail(checkpoints.broken, { store, logger, notifiers });
  await checkpoints?.job.checkpoint();
  checkpoints?.job.start();

  return {
    url,
    store,
    worker: pipeline.worker,
    playbooks,
    executor: pipeline.executor,
    approvals: pipeline.approvals,
    retention,
    reload,
    async settled() {
      await pipeline.settled();
      await slack?.runMessages.idle();
    },
    /**
     * Graceful stop: webhooks get 503 (Alertmanager retries them elsewhere or later), stored
     * batches wait for the next start, running steps get the grace period, then are killed and
     * their runs marked interrupted.
     */
    async close() {
      await watcher?.stop();
      await pipeline.stop(config.runs.shutdownGrace);
      await checkpoints?.job.stop();
      await retention?.stop();
      web?.close();
      await reportThread?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await slack?.runMessages.idle();
      await store.close();
    },
  };
}

/** A maintenance window as the console's guards page shows it: in force now, and its next start. */
function windowView(w: MaintenanceWindow, now: Date): WindowView {
  const start = w.lastStart(now, w.durationMs);
  const next = nextStart(w, now);
  return {
    name: w.name,
    cron: w.cron,
    action: w.action,
    matchers: w.matchers.map(String),
    durationText: formatDuration(w.durationMs),
    current: start === null ? null : { from: start.toISOString(), until: new Date(start.getTime() + w.durationMs).toISOString() },
    next: next === null ? null : next.toISOString(),
  };
}
