import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '../config/config-schema.js';
import { parseListen } from '../config/load-config.js';
import type { Secrets } from '../config/secrets.js';
import { RemediatorError } from '../domain/errors.js';
import type { Store } from '../domain/store.js';
import type { RunExecutor } from '../execute/executor.js';
import { PlanExecutor } from '../execute/plan-executor.js';
import { createApp } from '../http/app.js';
import { Credentials } from '../http/credentials.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { BatchWorker } from '../pipeline/batch-worker.js';
import { PlaybookSet } from '../pipeline/playbook-set.js';
import { processBatch } from '../pipeline/process-batch.js';
import { formatLoadError, loadPlaybooks } from '../playbook/loader.js';
import { SqliteStore } from '../record/sqlite/sqlite-store.js';

/** A running daemon. */
export interface Daemon {
  readonly url: string;
  readonly store: Store;
  readonly worker: BatchWorker;
  readonly playbooks: PlaybookSet;
  /** Resolves when every started run has reached a resting state. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** Options beyond the configuration, mostly for tests. */
export interface DaemonOptions {
  readonly clock?: () => Date;
  readonly registry?: Registry;
}

/** Opens the store chosen by the configuration. */
export function openStore(db: string, clock: () => Date): Store {
  if (/^postgres(ql)?:\/\//i.test(db)) {
    throw new RemediatorError('invalid_config', 'db: PostgreSQL is not supported by this version yet; use an SQLite file path');
  }
  return SqliteStore.open(db, clock);
}

/**
 * Wires the daemon: the only place that picks concrete implementations. Order: playbooks (a
 * broken set refuses to start), store (and recovery of what a previous process left), HTTP.
 */
export async function startDaemon(config: Config, secrets: Secrets, logger: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  const clock = options.clock ?? (() => new Date());
  if (config.execution === 'live') {
    throw new RemediatorError('invalid_config', 'execution: live is not available in this version; steps are only planned. Set execution: dry-run');
  }
  const loaded = await loadPlaybooks(config.playbooks);
  if (loaded.errors.length > 0) {
    throw new RemediatorError('invalid_playbook', `playbooks in ${config.playbooks} are not valid:\n  ${loaded.errors.map(formatLoadError).join('\n  ')}`);
  }
  const registry = options.registry ?? new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'remediator_' });
  const metrics = createMetrics(registry);
  const playbooks = new PlaybookSet(loaded.playbooks, clock());
  metrics.playbooksLoaded.set(loaded.playbooks.length);

  const store = openStore(config.db, clock);
  await store.appendEvents([{ kind: 'playbooks.loaded', data: { directory: path.resolve(config.playbooks), files: loaded.files, count: loaded.playbooks.length } }]);
  const interrupted = await store.interruptRunning(clock().toISOString(), 'the daemon restarted while the run was running; its steps were not re-executed');
  if (interrupted.length > 0) logger.warn(`marked ${interrupted.length} run(s) interrupted after a restart`, { runIds: interrupted });

  const executor: RunExecutor = new PlanExecutor(store, logger, metrics, clock);
  const inFlight = new Set<Promise<void>>();
  const worker = new BatchWorker(
    store,
    (batch) =>
      processBatch(batch, {
        store,
        playbooks,
        settings: { execution: config.execution },
        clock,
        logger,
        metrics,
        onRunCreated: (run, playbook) => {
          const p = executor
            .execute(run, playbook)
            .catch((err: unknown) => {
              logger.error(`run ${run.id} stopped on an error: ${(err as Error).message}`, { runId: run.id });
            })
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        },
      }),
    logger,
    metrics,
  );

  const webhookCredentials = new Credentials({
    bearer: secrets.webhookTokens.map((token) => ({ token, identity: 'alertmanager' })),
    basic: secrets.webhookBasic.map((b) => ({ ...b, identity: b.user })),
  });
  const apiCredentials = new Credentials({ bearer: secrets.apiTokens });
  const app = createApp({
    logger,
    webhook: { store, credentials: webhookCredentials, maxBodyBytes: config.webhook.maxBodyBytes, clock, logger, metrics, onStored: () => worker.kick() },
    api: { store, playbooks, credentials: apiCredentials, logger, metrics },
  });

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
  worker.kick();

  const settled = async () => {
    await worker.idle();
    while (inFlight.size > 0) await Promise.all([...inFlight]);
  };
  return {
    url,
    store,
    worker,
    playbooks,
    settled,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await worker.stop();
      await settled();
      await store.close();
    },
  };
}
