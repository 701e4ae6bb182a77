import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditEvent, Run } from '../../src/domain/run.js';
import { fixtureText } from '../support/fixtures.js';
import { API_TOKEN, removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
  for (const f of ['amtool-firing.json', 'amtool-firing.json', 'prometheus-firing.json']) assert.equal((await d.post(fixtureText(f))).status, 200);
  await d.settled();
});
after(async () => {
  await d.close();
  removeDir(d.dir);
});

type Page = { events: AuditEvent[]; next: string | null };

test('GET /api/audit filters by kind, run and playbook: the "why did it not run" question', async () => {
  const decisions = (await d.api<Page>('/api/audit?kind=decision')).events;
  assert.deepEqual(
    decisions.map((e) => [e.playbook, e.data['action'], e.data['reason'] ?? null]),
    [
      ['high-error-rate', 'run', 'execution is dry-run'],
      ['high-error-rate', 'suppress', 'duplicate'],
      ['restart-pod', 'run', 'execution is dry-run'],
    ],
  );
  const [run] = (await d.api<{ runs: Run[] }>('/api/runs?playbook=restart-pod')).runs;
  const ofRun = (await d.api<Page>(`/api/audit?run=${run?.id}`)).events;
  assert.ok(ofRun.length > 0 && ofRun.every((e) => e.runId === run?.id));
  const ofPlaybook = (await d.api<Page>('/api/audit?playbook=high-error-rate')).events;
  assert.ok(ofPlaybook.length > 0 && ofPlaybook.every((e) => e.playbook === 'high-error-rate'));
});

test('GET /api/audit pages oldest first with a cursor, every event exactly once', async () => {
  const all = (await d.api<Page>('/api/audit?limit=1000')).events;
  const seen: number[] = [];
  let cursor: string | null = null;
  do {
    const page: Page = await d.api<Page>(`/api/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
    assert.ok(page.events.length <= 3);
    seen.push(...page.events.map((e) => e.id));
    cursor = page.next;
  } while (cursor);
  assert.deepEqual(
    seen,
    all.map((e) => e.id),
  );
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    seen,
    'in id order',
  );
});

test('GET /api/audit filters by time, as ISO or as a duration back from now', async () => {
  assert.deepEqual((await d.api<Page>('/api/audit?since=2999-01-01T00:00:00Z')).events, []);
  assert.ok((await d.api<Page>('/api/audit?since=1h')).events.length > 0);
  assert.deepEqual((await d.api<Page>('/api/audit?until=2000-01-01T00:00:00Z')).events, []);
});

test('GET /api/audit refuses bad queries and strangers', async () => {
  const get = (q: string, token?: string) => fetch(`${d.url}/api/audit${q}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  assert.equal((await get('')).status, 401);
  for (const [q, message] of [
    ['?since=yesterday', /since must be an ISO 8601 time/],
    ['?limit=5000', /limit must be an integer from 1 to 1000/],
    ['?cursor=nope', /cursor is not valid/],
  ] as const) {
    const res = await get(q, API_TOKEN);
    assert.equal(res.status, 400, q);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, message);
  }
});
