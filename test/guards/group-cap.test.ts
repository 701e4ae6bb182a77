import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import type { AuditEvent, Run } from '../../src/domain/run.js';
import { fixture } from '../support/fixtures.js';
import { removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';

let daemon: TestDaemon | undefined;
afterEach(async () => {
  if (daemon) {
    await daemon.close();
    removeDir(daemon.dir);
    daemon = undefined;
  }
});

const playbook = (max: string) => `name: rollback
match: { alertname: ErrorBurst }
mode: live
params:
  namespace: { from: labels.namespace, pattern: '[a-z]+' }
  deployment: { from: labels.deployment, pattern: '[a-z0-9]+' }
guards:
  key: '{{ params.namespace }}/{{ params.deployment }}'
  group: { key: '{{ params.namespace }}', max: ${max}, per: 1h }
steps:
  - name: undo
    run: [${JSON.stringify(process.execPath)}, -e, '']
`;

async function start(max: string): Promise<TestDaemon> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-group-'));
  const pbDir = path.join(dir, 'playbooks');
  mkdirSync(pbDir);
  writeFileSync(path.join(pbDir, 'rollback.yaml'), playbook(max));
  // Eleven alerts on eleven targets would be a storm (guards.storm): off, this is about the group cap alone.
  daemon = await startTestDaemon({
    dir,
    playbooks: pbDir,
    config: { execution: 'live', guards: { storm: { enabled: false } } },
    env: { PATH: process.env['PATH'] },
  });
  return daemon;
}

/** One delivery with an alert per deployment, as Alertmanager groups a burst. */
function burst(namespace: string, deployments: readonly string[]) {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[]; status: string };
  const template = p.alerts[0] as Record<string, unknown>;
  p.alerts = deployments.map((deployment, i) => ({
    ...template,
    labels: { alertname: 'ErrorBurst', namespace, deployment },
    fingerprint: `${namespace === 'shop' ? 'a' : 'b'}${i.toString(16).padStart(15, '0')}`,
  }));
  p.status = 'firing';
  return p;
}

const ten = Array.from({ length: 10 }, (_, i) => `svc${i}`);

describe('guards.group: the blast radius per group', () => {
  test('a cap of 30% holds the fourth rollback of ten, and the rest, for approval; another group is not affected', async () => {
    const d = await start("'30%'");
    assert.equal((await d.post(burst('shop', ten))).status, 200);
    await d.settled();
    const { runs } = await d.api<{ runs: Run[] }>('/api/runs?limit=100');
    const byDeployment = new Map(runs.map((r) => [r.labels['deployment'] ?? '', r]));
    assert.deepEqual(
      ten.map((x) => byDeployment.get(x)?.state),
      ['succeeded', 'succeeded', 'succeeded', ...Array<string>(7).fill('awaiting_approval')],
    );
    const { events } = await d.api<{ events: AuditEvent[] }>('/api/audit?kind=decision&limit=100');
    const reason = (target: string) => events.find((e) => e.data['targetKey'] === target)?.data['reason'];
    assert.equal(
      reason('shop/svc3'),
      'group "shop" had 3 live run(s) in the last 1h; guards.group allows 3 (30% of 10 target(s) seen firing): a person must approve this run',
    );
    assert.match(String(reason('shop/svc9')), /^group "shop" had 9 live run\(s\)/, 'held runs count: they act once approved');
    await d.post(burst('billing', ['api']));
    await d.settled();
    const billing = (await d.api<{ runs: Run[] }>('/api/runs?limit=100')).runs.find((r) => r.labels['namespace'] === 'billing');
    assert.equal(billing?.state, 'succeeded');
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    assert.match(metrics, /remediator_runs_held_total\{playbook="rollback",reason="group_cap"\} 7/);
  });

  test('a count caps alike', async () => {
    const d = await start('2');
    await d.post(burst('shop', ten.slice(0, 4)));
    await d.settled();
    const { runs } = await d.api<{ runs: Run[] }>('/api/runs?limit=100');
    assert.deepEqual(runs.map((r) => r.state).sort(), ['awaiting_approval', 'awaiting_approval', 'succeeded', 'succeeded']);
  });
});
