import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import nock from 'nock';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { signSlackRequest } from '../../src/notify/slack/signature.js';
import { fixture } from '../support/fixtures.js';
import { removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';
import { until } from '../support/until.js';

const NODE = process.execPath;
const SIGNING_SECRET = 'slack-signing-secret-for-tests';
const BOT_TOKEN = 'xoxb-0000-test-token';
const CHANNEL = 'C0RUNS';
const APPROVER = 'U0APPROVER';
const RESPONSE_URL = 'https://hooks.slack.com/actions/T0/1/response';

/** A Slack interaction as Slack sends it: a form with a JSON payload, signed. */
function interaction(runId: string, actionId: string, user: string, opts: { secret?: string; ts?: number; seq?: number; team?: string } = {}) {
  const payload = {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase() },
    team: { id: opts.team ?? 'T0HOME' },
    actions: [{ action_id: actionId, value: runId, block_id: `approval:${runId}:${opts.seq ?? 1}`, type: 'button' }],
    response_url: RESPONSE_URL,
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': signSlackRequest(opts.secret ?? SIGNING_SECRET, ts, body),
    },
  };
}

async function send(d: TestDaemon, req: { body: string; headers: Record<string, string> }): Promise<{ status: number; text: string }> {
  const res = await fetch(`${d.url}/slack/interactions`, { method: 'POST', headers: req.headers, body: req.body });
  return { status: res.status, text: await res.text() };
}

describe('Slack: one message per run, and approval buttons verified by signature', () => {
  let dir: string;
  let daemon: TestDaemon;
  let posts: Record<string, unknown>[];
  let updates: Record<string, unknown>[];

  before(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
    dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-slack-'));
    mkdirSync(path.join(dir, 'playbooks'));
    writeFileSync(
      path.join(dir, 'playbooks', 'rollback.yaml'),
      `name: rollback
match: { alertname: Burst }
mode: approve
approval: { approvers: [${APPROVER}] }
params:
  deployment: { from: labels.deployment, pattern: '[a-z]+' }
steps:
  - name: look
    readOnly: true
    run: [${NODE}, -e, 'process.stdout.write("ok")']
  - name: undo
    run: [${NODE}, -e, 'process.stdout.write("undone")']
`,
    );
    daemon = await startTestDaemon({
      dir,
      playbooks: path.join(dir, 'playbooks'),
      config: { execution: 'live', slack: { channel: CHANNEL, teamId: 'T0HOME' }, publicUrl: 'https://remediator.example.com' },
      env: { PATH: process.env['PATH'] },
      secrets: { slackSigningSecrets: [SIGNING_SECRET], slackBotToken: BOT_TOKEN },
    });
  });
  after(async () => {
    await daemon.close();
    removeDir(dir);
    nock.cleanAll();
    nock.enableNetConnect();
  });
  afterEach(() => {
    assert.ok(nock.isDone(), `Slack calls not made: ${nock.pendingMocks().join(', ')}`);
    nock.cleanAll();
  });

  test('a run posts one message, updated in place; a non-approver is told no; the approver approves; replays and forgeries are refused', async () => {
    posts = [];
    updates = [];
    const slack = nock('https://slack.com', { reqheaders: { authorization: `Bearer ${BOT_TOKEN}` } });
    slack
      .post('/api/chat.postMessage', (b: Record<string, unknown>) => {
        posts.push(b);
        return true;
      })
      .reply(200, { ok: true, channel: CHANNEL, ts: '1700000000.000100' });
    slack
      .post('/api/chat.update', (b: Record<string, unknown>) => {
        updates.push(b);
        return true;
      })
      .times(20)
      .optionally()
      .reply(200, { ok: true });

    const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
    Object.assign(p.alerts[0] as object, {
      labels: { alertname: 'Burst', deployment: 'checkout', team: '<!channel> *bold* <@U999|x>' },
      fingerprint: 'f1a2b3c4d5e6f708',
    });
    await daemon.post(p);
    await daemon.settled();
    const { runs } = await daemon.api<{ runs: Run[] }>('/api/runs');
    const runId = runs[0]?.id as string;
    assert.equal(runs[0]?.state, 'awaiting_approval');

    assert.equal(posts.length, 1, 'one message per run');
    const first = JSON.stringify(posts[posts.length - 1]);
    assert.equal(posts[0]?.['channel'], CHANNEL);
    assert.ok(!first.includes('<!channel>') && !first.includes('<@U999'), 'label values never ping');
    assert.ok(first.includes('&lt;!channel&gt;'));
    const latest = () => JSON.stringify(updates[updates.length - 1] ?? posts[0]);
    assert.match(latest(), /"action_id":"approve"/, 'buttons while awaiting approval');
    assert.ok(
      updates.every((u) => u['ts'] === '1700000000.000100' && u['channel'] === CHANNEL),
      'updates go to the same message',
    );

    // Someone not in approvers presses approve: refused, recorded, told privately.
    let ephemeral: Record<string, unknown> | undefined;
    nock('https://hooks.slack.com')
      .post('/actions/T0/1/response', (b: Record<string, unknown>) => {
        ephemeral = b;
        return true;
      })
      .reply(200, 'ok');
    const stranger = await send(daemon, interaction(runId, 'approve', 'U0OTHER'));
    assert.equal(stranger.status, 200, stranger.text);
    await until('the ephemeral answer', () => ephemeral);
    assert.equal(ephemeral?.['response_type'], 'ephemeral');
    assert.match(String(ephemeral?.['text']), /U0OTHER may not approve run \S+: the playbook allows U0APPROVER/);
    assert.equal((await daemon.api<RunDetail>(`/api/runs/${runId}`)).state, 'awaiting_approval');

    // The approver, but pressing from another workspace (a Slack Connect channel, say): refused.
    let foreign: Record<string, unknown> | undefined;
    nock('https://hooks.slack.com')
      .post('/actions/T0/1/response', (b: Record<string, unknown>) => {
        foreign = b;
        return true;
      })
      .reply(200, 'ok');
    assert.equal((await send(daemon, interaction(runId, 'approve', APPROVER, { team: 'T0ELSEWHERE' }))).status, 200);
    await until('the answer to the other workspace', () => foreign);
    assert.match(String(foreign?.['text']), /Presses from this Slack workspace do not decide runs here \(slack\.teamId is T0HOME\)/);
    assert.equal((await daemon.api<RunDetail>(`/api/runs/${runId}`)).state, 'awaiting_approval');

    // The approver: acknowledged at once, then the run goes on.
    const press = interaction(runId, 'approve', APPROVER);
    const started = Date.now();
    const ok = await send(daemon, press);
    assert.equal(ok.status, 200);
    assert.ok(Date.now() - started < 3000, 'acknowledged within Slack’s 3 seconds');
    const done = await until('the run to succeed', async () => {
      const r = await daemon.api<RunDetail>(`/api/runs/${runId}`);
      return r.state === 'succeeded' ? r : null;
    });
    assert.deepEqual([done.approvals[0]?.decidedBy, done.approvals[0]?.decidedVia], [APPROVER, 'slack']);
    await daemon.settled();
    assert.equal(posts.length, 1, 'still one message');
    assert.match(latest(), /Succeeded/);
    assert.match(latest(), /<@U0APPROVER>/);
    assert.doesNotMatch(latest(), /"action_id":"approve"/, 'no buttons once decided');

    // The same signed request again: a replay.
    const replay = await send(daemon, press);
    assert.equal(replay.status, 401);
    assert.match(replay.text, /replay/i);

    const events = await daemon.store.listEvents({ runId, limit: 100 });
    assert.deepEqual(
      events.filter((e) => e.kind.startsWith('approval.')).map((e) => [e.kind, e.data['by'] ?? null]),
      [
        ['approval.requested', null],
        ['approval.refused', 'U0OTHER'],
        ['approval.granted', APPROVER],
      ],
    );
  });

  test('wrong secret, stale, from the future, tampered body, no signature: 401, and nothing decided', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, { body: string; headers: Record<string, string> }, RegExp][] = [
      ['wrong secret', interaction('r_x', 'approve', APPROVER, { secret: 'not-the-secret' }), /signature/i],
      // Well outside the ±300 s window: the daemon reads its own clock later, on a loaded machine
      // seconds later (the window's exact edges are signature.test.ts's, on an injected clock).
      ['stale', interaction('r_x', 'approve', APPROVER, { ts: now - 360 }), /old|stale/i],
      ['future', interaction('r_x', 'approve', APPROVER, { ts: now + 360 }), /future/i],
    ];
    const tampered = interaction('r_x', 'approve', APPROVER);
    cases.push(['tampered', { ...tampered, body: tampered.body.replace('approve', 'reject') }, /signature/i]);
    const unsigned = interaction('r_x', 'approve', APPROVER);
    cases.push(['unsigned', { body: unsigned.body, headers: { 'content-type': unsigned.headers['content-type'] } }, /X-Slack-Request-Timestamp/]);
    for (const [name, req, why] of cases) {
      const res = await send(daemon, req);
      assert.equal(res.status, 401, name);
      assert.match(res.text, why, name);
    }
    const failed = (await daemon.store.listEvents({ kind: 'auth.failed', limit: 100 })).filter((e) => e.data['endpoint'] === 'slack');
    assert.equal(failed.length, 1, 'one audit record per source per minute');
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    assert.match(metrics, /remediator_auth_failures_total\{endpoint="slack"\} [5-9]/);
  });

  test('a signed request that is not a Slack interaction is a 400', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const body = 'hello=world';
    const res = await send(daemon, {
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(ts),
        'x-slack-signature': signSlackRequest(SIGNING_SECRET, ts, body),
      },
    });
    assert.equal(res.status, 400);
    assert.match(res.text, /a Slack interaction is a form with a .*payload.* field/);
  });
});

describe('Slack: a replay is refused after a restart too', () => {
  test('a signed request accepted once is refused when sent again to the restarted daemon, within its 5 minutes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-slack-replay-'));
    const start = () => startTestDaemon({ dir, secrets: { slackSigningSecrets: [SIGNING_SECRET] } });
    // Not a button press: acknowledged and ignored, so nothing is sent to Slack.
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'shortcut', callback_id: 'x' }))}`;
    const ts = Math.floor(Date.now() / 1000);
    const request = {
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(ts),
        'x-slack-signature': signSlackRequest(SIGNING_SECRET, ts, body),
      },
    };
    let d = await start();
    try {
      assert.equal((await send(d, request)).status, 200);
      await d.close();
      d = await start();
      const again = await send(d, request);
      assert.equal(again.status, 401);
      assert.match(again.text, /already accepted once \(before a restart, or by another replica\): a replay/);
    } finally {
      await d.close();
      removeDir(dir);
    }
  });
});
