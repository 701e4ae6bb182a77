import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { loadConfig, unknownEnvVars } from '../../src/config/load-config.js';
import { ROOT } from '../support/fixtures.js';

const DIR = path.join(ROOT, 'deploy', 'kubernetes');

/** Every document of every manifest, parsed. */
function manifests(): Record<string, unknown>[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml') && f !== 'remediator.yaml' && f !== 'kustomization.yaml')
    .flatMap((f) => parseAllDocuments(readFileSync(path.join(DIR, f), 'utf8')).map((d) => d.toJS() as Record<string, unknown>));
}

interface Container {
  env: { name: string; value?: string }[];
  args: string[];
  readinessProbe: { httpGet: { path: string } };
  livenessProbe: { httpGet: { path: string } };
  volumeMounts: { name: string; mountPath: string }[];
}

test('the manifests parse, and the Deployment runs two replicas probed on /-/ready and /-/healthy', () => {
  const all = manifests();
  const deployment = all.find((m) => m['kind'] === 'Deployment') as {
    spec: { replicas: number; template: { spec: { containers: Container[]; terminationGracePeriodSeconds: number } } };
  };
  assert.ok(deployment);
  assert.equal(deployment.spec.replicas, 2);
  const [container] = deployment.spec.template.spec.containers;
  assert.equal(container?.readinessProbe.httpGet.path, '/-/ready');
  assert.equal(container?.livenessProbe.httpGet.path, '/-/healthy');
  assert.ok(all.some((m) => m['kind'] === 'Service'));
  assert.ok(all.some((m) => m['kind'] === 'PodDisruptionBudget'));
});

test('every variable the Deployment sets is one remediator reads, and the config file it mounts is valid', () => {
  const deployment = manifests().find((m) => m['kind'] === 'Deployment') as {
    spec: { template: { spec: { containers: Container[]; terminationGracePeriodSeconds: number } } };
  };
  const container = deployment.spec.template.spec.containers[0] as Container;
  const env = Object.fromEntries(container.env.map((e) => [e.name, e.value ?? 'x']));
  assert.deepEqual(unknownEnvVars(env), []);
  // The commented-out Slack variables too.
  const commented = [...readFileSync(path.join(DIR, 'deployment.yaml'), 'utf8').matchAll(/# - name: (REMEDIATOR_\w+)/g)].map((m) => m[1] as string);
  assert.ok(commented.length >= 3);
  assert.deepEqual(unknownEnvVars(Object.fromEntries(commented.map((n) => [n, 'x']))), []);
  const config = loadConfig({ config: path.join(DIR, 'remediator.yaml') }, { REMEDIATOR_DB: 'postgres://remediator@db:5432/remediator' });
  assert.equal(config.playbooks, '/etc/remediator/playbooks');
  assert.equal(container.args.join(' '), 'serve --config /etc/remediator/config/remediator.yaml');
  assert.ok(container.volumeMounts.some((m) => m.mountPath === '/etc/remediator/playbooks'));
  // The pod must outlive the daemon's own shutdown grace, or running steps are killed unrecorded.
  const grace = config.runs.shutdownGrace / 1000;
  assert.ok(deployment.spec.template.spec.terminationGracePeriodSeconds > grace);
});

test('the memory limit holds the measured peak with a quarter to spare, and the heap is capped well under it', () => {
  const text = readFileSync(path.join(DIR, 'deployment.yaml'), 'utf8');
  const deployment = manifests().find((m) => m['kind'] === 'Deployment') as {
    spec: { template: { spec: { containers: (Container & { resources: { requests: { memory: string }; limits: { memory: string } } })[] } } };
  };
  const container = deployment.spec.template.spec.containers[0];
  assert.ok(container);
  const mib = (q: string) => Number(/^(\d+)Mi$/.exec(q)?.[1] ?? NaN);
  const limit = mib(container.resources.limits.memory);
  const peak = Number(/peak (\d+) MiB under bursts/.exec(text)?.[1] ?? NaN);
  const idle = Number(/idle (\d+) MiB/.exec(text)?.[1] ?? NaN);
  assert.ok(peak > 0 && idle > 0, 'the manifest records the figures bench/memory.ts measured');
  assert.ok(limit >= peak * 1.25, `limit ${limit} MiB against a measured peak of ${peak} MiB`);
  assert.ok(mib(container.resources.requests.memory) >= idle, 'the request covers the idle figure');
  const heap = Number(/--max-old-space-size=(\d+)/.exec(container.env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '')?.[1] ?? NaN);
  assert.ok(heap > 0 && heap <= limit / 2, `heap cap ${heap} MiB under a ${limit} MiB limit`);
  // The figure holds only with the body gate: the configuration the manifest mounts keeps it.
  const config = loadConfig({ config: path.join(DIR, 'remediator.yaml') }, { REMEDIATOR_DB: 'postgres://remediator@db:5432/remediator' });
  assert.ok(config.webhook.maxConcurrentBodies <= 4);
});

test('the image sets no REMEDIATOR_ variable: they would outrank the configuration a deployment mounts', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  assert.doesNotMatch(dockerfile.replace(/#.*$/gm, ''), /REMEDIATOR_/);
  const config = loadConfig({ config: path.join(ROOT, 'deploy', 'docker', 'remediator.yaml') }, {});
  assert.deepEqual([config.listen, config.playbooks, config.db, config.execution], ['0.0.0.0:9595', '/app/playbooks', '/data/remediator.db', 'dry-run']);
  assert.match(dockerfile, /COPY deploy\/docker\/remediator.yaml/);
});
