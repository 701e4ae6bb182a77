import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../support/fixtures.js';
import { findExecutable } from '../support/service-binary.js';

// The kustomizations of deploy/kubernetes rendered by kubectl itself (offline, a child process).

const DIR = path.join(ROOT, 'deploy', 'kubernetes');

const kubectl = findExecutable('kubectl');
const inCi = !['', '0', 'false'].includes((process.env['CI'] ?? '').toLowerCase());
const KUBECTL_SKIP = 'skipped: kubectl not installed (apt-get install -y kubernetes-client), so the kustomizations are not rendered';
if (kubectl === null && !inCi) process.stdout.write(`${KUBECTL_SKIP}\n`);

test('kubectl kustomize renders the deployment, the RBAC and the monitoring', { skip: kubectl === null && !inCi ? KUBECTL_SKIP : false }, async () => {
  if (kubectl === null) throw new Error('CI is set and kubectl is not installed: apt-get install -y kubernetes-client');
  const render = async (dir: string) => {
    const { stdout } = await promisify(execFile)(kubectl, ['kustomize', path.join(DIR, dir)], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    return parseAllDocuments(stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; data?: Record<string, string> });
  };
  const base = await render('.');
  const playbooks = base.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'remediator-playbooks');
  assert.ok(playbooks, 'the playbooks ConfigMap is generated, under its fixed name');
  assert.deepEqual(
    Object.keys(playbooks.data ?? {}).sort(),
    readdirSync(path.join(DIR, 'playbooks'))
      .filter((f) => f.endsWith('.yaml'))
      .sort(),
  );
  assert.ok(base.every((m) => m.kind === 'ClusterRole' || m.metadata.namespace === 'monitoring'));
  const rbac = await render('rbac');
  assert.deepEqual(rbac.map((m) => `${m.kind}/${m.metadata.namespace ?? ''}`).sort(), ['ClusterRole/', 'RoleBinding/shop']);
  // The binding's subject stays remediator's ServiceAccount in its own namespace, whatever kustomize sets.
  const binding = rbac.find((m) => m.kind === 'RoleBinding') as unknown as { subjects: { kind: string; name: string; namespace: string }[] };
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'remediator', namespace: 'monitoring' }]);
  const monitoring = await render('monitoring');
  assert.deepEqual(monitoring.map((m) => m.kind).sort(), ['PrometheusRule', 'ServiceMonitor']);
});
