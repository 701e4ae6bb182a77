import express, { type Router } from 'express';
import type { StoreLifecycle } from '../domain/store.js';
import type { Metrics } from '../observability/metrics.js';
import type { PlaybookSet } from '../playbook/playbook-set.js';
import type { StoreHealth } from '../record/store-health.js';

/**
 * /-/healthy (the process answers), /-/ready (the store takes writes: its probe writes, and no
 * real write failed just now — see StoreHealth), /metrics.
 */
export function healthRouter(deps: { store: StoreLifecycle; metrics: Metrics; playbooks: PlaybookSet; storeHealth?: StoreHealth }): Router {
  const router = express.Router();
  router.get('/-/healthy', (_req, res) => {
    res.type('text/plain').send('remediator is healthy.\n');
  });
  router.get('/-/ready', async (_req, res) => {
    try {
      const problem = deps.storeHealth?.problem() ?? null;
      if (problem !== null) throw new Error(problem);
      await deps.store.ping();
      res.type('text/plain').send(`remediator is ready: ${deps.playbooks.all.length} playbook(s).\n`);
    } catch (err) {
      res
        .status(503)
        .type('text/plain')
        .send(`remediator is not ready: ${(err as Error).message}\n`);
    }
  });
  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}
