// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import nock from 'nock';
import type { Approval } from '../../../src/domain/approval.js';
import type { RunDetail, RunState } from '../../../src/domain/run.js';
import { SlackRunMessages, type RunMessageResult, type SlackMessageRefs } from '../../../src/notify/slack/run-messages.js';
import { SlackClient, type SlackMessageRef } from '../../../src/notify/slack/slack-client.js';
import { onlyNockedCalls } from '../../support/nock.js';

const API = 'https://slack.example.test';
const TOKEN = 'xoxb-1-run-messages';
const WEBHOOK_HOST = 'https://hooks.example.test';
const WEBHOOK_PATH = '/services/T/B/secret';
const noSleep = (): Promise<void> => Promise.resolve();

const openRequest: Approval = {
  runId: 'r_01',
  seq: 1,
  phase: 'main',
  stepIndex: 0,
  stepName: 'restart',
  requestedAt: '2024-05-01T10:00:05.000Z',
  expiresAt: '2024-05-01T10:30:05.000Z',
  approvers: [],
  message: null,
  decision: null,
  decidedBy: null,
  decidedVia: null,
  decidedAt: null,
  comment: null,
};

/** A run in `state`, with every field of RunDetail; approved by U012ABCDEF once past approval. */
function run(state: RunState, over: Partial<RunDetail> = {}): RunDetail {
  const decided: Approval = { ...openRequest, decision: 'approved', decidedBy: 'U012ABCDEF', decidedVia: 'slack', decidedAt: '2024-05-01T10:01:00.000Z' };
  return {
    id: 'r_01',
    playbook: 'restart-api',
    playbookHash: '9f86d081884c7d659a2f',
    batchId: null,
    alertname: 'KubePodCrashLooping',
    fingerprint: 'c0ffee',
    startsAt: '2024-05-01T10:00:00.000Z',
    instanceKey: 'c0ffee@2024-05-01T10:00:00.000Z',
    targetKey: 'shop/api',
    lockKey: null,
    dryRun: false,
    needsApproval: true,
    state,
    reason: state === 'failed' ? 'step restart exited 1' : '',
    params: {},
    labels: { alertname: 'KubePodCrashLooping', evil: '<!channel> *x* & <@U123>' },
    annotations: {},
    generatorUrl: null,
    createdAt: '2024-05-01T10:00:01.000Z',
    updatedAt: '2024-05-01T10:00:05.000Z',
    finishedAt: null,
    resolvedAt: null,
    steps: [
      {
        index: 0,
        name: 'restart',
        kind: 'run',
        phase: 'main',
        readOnly: false,
        rendered: { kind: 'run', argv: ['kubectl', 'rollout', 'restart', 'deploy/api'], dryRunArgv: null, env: {}, cwd: null },
        deferred: false,
        state: state === 'succeeded' ? 'succeeded' : 'planned',
        startedAt: null,
        finishedAt: null,
        exitCode: null,
        output: null,
        error: null,
      },
    ],
    approvals: state === 'pending' ? [] : [state === 'awaiting_approval' ? openRequest : decided],
    events: [],
    ...over,
  };
}

function memoryRefs(): SlackMessageRefs & { map: Map<string, SlackMessageRef> } {
  const map = new Map<string, SlackMessageRef>();
  return {
    map,
    get: (id) => Promise.resolve(map.get(id) ?? null),
    set: (id, ref) => {
      map.set(id, ref);
      return Promise.resolve();
    },
  };
}

type Body = { channel?: string; ts?: string; text: string; blocks: Array<{ type: string }> };

/** Everything the run messages need, around a run whose state the test changes. */
function setup(mode: 'bot' | 'webhook', initial: RunDetail) {
  const current = { run: initial as RunDetail | null };
  const results: Array<[string, RunMessageResult]> = [];
  const refs = memoryRefs();
  const client =
    mode === 'bot'
      ? new SlackClient({ botToken: TOKEN, apiUrl: `${API}/api`, sleep: noSleep })
      : new SlackClient({ webhookUrl: WEBHOOK_HOST + WEBHOOK_PATH, sleep: noSleep });
  const messages = new SlackRunMessages({
    client,
    channel: mode === 'bot' ? '#ops' : null,
    loadRun: () => Promise.resolve(current.run),
    refs,
    publicUrl: 'https://remediator.example',
    onResult: (id, r) => results.push([id, r]),
  });
  return { current, results, refs, messages };
}

/** Expects one Slack call at `path` answering `reply`, and collects its body. */
function expectCall(path: string, reply: Record<string, unknown> | string, bodies: Body[], host = API, delayMs = 0): nock.Scope {
  return nock(host)
    .post(path, (b: Body) => (bodies.push(b), true))
    .delay(delayMs)
    .reply(200, reply);
}

const hasButtons = (b: Body | undefined): boolean => (b?.blocks ?? []).some((block) => block.type === 'actions');

describe('SlackRunMessages', () => {
  onlyNockedCalls();

  test('bot token: one message per run, posted once then updated in place with the same ts', async () => {
    const { current, results, refs, messages } = setup('bot', run('awaiting_approval'));
    const posts: Body[] = [];
    const updates: Body[] = [];
    expectCall('/api/chat.postMessage', { ok: true, channel: 'C0OPS', ts: '1714557605.000100' }, posts);
    messages.runChanged('r_01');
    await messages.idle();
    assert.equal(posts.length, 1);
    assert.equal(posts[0]?.channel, '#ops');
    assert.ok(hasButtons(posts[0]), 'buttons while awaiting approval');
    assert.deepEqual(refs.map.get('r_01'), { channel: 'C0OPS', ts: '1714557605.000100' });
    // The labels arrive escaped: nothing pings.
    assert.doesNotMatch(JSON.stringify(posts[0]), /<!channel>|<@U123>/);

    for (const state of ['running', 'succeeded'] as const) {
      current.run = run(state);
      expectCall('/api/chat.update', { ok: true, channel: 'C0OPS', ts: '1714557605.000100' }, updates);
      messages.runChanged('r_01');
      await messages.idle();
    }
    assert.equal(updates.length, 2);
    for (const u of updates) {
      assert.equal(u.channel, 'C0OPS');
      assert.equal(u.ts, '1714557605.000100');
      assert.ok(!hasButtons(u), 'no buttons once decided');
    }
    assert.match(updates[0]?.text ?? '', /^Running/);
    assert.match(JSON.stringify(updates[0]), /Approved\* by <@U012ABCDEF> via slack/);
    assert.match(updates[1]?.text ?? '', /^Succeeded/);
    assert.deepEqual(results, [
      ['r_01', { ok: true, action: 'posted' }],
      ['r_01', { ok: true, action: 'updated' }],
      ['r_01', { ok: true, action: 'updated' }],
    ]);
  });

  test('changes arriving while a post is in flight become one more update, not one each', async () => {
    const { current, results, messages } = setup('bot', run('pending'));
    const bodies: Body[] = [];
    const posting = expectCall('/api/chat.postMessage', { ok: true, channel: 'C0OPS', ts: '1.1' }, bodies, API, 30);
    expectCall('/api/chat.update', { ok: true, channel: 'C0OPS', ts: '1.1' }, bodies);
    const inFlight = new Promise<void>((resolve) => posting.once('request', () => resolve()));
    messages.runChanged('r_01');
    await inFlight;
    current.run = run('awaiting_approval');
    messages.runChanged('r_01');
    current.run = run('running');
    messages.runChanged('r_01');
    current.run = run('succeeded');
    messages.runChanged('r_01');
    await messages.idle();
    // nock would have refused a third call (and onResult said so): two calls, the last one current.
    assert.equal(bodies.length, 2);
    assert.match(bodies[0]?.text ?? '', /^Proposed/);
    assert.match(bodies[1]?.text ?? '', /^Succeeded/);
    assert.deepEqual(
      results.map(([, r]) => r),
      [
        { ok: true, action: 'posted' },
        { ok: true, action: 'updated' },
      ],
    );
  });

  test('a burst of changes in one tick is a single post', async () => {
    const { messages } = setup('bot', run('awaiting_approval'));
    const bodies: Body[] = [];
    expectCall('/api/chat.postMessage', { ok: true, channel: 'C0OPS', ts: '1.1' }, bodies);
    for (let i = 0; i < 5; i++) messages.runChanged('r_01');
    await messages.idle();
    assert.equal(bodies.length, 1);
  });

  test('webhook only: a follow-up message only when the state changed', async () => {
    const { current, results, messages } = setup('webhook', run('awaiting_approval'));
    const bodies: Body[] = [];
    expectCall(WEBHOOK_PATH, 'ok', bodies, WEBHOOK_HOST);
    messages.runChanged('r_01');
    await messages.idle();
    // Same state again (e.g. resolvedAt changed): nothing posted.
    current.run = run('awaiting_approval', { resolvedAt: '2024-05-01T10:02:00.000Z' });
    messages.runChanged('r_01');
    await messages.idle();
    for (const [state, posts] of [
      ['running', true],
      ['running', false],
      ['failed', true],
    ] as const) {
      current.run = run(state);
      if (posts) expectCall(WEBHOOK_PATH, 'ok', bodies, WEBHOOK_HOST);
      messages.runChanged('r_01');
      await messages.idle();
    }
    assert.deepEqual(
      bodies.map((b) => b.text.split(':')[0]),
      ['Awaiting approval', 'Running', 'Failed'],
    );
    assert.ok(hasButtons(bodies[0]));
    assert.ok(!hasButtons(bodies[1]) && !hasButtons(bodies[2]));
    assert.ok(results.every(([, r]) => r.ok && r.action === 'posted'));
    assert.equal(results.length, 3);
  });

  test('webhook only: a failed post is tried again on the next change', async () => {
    const { results, messages } = setup('webhook', run('running'));
    nock(WEBHOOK_HOST).post(WEBHOOK_PATH).reply(404, 'no_service');
    messages.runChanged('r_01');
    await messages.idle();
    const bodies: Body[] = [];
    expectCall(WEBHOOK_PATH, 'ok', bodies, WEBHOOK_HOST);
    messages.runChanged('r_01');
    await messages.idle();
    assert.equal(bodies.length, 1);
    assert.equal(results[0]?.[1].ok, false);
    assert.match(!results[0]?.[1].ok ? (results[0]?.[1].error ?? '') : '', /^Slack webhook at hooks\.example\.test was refused: HTTP 404 no_service/);
    assert.deepEqual(results[1]?.[1], { ok: true, action: 'posted' });
  });

  test('failures are reported, never thrown, and the next change posts again', async () => {
    const { current, results, refs, messages } = setup('bot', run('awaiting_approval'));
    nock(API).post('/api/chat.postMessage').reply(200, { ok: false, error: 'not_in_channel' });
    assert.doesNotThrow(() => messages.runChanged('r_01'));
    await messages.idle();
    assert.equal(refs.map.size, 0);

    current.run = null;
    messages.runChanged('r_01');
    await messages.idle();

    const broken = new SlackRunMessages({
      client: new SlackClient({ botToken: TOKEN, apiUrl: `${API}/api`, sleep: noSleep }),
      channel: '#ops',
      loadRun: () => Promise.reject(new Error('database is locked')),
      refs,
      publicUrl: null,
      onResult: (id, r) => {
        results.push([id, r]);
        throw new Error('a broken observer');
      },
    });
    broken.runChanged('r_02');
    await broken.idle();

    current.run = run('awaiting_approval');
    const bodies: Body[] = [];
    expectCall('/api/chat.postMessage', { ok: true, channel: 'C0OPS', ts: '2.2' }, bodies);
    messages.runChanged('r_01');
    await messages.idle();
    assert.equal(bodies.length, 1);
    assert.deepEqual(
      results.map(([id, r]) => [id, r.ok ? r.action : r.error]),
      [
        ['r_01', 'Slack chat.postMessage failed: Slack error not_in_channel: invite the bot to the channel (/invite @the-bot)'],
        ['r_01', 'run r_01 not found'],
        ['r_02', 'database is locked'],
        ['r_01', 'posted'],
      ],
    );
    for (const [, r] of results) if (!r.ok) assert.ok(!r.error.includes(TOKEN));
  });

  test('runs are independent: one slow run does not hold another', async () => {
    const runs = new Map<string, RunDetail>([
      ['r_01', run('running', { id: 'r_01' })],
      ['r_02', run('running', { id: 'r_02' })],
    ]);
    const order: string[] = [];
    const messages = new SlackRunMessages({
      client: new SlackClient({ botToken: TOKEN, apiUrl: `${API}/api`, sleep: noSleep }),
      channel: '#ops',
      loadRun: (id) => Promise.resolve(runs.get(id) ?? null),
      refs: memoryRefs(),
      publicUrl: null,
      onResult: (id) => order.push(id),
    });
    nock(API)
      .post('/api/chat.postMessage', (b: Body) => /r_01/.test(JSON.stringify(b)))
      .delay(50)
      .reply(200, { ok: true, channel: 'C1', ts: '1.1' });
    nock(API)
      .post('/api/chat.postMessage', (b: Body) => /r_02/.test(JSON.stringify(b)))
      .reply(200, { ok: true, channel: 'C1', ts: '2.2' });
    messages.runChanged('r_01');
    messages.runChanged('r_02');
    await messages.idle();
    assert.deepEqual(order, ['r_02', 'r_01']);
  });

  test('a deleted message is posted again, and the new ts kept', async () => {
    const { results, refs, messages } = setup('bot', run('running'));
    await refs.set('r_01', { channel: 'C0OPS', ts: '1.1' });
    nock(API).post('/api/chat.update').reply(200, { ok: false, error: 'message_not_found' });
    const bodies: Body[] = [];
    expectCall('/api/chat.postMessage', { ok: true, channel: 'C0OPS', ts: '3.3' }, bodies);
    messages.runChanged('r_01');
    await messages.idle();
    assert.equal(bodies[0]?.channel, '#ops');
    assert.deepEqual(refs.map.get('r_01'), { channel: 'C0OPS', ts: '3.3' });
    assert.deepEqual(results, [['r_01', { ok: true, action: 'posted' }]]);
  });

  test('a bot token needs a channel to post in', () => {
    assert.throws(
      () =>
        new SlackRunMessages({
          client: new SlackClient({ botToken: TOKEN, sleep: noSleep }),
          channel: null,
          loadRun: () => Promise.resolve(null),
          refs: memoryRefs(),
          publicUrl: null,
        }),
      /need a channel/,
    );
  });
});
