import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import type { ConfigInput } from '../../src/config/config-schema.js';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { fixture, ROOT } from '../support/fixtures.js';
import { reply, startHttpServer } from '../support/http-server.js';
import { API_TOKEN, removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';
import { until } from '../support/until.js';

const SCRIPTS = path.join(ROOT, 'test', 'fixtures', 'scripts');
const NODE = process.execPath;

let daemon: TestDaemon | undefined;
let dir = '';
/** How far the daemons' clock is ahead of the real one: a test moves time on instead of waiting. */
let skewMs = 0;
const clock = () => new Date(Date.now() + skewMs);
afterEach(async () => {
  if (daemon) await daemon.close();
  daemon = undefined;
  if (dir) removeDir(dir);
  dir = '';
  skewMs = 0;
});

/** A fresh directory with the playbooks, and a daemon on them (live execution). */
async function daemonWith(playbooks: Record<string, string>, config: ConfigInput = {}): Promise<TestDaemon> {
  dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-approvals-'));
  mkdirSync(path.join(dir, 'playbooks'));
  for (const [name, text] of Object.entries(playbooks)) writeFileSync(path.join(dir, 'playbooks', `${name}.yaml`), text.replaceAll('ACTIONS_LOG', actionLog()));
  return restart(config);
}

/** (Re)starts the daemon on the same directory and database. */
async function restart(config: ConfigInput = {}): Promise<TestDaemon> {
  if (daemon) await daemon.close();
  daemon = await startTestDaemon({
    dir,
    playbooks: path.join(dir, 'playbooks'),
    config: { execution: 'live', ...config },
    env: { PATH: process.env['PATH'] },
    clock,
  });
  return daemon;
}

let counter = 0;
function payload(opts: { status?: 'firing' | 'resolved'; fingerprint?: string; deployment?: string } = {}) {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[]; status: string };
  const alert = p.alerts[0] as Record<string, unknown>;
  alert['labels'] = { alertname: 'Burst', deployment: opts.deployment ?? 'checkout' };
  alert['status'] = opts.status ?? 'firing';
  alert['fingerprint'] = opts.fingerprint ?? `a${(counter++).toString(16).padStart(15, '0')}`;
  alert['startsAt'] = '2026-11-29T03:12:00Z';
  if (opts.status === 'resolved') alert['endsAt'] = '2026-11-29T03:20:00Z';
  p.status = opts.status ?? 'firing';
  return p;
}

/** A file the action step appends to: its line count is how often the action ran. */
function actionLog(): string {
  return path.join(dir, 'actions.log');
}
function actions(): string[] {
  return existsSync(actionLog()) ? readFileSync(actionLog(), 'utf8').trim().split('\n').filter(Boolean) : [];
}

/** rollback in approve mode: a read-only look first, then the action. */
function approvePlaybook(extra = ''): string {
  return `name: rollback
match: { alertname: Burst }
mode: approve
${extra}
params:
  deployment: { from: labels.deployment, pattern: '[a-z-]+' }
steps:
  - name: inspect
    readOnly: true
    run: [${NODE}, -e, 'process.stdout.write("revision-of-" + process.argv[1])', '{{ params.deployment }}']
  - name: undo
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ACTIONS_LOG, 'undo {{ params.deployment }} after {{ steps.inspect.stdout }}']
`;
}

async function post(d: TestDaemon, pathname: string, body?: object, token = API_TOKEN): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${d.url}${pathname}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function onlyRun(d: TestDaemon): Promise<RunDetail> {
  await d.settled();
  const { runs } = await d.api<{ runs: Run[] }>('/api/runs');
  assert.equal(runs.length, 1, `one run, got ${runs.map((r) => `${r.playbook}:${r.state}`).join(', ')}`);
  return d.api<RunDetail>(`/api/runs/${runs[0]?.id}`);
}

const kinds = (run: RunDetail) => run.events.map((e) => e.kind).filter((k) => k.startsWith('approval.') || k === 'run.state');

describe('approvals: a run in approve mode waits for a person, then acts once', () => {
  test('read-only steps run first; the run holds before the action with its plan and findings; an approval through the API runs it', async () => {
    const d = await daemonWith({ rollback: approvePlaybook() });
    assert.ok(
      d.logs.some((l) => /playbook rollback \(rollback\.yaml\) needs approval but names no approvers/.test(String(l['message']))),
      'an approve playbook open to anyone is warned about at start',
    );
    await d.post(payload());
    const held = await onlyRun(d);
    assert.equal(held.state, 'awaiting_approval', held.reason);
    assert.equal(held.needsApproval, true);
    assert.deepEqual(
      held.steps.map((s) => [s.name, s.state]),
      [
        ['inspect', 'succeeded'],
        ['undo', 'planned'],
      ],
    );
    assert.equal(held.steps[0]?.output?.trim(), 'revision-of-checkout');
    assert.deepEqual(actions(), [], 'nothing acted yet');
    const [request] = held.approvals;
    assert.equal(request?.decision, null);
    assert.equal(request?.stepName, 'undo');
    assert.match(String(request?.message), /^next: .*append-line\.mjs .*'undo checkout after revision-of-checkout' \(playbook mode is approve\)$/);
    assert.equal(Date.parse(String(request?.expiresAt)) - Date.parse(String(request?.requestedAt)), 15 * 60_000, 'the default time to live is 15 minutes');

    const answer = await post(d, `/api/runs/${held.id}/approve`, { comment: 'checked the graphs' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.match(String(answer.body['message']), /approved by tester/);
    await d.settled();
    const done = await d.api<RunDetail>(`/api/runs/${held.id}`);
    assert.equal(done.state, 'succeeded', done.reason);
    assert.deepEqual(actions(), ['undo checkout after revision-of-checkout']);
    const [decided] = done.approvals;
    assert.deepEqual([decided?.decision, decided?.decidedBy, decided?.decidedVia, decided?.comment], ['approved', 'tester', 'api', 'checked the graphs']);
    assert.deepEqual(kinds(done), ['run.state', 'run.state', 'approval.requested', 'approval.granted', 'run.state', 'run.state']);
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    assert.match(metrics, /remediator_approvals_total\{playbook="rollback",outcome="approved"\} 1/);
    assert.match(metrics, /remediator_approvals_pending 0/);
  });

  test('two approvals racing execute the run once; the loser is told who won', async () => {
    const d = await daemonWith({ rollback: approvePlaybook() });
    await d.post(payload());
    const held = await onlyRun(d);
    const answers = await Promise.all([1, 2, 3, 4].map(() => post(d, `/api/runs/${held.id}/approve`)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409, 409, 409]);
    const lost = answers.find((a) => a.status === 409);
    assert.match(String((lost?.body['error'] as { message: string }).message), /already approved by tester via api/);
    await d.settled();
    assert.equal((await d.api<RunDetail>(`/api/runs/${held.id}`)).state, 'succeeded');
    assert.equal(actions().length, 1, 'the action ran once');
  });

  test('a rejection ends the run without acting; approving it afterwards is refused with the reason', async () => {
    const d = await daemonWith({ rollback: approvePlaybook() });
    await d.post(payload());
    const held = await onlyRun(d);
    const rejected = await post(d, `/api/runs/${held.id}/reject`, { comment: 'the graphs look fine' });
    assert.equal(rejected.status, 200);
    const run = await d.api<RunDetail>(`/api/runs/${held.id}`);
    assert.equal(run.state, 'rejected');
    assert.match(run.reason, /rejected by tester via api: the graphs look fine/);
    const late = await post(d, `/api/runs/${held.id}/approve`);
    assert.equal(late.status, 409);
    assert.match(String((late.body['error'] as { message: string }).message), /already rejected by tester/);
    await d.settled();
    assert.deepEqual(actions(), []);
  });

  test('a rejected run (a false alarm) starts no cooldown: the next real alert for the key is proposed again', async () => {
    const d = await daemonWith({ rollback: approvePlaybook('guards: { key: "{{ params.deployment }}", cooldown: 30m, maxRuns: { count: 1, per: 1h } }') });
    await d.post(payload());
    const first = await onlyRun(d);
    assert.equal((await post(d, `/api/runs/${first.id}/reject`, { comment: 'false alarm' })).status, 200);
    await d.post(payload());
    await d.settled();
    const { runs } = await d.api<{ runs: Run[] }>('/api/runs');
    assert.deepEqual(
      runs.map((r) => r.state),
      ['awaiting_approval', 'rejected'],
      'neither the cooldown nor maxRuns counts the rejected run',
    );
    // The proposed one acts once approved; then the cooldown holds back the next.
    const second = runs[0] as Run;
    assert.equal((await post(d, `/api/runs/${second.id}/approve`)).status, 200);
    await until('the approved run succeeds', async () => (await d.api<RunDetail>(`/api/runs/${second.id}`)).state === 'succeeded');
    await d.post(payload());
    await d.settled();
    const after = await d.api<{ runs: Run[] }>('/api/runs');
    assert.equal(after.runs.length, 2, 'the run that acted starts the cooldown');
    assert.equal(actions().length, 1);
  });

  test('someone the playbook does not name is refused, and the refusal is recorded; a group names who may', async () => {
    const d = await daemonWith({ rollback: approvePlaybook('approval: { approvers: [alice, oncall] }') });
    const unknown = d.logs.filter((l) =>
      /names approver "(alice|oncall)", which is no API token identity, no group in approvals\.groups/.test(String(l['message'])),
    );
    assert.equal(unknown.length, 2, 'approvers nobody can be are warned about at start');
    await d.post(payload());
    const held = await onlyRun(d);
    const refused = await post(d, `/api/runs/${held.id}/approve`);
    assert.equal(refused.status, 403);
    assert.match(String((refused.body['error'] as { message: string }).message), /tester may not approve run .*: the playbook allows alice, oncall/);
    const still = await d.api<RunDetail>(`/api/runs/${held.id}`);
    assert.equal(still.state, 'awaiting_approval');
    const event = still.events.find((e) => e.kind === 'approval.refused');
    assert.deepEqual([event?.data['by'], event?.data['via'], event?.data['verdict']], ['tester', 'api', 'approve']);

    // The same request, with tester in the group oncall.
    await restart({ approvals: { groups: { oncall: ['bob', 'tester'] } } });
    const ok = await post(daemon as TestDaemon, `/api/runs/${held.id}/approve`);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await (daemon as TestDaemon).settled();
    assert.equal(actions().length, 1);
  });

  test('an unanswered request expires on time: the run is expired, recorded, and can no longer be approved', async () => {
    const d = await daemonWith({ rollback: approvePlaybook('approval: { timeout: 1s }') });
    await d.post(payload());
    const held = await onlyRun(d);
    const expired = await until('the run to expire', async () => {
      const r = await d.api<RunDetail>(`/api/runs/${held.id}`);
      return r.state === 'expired' ? r : null;
    });
    assert.equal(expired.approvals[0]?.decision, 'expired');
    assert.match(expired.reason, /no decision on the approval before step undo/);
    assert.ok(expired.events.some((e) => e.kind === 'approval.expired'));
    const late = await post(d, `/api/runs/${held.id}/approve`);
    assert.equal(late.status, 409);
    assert.match(String((late.body['error'] as { message: string }).message), /expired at .* without a decision/);
    assert.deepEqual(actions(), []);
  });

  test('the alert resolving cancels the pending approval', async () => {
    const d = await daemonWith({ rollback: approvePlaybook() });
    await d.post(payload({ fingerprint: 'f0000000000e5017' }));
    const held = await onlyRun(d);
    await d.post(payload({ fingerprint: 'f0000000000e5017', status: 'resolved' }));
    await d.settled();
    const run = await d.api<RunDetail>(`/api/runs/${held.id}`);
    assert.equal(run.state, 'cancelled');
    assert.equal(run.approvals[0]?.decision, 'cancelled');
    assert.ok(run.resolvedAt);
    const late = await post(d, `/api/runs/${held.id}/approve`);
    assert.equal(late.status, 409);
    assert.match(String((late.body['error'] as { message: string }).message), /cancelled .*the alert resolved before the run started/);
    assert.deepEqual(actions(), []);
  });

  test('after a restart a held run is still held, and approving it goes on with what the earlier steps found', async () => {
    const d = await daemonWith({ rollback: approvePlaybook() });
    await d.post(payload());
    const held = await onlyRun(d);
    const again = await restart();
    assert.equal((await again.api<RunDetail>(`/api/runs/${held.id}`)).state, 'awaiting_approval');
    assert.equal((await post(again, `/api/runs/${held.id}/approve`)).status, 200);
    await again.settled();
    const run = await again.api<RunDetail>(`/api/runs/${held.id}`);
    assert.equal(run.state, 'succeeded', run.reason);
    assert.deepEqual(actions(), ['undo checkout after revision-of-checkout'], 'steps.inspect.stdout survived the restart');
    assert.equal(run.steps[0]?.startedAt, held.steps[0]?.startedAt, 'the read-only step was not run again');
  });

  test('a request that expires while the daemon is down is expired when it starts', async () => {
    const d = await daemonWith({ rollback: approvePlaybook('approval: { timeout: 1s }') });
    await d.post(payload());
    const held = await onlyRun(d);
    await d.close();
    daemon = undefined;
    // 1.2 s pass while the daemon is down, past the request's 1 s.
    skewMs += 1200;
    const again = await restart();
    assert.equal((await again.api<RunDetail>(`/api/runs/${held.id}`)).state, 'expired');
  });

  test('an approval step in a live playbook holds in the middle, showing what earlier steps found; the approval step records who approved', async () => {
    const d = await daemonWith({
      rollback: `name: rollback
match: { alertname: Burst }
mode: live
params:
  deployment: { from: labels.deployment, pattern: '[a-z-]+' }
steps:
  - name: inspect
    run: [${NODE}, -e, 'process.stdout.write("errors-in-" + process.argv[1])', '{{ params.deployment }}']
  - name: ask
    approval: { message: 'inspect found: {{ steps.inspect.stdout }}', timeout: 5m }
  - name: undo
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ACTIONS_LOG, 'undo']
`,
    });
    await d.post(payload());
    const held = await onlyRun(d);
    assert.equal(held.state, 'awaiting_approval');
    assert.equal(held.needsApproval, false);
    assert.equal(held.approvals[0]?.message, 'inspect found: errors-in-checkout');
    assert.equal(held.approvals[0]?.stepName, 'ask');
    assert.equal((await post(d, `/api/runs/${held.id}/approve`, { comment: 'go' })).status, 200);
    await d.settled();
    const run = await d.api<RunDetail>(`/api/runs/${held.id}`);
    assert.equal(run.state, 'succeeded', run.reason);
    const ask = run.steps.find((s) => s.name === 'ask');
    assert.equal(ask?.state, 'succeeded');
    assert.match(String(ask?.output), /^approved by tester via api at .*: go$/);
    assert.deepEqual(actions(), ['undo']);
  });

  test('cancel: a held run at once, a running one at its current step; a finished one is refused', async () => {
    const d = await daemonWith({
      rollback: approvePlaybook(),
      slow: `name: slow
match: { alertname: Slow }
mode: live
steps:
  - name: sleep
    run: [${NODE}, -e, 'setTimeout(() => {}, 30000)']
`,
    });
    await d.post(payload());
    const held = await onlyRun(d);
    const cancelled = await post(d, `/api/runs/${held.id}/cancel`, { reason: 'handled by hand' });
    assert.equal(cancelled.status, 200);
    const run = await d.api<RunDetail>(`/api/runs/${held.id}`);
    assert.equal(run.state, 'cancelled');
    assert.match(run.reason, /cancelled by tester via api: handled by hand/);
    assert.equal(run.approvals[0]?.decision, 'cancelled');
    assert.equal((await post(d, `/api/runs/${held.id}/cancel`)).status, 409);

    const slow = payload();
    (slow.alerts[0] as { labels: Record<string, string> }).labels = { alertname: 'Slow' };
    await d.post(slow);
    const running = await until('the slow run to run', async () => (await d.api<{ runs: Run[] }>('/api/runs?state=running')).runs[0]);
    await until('its step to start', async () => (await d.api<RunDetail>(`/api/runs/${running.id}`)).steps[0]?.state === 'running');
    assert.equal((await post(d, `/api/runs/${running.id}/cancel`, { reason: 'too slow' })).status, 200);
    await d.settled();
    const stopped = await d.api<RunDetail>(`/api/runs/${running.id}`);
    assert.equal(stopped.state, 'cancelled');
    assert.match(stopped.reason, /cancelled by tester via api: too slow/);
    assert.equal((await post(d, '/api/runs/r_nope/cancel')).status, 404);
  });

  test('a dry run never waits: execution dry-run with an approve playbook', async () => {
    const d = await daemonWith({ rollback: approvePlaybook() }, { execution: 'dry-run' });
    await d.post(payload());
    const run = await onlyRun(d);
    assert.equal(run.state, 'succeeded');
    assert.equal(run.dryRun, true);
    assert.deepEqual(run.approvals, []);
  });

  test('with the circuit open, a live playbook run is held for approval instead of acting', async () => {
    const d = await daemonWith({ rollback: approvePlaybook().replace('mode: approve', 'mode: live') });
    await d.store.openCircuit({ at: new Date().toISOString(), reason: 'too many runs', by: 'remediator' });
    await d.post(payload());
    const held = await onlyRun(d);
    assert.equal(held.state, 'awaiting_approval');
    assert.equal(held.needsApproval, true);
    assert.match(String(held.approvals[0]?.message), /the circuit is open since .* \(too many runs\): a person must approve this run/);
    assert.deepEqual(actions(), []);
  });

  test('bad requests: no token, a comment that is not text, an unknown run', async () => {
    const d = await daemonWith({ rollback: approvePlaybook() });
    await d.post(payload());
    const held = await onlyRun(d);
    assert.equal((await post(d, `/api/runs/${held.id}/approve`, {}, 'wrong-token-000000000000')).status, 401);
    const bad = await post(d, `/api/runs/${held.id}/approve`, { comment: 5 });
    assert.equal(bad.status, 400);
    assert.match(String((bad.body['error'] as { message: string }).message), /"comment" must be text/);
    assert.equal((await post(d, '/api/runs/r_missing/approve')).status, 404);
    assert.equal((await d.api<RunDetail>(`/api/runs/${held.id}`)).state, 'awaiting_approval');
  });

  test('an approval that lands while the hold is still being announced runs once, in one slot, and can be cancelled', async () => {
    // A notification webhook that answers the hold's announcement only when the test lets it: it
    // is still on its way while the run is approved and goes on. Other notifications are answered
    // at once (an approval waits for its own).
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const hook = await startHttpServer(async (req, res) => {
      if ((JSON.parse(req.body) as { kind: string }).kind === 'approval.requested') await answered;
      reply(res, 204);
    });
    try {
      dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-approvals-'));
      mkdirSync(path.join(dir, 'playbooks'));
      writeFileSync(
        path.join(dir, 'playbooks', 'rollback.yaml'),
        approvePlaybook()
          .replaceAll('ACTIONS_LOG', actionLog())
          .replace(
            `${SCRIPTS}/append-line.mjs, ${actionLog()}, 'undo {{ params.deployment }} after {{ steps.inspect.stdout }}'`,
            "-e, 'setTimeout(() => {}, 20000)'",
          ),
      );
      daemon = await startTestDaemon({
        dir,
        playbooks: path.join(dir, 'playbooks'),
        config: { execution: 'live' },
        env: { PATH: process.env['PATH'] },
        notifyWebhookUrl: `${hook.url}/hook`,
      });
      const d = daemon;
      await d.post(payload());
      const held = await until('the hold', async () => (await d.api<{ runs: Run[] }>('/api/runs?state=awaiting_approval')).runs[0]);
      assert.equal((await post(d, `/api/runs/${held.id}/approve`)).status, 200);
      await until('the action to start', async () => (await d.api<RunDetail>(`/api/runs/${held.id}`)).steps[1]?.state === 'running');
      const announced = async () =>
        (await d.api<RunDetail>(`/api/runs/${held.id}`)).events.some(
          (e) => e.kind === 'notification.sent' && e.data['notifier'] === 'webhook' && e.data['kind'] === 'approval.requested',
        );
      assert.equal(await announced(), false, 'the announcement is still on its way');
      answer();
      await until('the announcement to be done', announced);
      assert.equal(d.executor.activeCount, 1, 'the run holds exactly one slot once the announcement is done');
      assert.equal((await post(d, `/api/runs/${held.id}/cancel`, { reason: 'enough' })).status, 200);
      await d.settled();
      assert.equal((await d.api<RunDetail>(`/api/runs/${held.id}`)).state, 'cancelled');
    } finally {
      await hook.close();
    }
  });

  test('an approved run waiting for a slot can be cancelled, and one whose alert resolves meanwhile does not act', async () => {
    const d = await daemonWith(
      {
        rollback: approvePlaybook(),
        slow: `name: slow\nmatch: { alertname: Slow }\nmode: live\nsteps:\n  - run: [${NODE}, -e, 'setTimeout(() => {}, 30000)']\n`,
      },
      { runs: { maxConcurrent: 1, outputCapBytes: 65536, killGrace: '1s', shutdownGrace: '5s', defaultTimeout: '5m', envAllow: ['PATH'], lease: '30s' } },
    );
    await d.post(payload({ fingerprint: '00000000000000a1', deployment: 'cart' }));
    await d.post(payload({ fingerprint: '00000000000000a2', deployment: 'search' }));
    const held = await until('two holds', async () => {
      const { runs } = await d.api<{ runs: Run[] }>('/api/runs?state=awaiting_approval');
      return runs.length === 2 ? runs : null;
    });
    const slow = payload();
    (slow.alerts[0] as { labels: Record<string, string> }).labels = { alertname: 'Slow' };
    await d.post(slow);
    const slowRun = await until('the slot to be taken', async () => (await d.api<{ runs: Run[] }>('/api/runs?state=running')).runs[0]);
    const [first, second] = held as [Run, Run];
    assert.equal((await post(d, `/api/runs/${first.id}/approve`)).status, 200);
    assert.equal((await post(d, `/api/runs/${second.id}/approve`)).status, 200);
    // first waits for the slot: cancelled there.
    const cancelled = await post(d, `/api/runs/${first.id}/cancel`, { reason: 'not needed' });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal((await d.api<RunDetail>(`/api/runs/${first.id}`)).state, 'cancelled');
    // second's alert resolves while it waits: when the slot frees, it does not act.
    await d.post(payload({ fingerprint: second.fingerprint, status: 'resolved', deployment: 'search' }));
    await until('the resolve recorded', async () => (await d.api<RunDetail>(`/api/runs/${second.id}`)).resolvedAt);
    assert.equal((await post(d, `/api/runs/${slowRun.id}/cancel`)).status, 200);
    await d.settled();
    const resolved = await d.api<RunDetail>(`/api/runs/${second.id}`);
    assert.equal(resolved.state, 'cancelled');
    assert.match(resolved.reason, /the alert resolved at .*, after the approval/);
    assert.deepEqual(actions(), []);
  });

  test('approvals are refused while the daemon shuts down, and by a daemon restarted with execution dry-run', async () => {
    const d = await daemonWith({
      rollback: approvePlaybook(),
      slow: `name: slow\nmatch: { alertname: Slow }\nmode: live\nsteps:\n  - run: [${NODE}, -e, 'setTimeout(() => {}, 3000)']\n`,
    });
    await d.post(payload());
    const held = await onlyRun(d);
    const slow = payload();
    (slow.alerts[0] as { labels: Record<string, string> }).labels = { alertname: 'Slow' };
    await d.post(slow);
    await until('the slow run', async () => (await d.api<{ runs: Run[] }>('/api/runs?state=running')).runs[0]);
    const closing = d.close();
    daemon = undefined;
    const during = await post(d, `/api/runs/${held.id}/approve`);
    assert.equal(during.status, 503);
    assert.match(String((during.body['error'] as { message: string }).message), /shutting down/);
    await closing;

    const again = await restart({ execution: 'dry-run' });
    assert.equal((await again.api<RunDetail>(`/api/runs/${held.id}`)).state, 'awaiting_approval');
    const dry = await post(again, `/api/runs/${held.id}/approve`);
    assert.equal(dry.status, 409);
    assert.match(String((dry.body['error'] as { message: string }).message), /execution dry-run: an approved run would not act/);
    assert.equal((await post(again, `/api/runs/${held.id}/reject`)).status, 200, 'rejecting is still possible');
    assert.deepEqual(actions(), []);
  });

  test('a playbook changed while a run is held: the reload re-proposes it under the new version, and the record says the reload ended the old request', async () => {
    const d = await daemonWith({ rollback: approvePlaybook() });
    await d.post(payload());
    const held = await onlyRun(d);
    assert.equal(held.approvals.length, 1);
    // Only the action's text changes: the approver must see, and approve, the new plan.
    const changed = approvePlaybook().replace("'undo {{ params.deployment }} after", "'undo (v2) {{ params.deployment }} after");
    writeFileSync(path.join(dir, 'playbooks', 'rollback.yaml'), changed.replaceAll('ACTIONS_LOG', actionLog()));
    const reload = await d.reload();
    assert.ok(reload.ok);
    assert.deepEqual(reload.heldRuns, { reproposed: 1, cancelled: 0 }, 'the reload says how many held runs it affected');
    await d.settled();

    const again = await d.api<RunDetail>(`/api/runs/${held.id}`);
    assert.equal(again.state, 'awaiting_approval', 'held again, under the new version');
    assert.notEqual(again.playbookHash, held.playbookHash);
    const [first, second] = again.approvals;
    assert.deepEqual(
      [first?.decision, first?.decidedBy, first?.decidedVia],
      ['cancelled', 'reload', 'system'],
      'the reload ended the old request, not a person',
    );
    assert.equal(second?.decision, null);
    assert.match(second?.message ?? '', /undo \(v2\) checkout/, 'the new request shows the new plan');
    assert.match(second?.message ?? '', /re-proposed under playbook rollback as changed by a reload \(steps changed: undo\)/);
    assert.ok(
      again.events.some((e) => e.kind === 'run.state' && e.data['to'] === 'pending' && e.data['by'] === 'reload'),
      'the move back to pending is recorded as the reload',
    );

    // The approver decides on the new version, and it acts once.
    const answer = await post(d, `/api/runs/${held.id}/approve`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    await d.settled();
    assert.equal((await d.api<RunDetail>(`/api/runs/${held.id}`)).state, 'succeeded');
    assert.deepEqual(actions(), ['undo (v2) checkout after revision-of-checkout']);

    // A held run whose playbook is removed is cancelled by the reload, with the reason.
    await d.post(payload({ deployment: 'cart' }));
    await d.settled();
    const { runs } = await d.api<{ runs: Run[] }>('/api/runs');
    const cart = runs.find((r) => r.state === 'awaiting_approval') as Run;
    rmSync(path.join(dir, 'playbooks', 'rollback.yaml'));
    writeFileSync(path.join(dir, 'playbooks', 'other.yaml'), 'name: other\nmatch: { alertname: Other }\nsteps:\n  - notify: { text: hi }\n');
    const removal = await d.reload();
    assert.ok(removal.ok);
    assert.deepEqual(removal.heldRuns, { reproposed: 0, cancelled: 1 });
    const gone = await d.api<RunDetail>(`/api/runs/${cart.id}`);
    assert.equal(gone.state, 'cancelled');
    assert.match(gone.reason, /playbook rollback was removed by a reload/);
  });

  test('a run held at an approval step after it acted is not started over by a reload: the reload ends it, and nothing acts twice', async () => {
    const live = (note: string) => `name: rollback
match: { alertname: Burst }
mode: live
params:
  deployment: { from: labels.deployment, pattern: '[a-z-]+' }
steps:
  - name: first
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ACTIONS_LOG, 'first']
  - name: ask
    approval: { message: '${note}', timeout: 5m }
  - name: second
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ACTIONS_LOG, 'second']
`;
    const d = await daemonWith({ rollback: live('go on?') });
    await d.post(payload());
    const held = await onlyRun(d);
    assert.equal(held.state, 'awaiting_approval');
    writeFileSync(path.join(dir, 'playbooks', 'rollback.yaml'), live('go on (v2)?').replaceAll('ACTIONS_LOG', actionLog()));
    const reload = await d.reload();
    assert.ok(reload.ok);
    assert.deepEqual(reload.heldRuns, { reproposed: 0, cancelled: 1 });
    await d.settled();
    const ended = await d.api<RunDetail>(`/api/runs/${held.id}`);
    assert.equal(ended.state, 'cancelled');
    assert.match(ended.reason, /changed \(a reload\) after the run acted/);
    assert.deepEqual(actions(), ['first'], 'the acting step ran once');
  });

  test('a verdict naming a request that is no longer open is refused', async () => {
    const d = await daemonWith({ rollback: approvePlaybook() });
    await d.post(payload());
    const held = await onlyRun(d);
    const stale = await post(d, `/api/runs/${held.id}/approve`, { seq: 2 });
    assert.equal(stale.status, 409);
    assert.match(String((stale.body['error'] as { message: string }).message), /request #2 of run \S+ is no longer open: it now waits on request #1/);
    assert.equal((await post(d, `/api/runs/${held.id}/approve`, { seq: 1 })).status, 200);
  });
});
