// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
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

test('the playbooks ConfigMap is generated from deploy/kubernetes/playbooks, every file listed, in place', () => {
  const kustomization = parse(readFileSync(path.join(DIR, 'playbooks', 'Kustomization'), 'utf8')) as {
    configMapGenerator: { name: string; files: string[] }[];
    generatorOptions?: { disableNameSuffixHash?: boolean };
  };
  const generated = kustomization.configMapGenerator.find((g) => g.name === 'remediator-playbooks');
  assert.ok(generated, 'a configMapGenerator named remediator-playbooks');
  const shipped = readdirSync(path.join(DIR, 'playbooks'))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  assert.deepEqual([...generated.files].sort(), shipped, 'list every playbook file of deploy/kubernetes/playbooks');
  // The name stays: an update changes the mounted files (which every replica watches), not the pods.
  assert.equal(kustomization.generatorOptions?.disableNameSuffixHash, true);
  assert.ok((parse(readFileSync(path.join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] }).resources.includes('playbooks'));
  const config = parse(readFileSync(path.join(DIR, 'remediator.yaml'), 'utf8')) as { reload?: { watch?: boolean } };
  assert.equal(config.reload?.watch, true, 'replicas reload when the ConfigMap changes');
  // The examples, as in playbooks/: the cluster starts from the same, valid set.
  for (const f of shipped) assert.equal(readFileSync(path.join(DIR, 'playbooks', f), 'utf8'), readFileSync(path.join(ROOT, 'playbooks', f), 'utf8'), f);
});

/**
 * "rollout undo deployment" for [rollout, undo, deployment/NAME, -n, NS]: the words up to the
 * object, the object's kind without its name; `auth can-i …` asks, it does nothing.
 */
function kubectlSignature(args: readonly string[]): string {
  const words: string[] = [];
  for (const a of args) {
    if (a.startsWith('-')) break;
    if (a.includes('/')) {
      words.push(a.split('/')[0] as string);
      break;
    }
    if (a.includes('{{')) break;
    words.push(a);
  }
  return words[0] === 'auth' && words[1] === 'can-i' ? 'auth can-i' : words.join(' ');
}

test('the Role grants exactly what the example playbooks run, and nothing is created or deleted', async () => {
  const role = parse(readFileSync(path.join(DIR, 'rbac', 'clusterrole.yaml'), 'utf8')) as {
    rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  };
  const allows = (group: string, resource: string, verb: string) =>
    role.rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
  // What each kubectl subcommand the examples use needs from the API server.
  const needs: Record<string, [string, string, string][]> = {
    'rollout history deployment': [
      ['apps', 'deployments', 'get'],
      ['apps', 'replicasets', 'list'],
    ],
    'rollout undo deployment': [
      ['apps', 'deployments', 'get'],
      ['apps', 'replicasets', 'list'],
      ['apps', 'deployments', 'patch'],
    ],
    'rollout restart deployment': [
      ['apps', 'deployments', 'get'],
      ['apps', 'deployments', 'patch'],
    ],
    'rollout status deployment': [
      ['apps', 'deployments', 'get'],
      ['apps', 'deployments', 'watch'],
      ['apps', 'replicasets', 'list'],
    ],
    'get deployment': [['apps', 'deployments', 'get']],
    'scale deployment': [
      ['apps', 'deployments/scale', 'get'],
      ['apps', 'deployments/scale', 'patch'],
    ],
    'get virtualservice': [['networking.istio.io', 'virtualservices', 'get']],
    'patch virtualservice': [['networking.istio.io', 'virtualservices', 'patch']],
    'auth can-i': [],
  };
  const { loadPlaybooks } = await import('../../src/playbook/loader.js');
  const loaded = await loadPlaybooks(path.join(DIR, 'playbooks'));
  assert.deepEqual(loaded.errors, []);
  const used = new Set<string>();
  for (const p of loaded.playbooks) {
    for (const s of [...p.steps, ...p.onFailure]) {
      if (s.kind !== 'run') continue;
      for (const argv of [s.argv, s.dryRunArgv ?? []]) {
        if (argv[0] !== 'kubectl') continue;
        const key = kubectlSignature(argv.slice(1));
        assert.ok(key in needs, `kubectl ${argv.slice(1).join(' ')} (${p.name}) is "${key}": add what it needs to this table and to the Role`);
        used.add(key);
      }
    }
  }
  assert.ok(used.size >= 6, 'the examples run kubectl');
  for (const key of used) for (const [g, r, v] of needs[key] ?? []) assert.ok(allows(g, r, v), `${key} needs ${v} on ${g}/${r}`);
  for (const rule of role.rules)
    assert.deepEqual(
      rule.verbs.filter((v) => ['create', 'delete', 'deletecollection', '*'].includes(v)),
      [],
      'nothing is created or deleted',
    );
  assert.ok(!role.rules.some((r) => r.resources.includes('secrets')), 'no Secret is read');
});

test('the image has a variant with a pinned, checksum-verified kubectl, and the plain image stays the default', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)].map((m) => ({ from: m[1], as: m[2] }));
  assert.deepEqual(stages.at(-1), { from: 'base', as: undefined }, 'the last stage is the plain image, which `docker build` makes');
  assert.ok(stages.some((s) => s.as === 'with-kubectl' && s.from === 'base'));
  assert.match(dockerfile, /^ARG KUBECTL_VERSION=v\d+\.\d+\.\d+$/m, 'kubectl is pinned to a release');
  assert.match(
    dockerfile,
    /KUBECTL_SHA256:-\$\(curl -fsSL "\$\{base\}\/kubectl\.sha256"\)\} {2}\/kubectl" \| sha256sum --check/,
    'checked against a given digest, or the published one',
  );
  assert.match(dockerfile, /^ARG TARGETARCH$/m, 'the builder says the architecture: no default may override it');
  assert.match(readFileSync(path.join(ROOT, 'README.md'), 'utf8'), /--target with-kubectl/, 'the README says how to build it');
});
