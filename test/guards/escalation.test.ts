import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import nock from 'nock';
import type { Run } from '../../src/domain/run.js';
import type { AuditEvent } from '../../src/domain/run.js';
import type { EscalationRecord } from '../../src/domain/store.js';
import { fixture } from '../support/fixtures.js';
import { API_TOKEN, removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';
import { until } from '../support/until.js';

const ROUTING_KEY = 'R0UT1NGK3Y0123456789abcdefabcdef';

let daemon: TestDaemon | undefined;
before(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
});
after(() => {
  nock.enableNetConnect();
});
afterEach(async () => {
  if (daemon) {
    await daemon.close();
    removeDir(daemon.dir);
    daemon = undefined;
  }
  const pending = nock.pendingMocks();
  nock.cleanAll();
  assert.deepEqual(pending, [], 'PagerDuty calls expected but not made');
});

/** A rollback that always fails, escalating after two. */
const PLAYBOOK = `name: rollback
match: { alertname: ErrorBurst }
mode: live
params:
  namespace: { from: labels.namespace, pattern: '[a-z]+' }
  deployment: { from: labels.deployment, pattern: '[a-z]+' }
guards: { key: '{{ params.namespace }}/{{ params.deployment }}' }
escalate: { after: 2, within: 1h, notify: [pagerduty] }
steps:
  - name: undo
    run: [${JSON.stringify(process.execPath)}, -e, 'process.exit(3)']
`;

async function start(): Promise<TestDaemon> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-escalate-'));
  const pbDir = path.join(dir, 'playbooks');
  mkdirSync(pbDir);
  writeFileSync(path.join(pbDir, 'rollback.yaml'), PLAYBOOK);
  const keyFile = path.join(dir, 'pd-routing-key');
  writeFileSync(keyFile, `${ROUTING_KEY}\n`);
  daemon = await startTestDaemon({
    dir,
    playbooks: pbDir,
    config: { execution: 'live', notifiers: { pagerduty: { type: 'pagerduty', routingKeyFile: keyFile } } },
    env: { PATH: process.env['PATH'] },
  });
  return daemon;
}

let counter = 0;
function firing(labels: Record<string, string>) {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[]; status: string };
  const alert = p.alerts[0] as Record<string, unknown>;
  alert['labels'] = { alertname: 'ErrorBurst', ...labels };
  alert['fingerprint'] = `e${(counter++).toString(16).padStart(15, '0')}`;
  alert['startsAt'] = new Date(Date.now() - 1000 + counter).toISOString();
  p.status = 'firing';
  return p;
}

const checkout = { namespace: 'shop', deployment: 'checkout' };

async function decisions(d: TestDaemon): Promise<AuditEvent[]> {
  const { events } = await d.api<{ events: AuditEvent[] }>('/api/audit?kind=decision&limit=100');
  return events;
}

describe('escalation: automation that does not fix a target hands it to a person', () => {
  test('two failed rollbacks escalate; PagerDuty is paged once with the runs; the third alert is suppressed; clearing re-enables', async () => {
    const d = await start();
    const bodies: Record<string, unknown>[] = [];
    const pd = nock('https://events.pagerduty.com')
      .post('/v2/enqueue', (body: Record<string, unknown>) => {
        bodies.push(body);
        return true;
      })
      .times(2)
      .reply(202, { status: 'success', message: 'Event processed', dedup_key: 'remediator/rollback/shop/checkout' });

    for (let i = 0; i < 2; i++) {
      assert.equal((await d.post(firing(checkout))).status, 200);
      await d.settled();
    }
    const { runs } = await d.api<{ runs: Run[] }>('/api/runs');
    assert.deepEqual(
      runs.map((r) => r.state),
      ['failed', 'failed'],
    );

    assert.equal((await d.post(firing(checkout))).status, 200);
    await d.settled();
    assert.equal((await d.api<{ runs: Run[] }>('/api/runs')).runs.length, 2, 'the third alert started no run');
    const third = (await decisions(d)).at(-1);
    assert.equal(third?.data['action'], 'suppress');
    assert.equal(third?.data['reason'], 'escalated');
    assert.match(String(third?.data['detail']), /2 live run\(s\) for key "shop\/checkout" in the last 1h did not fix it/);

    await until('PagerDuty was paged', () => bodies.length === 1);
    const [trigger] = bodies as [Record<string, unknown>];
    const payload = trigger['payload'] as Record<string, unknown>;
    const details = payload['custom_details'] as Record<string, unknown>;
    const { escalations } = await d.api<{ escalations: EscalationRecord[] }>('/api/escalations');
    assert.equal(escalations.length, 1);
    const e = escalations[0] as EscalationRecord;
    assert.deepEqual(
      { ...trigger, payload: { ...payload, summary: typeof payload['summary'], custom_details: null } },
      {
        routing_key: ROUTING_KEY,
        event_action: 'trigger',
        dedup_key: 'remediator/rollback/shop/checkout',
        client: 'remediator',
        payload: {
          summary: 'string',
          source: 'shop/checkout',
          severity: 'critical',
          timestamp: e.openedAt,
          component: 'rollback',
          class: 'remediation escalated',
          custom_details: null,
        },
      },
    );
    assert.match(String(payload['summary']), /^Escalated: rollback did not fix "shop\/checkout" after 2 run\(s\)/);
    assert.equal(details['escalationId'], e.id);
    assert.equal(details['clear'], `remediator escalations clear ${e.id}`);
    assert.deepEqual(
      (details['runs'] as { id: string; state: string }[]).map((r) => [r.id, r.state]),
      [...runs].reverse().map((r) => [r.id, 'failed']),
      'the run history, oldest first',
    );

    // A fourth alert: still escalated, and nobody is paged again.
    await d.post(firing(checkout));
    await d.settled();
    assert.equal((await decisions(d)).at(-1)?.data['reason'], 'escalated');
    // Another deployment is not affected.
    await d.post(firing({ namespace: 'shop', deployment: 'cart' }));
    await d.settled();
    assert.equal((await d.api<{ runs: Run[] }>('/api/runs')).runs.length, 3);

    const res = await fetch(`${d.url}/api/escalations/${e.id}/clear`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json', 'x-remediator-client': 'cli' },
      body: JSON.stringify({ note: 'reverted the gateway upgrade' }),
    });
    assert.equal(res.status, 200);
    const answer = (await res.json()) as { cleared: boolean; escalation: EscalationRecord };
    assert.equal(answer.cleared, true);
    assert.equal(answer.escalation.clearedBy, 'tester');
    await until('PagerDuty got the resolve', () => bodies.length === 2);
    assert.deepEqual(bodies[1], { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'remediator/rollback/shop/checkout' });
    assert.ok(pd.isDone());
    const cleared = (await d.api<{ events: AuditEvent[] }>('/api/audit?kind=escalation.cleared')).events;
    assert.equal(cleared.length, 1);
    assert.equal(cleared[0]?.data['by'], 'tester');
    assert.equal(cleared[0]?.data['note'], 'reverted the gateway upgrade');

    await d.post(firing(checkout));
    await d.settled();
    assert.equal((await d.api<{ runs: Run[] }>('/api/runs')).runs.length, 4, 'cleared: the playbook acts on the target again');
    assert.deepEqual(await d.api<{ escalations: EscalationRecord[] }>('/api/escalations'), { escalations: [] });
    const sent = (await d.api<{ events: AuditEvent[] }>('/api/audit?kind=notification.sent')).events.filter((x) => x.data['notifier'] === 'pagerduty');
    assert.deepEqual(
      sent.map((x) => x.data['kind']),
      ['escalation.opened', 'escalation.cleared'],
    );
  });

  test('a playbook naming a notifier nobody configured is refused at start, naming the key', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-escalate-'));
    const pbDir = path.join(dir, 'playbooks');
    mkdirSync(pbDir);
    writeFileSync(path.join(pbDir, 'rollback.yaml'), PLAYBOOK);
    try {
      await assert.rejects(
        startTestDaemon({ dir, playbooks: pbDir, config: { execution: 'live' }, env: { PATH: process.env['PATH'] } }),
        /names notifier "pagerduty", which is not configured.*escalate\.notify/s,
      );
    } finally {
      removeDir(dir);
    }
  });
});
