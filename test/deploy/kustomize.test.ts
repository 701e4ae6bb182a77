import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
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
  const run = (dir: string) => promisify(execFile)(kubectl, ['kustomize', dir], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  const render = async (dir: string) => {
    let stdout: string;
    try {
      ({ stdout } = await run(path.join(DIR, dir)));
    } catch (err) {
      // Debian's kubernetes-client (1.20, kustomize v2.0) predates directories in `resources`;
      // its `bases` is the same thing. Rendered from a copy, so the files shipped stay modern.
      if (!/must be a file/.test(String((err as { stderr?: string }).stderr))) throw err;
      const copy = mkdtempSync(path.join(os.tmpdir(), 'remediator-kustomize-'));
      try {
        cpSync(DIR, copy, { recursive: true });
        const file = path.join(copy, dir, 'kustomization.yaml');
        writeFileSync(file, readFileSync(file, 'utf8').replace('resources:\n  - playbooks\n', 'bases:\n  - playbooks\nresources:\n'));
        ({ stdout } = await run(path.join(copy, dir)));
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    }
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
