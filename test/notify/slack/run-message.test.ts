// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Approval } from '../../../src/domain/approval.js';
import type { RunDetail, RunState, RunStep } from '../../../src/domain/run.js';
import { runMessage } from '../../../src/notify/slack/run-message.js';

const HOSTILE = '<!channel> <@U123> <#C1> *x* _it_ ~s~ `tick` <http://evil|click> & more';

function step(over: Partial<RunStep> & Pick<RunStep, 'index' | 'name'>): RunStep {
  return {
    kind: 'run',
    phase: 'main',
    readOnly: false,
    rendered: {
      kind: 'run',
      argv: ['kubectl', '-n', 'shop', 'rollout', 'restart', 'deploy/api'],
      dryRunArgv: ['kubectl', '-n', 'shop', 'rollout', 'restart', 'deploy/api', '--dry-run=server'],
      env: {},
      cwd: null,
    },
    deferred: false,
    state: 'planned',
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    output: null,
    error: null,
    ...over,
  };
}

function approval(over: Partial<Approval> = {}): Approval {
  return {
    runId: 'r_01',
    seq: 1,
    phase: 'main',
    stepIndex: 1,
    stepName: 'restart',
    requestedAt: '2024-05-01T10:00:05.000Z',
    expiresAt: '2024-05-01T10:30:05.000Z',
    approvers: ['alice', 'sre-oncall'],
    message: 'Restart api in shop?',
    decision: null,
    decidedBy: null,
    decidedVia: null,
    decidedAt: null,
    comment: null,
    ...over,
  };
}

/** A run held for approval, with every field of RunDetail. */
function run(over: Partial<RunDetail> = {}): RunDetail {
  return {
    id: 'r_01',
    playbook: 'restart-api',
    playbookHash: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    batchId: 'b_01',
    alertname: 'KubePodCrashLooping',
    fingerprint: 'c0ffee',
    startsAt: '2024-05-01T10:00:00.000Z',
    instanceKey: 'c0ffee@2024-05-01T10:00:00.000Z',
    targetKey: 'shop/api',
    lockKey: null,
    dryRun: false,
    needsApproval: true,
    state: 'awaiting_approval',
    reason: 'waiting for approval',
    params: { ns: 'shop' },
    labels: { alertname: 'KubePodCrashLooping', namespace: 'shop', pod: 'api-7d9f' },
    annotations: { summary: 'api is crash looping', runbook_url: 'https://wiki.example/runbooks/api' },
    generatorUrl: 'http://prometheus.example:9090/graph?g0.expr=up&g0.tab=1',
    createdAt: '2024-05-01T10:00:01.000Z',
    updatedAt: '2024-05-01T10:00:05.000Z',
    finishedAt: null,
    resolvedAt: null,
    steps: [
      step({
        index: 0,
        name: 'check',
        readOnly: true,
        state: 'succeeded',
        rendered: { kind: 'http', method: 'GET', url: 'http://api.shop/health', headers: {}, body: null, expectStatus: [200] },
      }),
      step({ index: 1, name: 'restart', state: 'pending' }),
      step({ index: 0, name: 'page', phase: 'onFailure', kind: 'notify', rendered: { kind: 'notify', text: 'restart failed', channel: null } }),
    ],
    approvals: [approval()],
    events: [],
    ...over,
  };
}

type Block = { type: string; block_id?: string; text?: { type: string; text: string; verbatim?: boolean }; elements?: Array<Record<string, unknown>> };

const blocksOf = (r: RunDetail, publicUrl: string | null = null): Block[] => runMessage({ run: r, publicUrl }).blocks as Block[];

/** Every mrkdwn text of the message. */
function mrkdwnTexts(blocks: Block[]): Array<{ text: string; verbatim?: boolean }> {
  const out: Array<{ text: string; verbatim?: boolean }> = [];
  for (const b of blocks) {
    if (b.text?.type === 'mrkdwn') out.push(b.text);
    for (const e of b.elements ?? []) if (e['type'] === 'mrkdwn') out.push(e as { text: string; verbatim?: boolean });
  }
  return out;
}

const allMrkdwn = (blocks: Block[]): string =>
  mrkdwnTexts(blocks)
    .map((t) => t.text)
    .join('\n');
/** What Slack formats: everything outside code spans and code blocks. */
const outsideCode = (s: string): string => s.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
const actionsOf = (blocks: Block[]): Block[] => blocks.filter((b) => b.type === 'actions');
const headerOf = (blocks: Block[]): string => (blocks[0]?.type === 'header' ? (blocks[0].text?.text ?? '') : 'no header first');

describe('runMessage', () => {
  test('awaiting approval: header, request, who may approve, expiry and the two buttons', () => {
    const blocks = blocksOf(run());
    assert.equal(headerOf(blocks), 'Awaiting approval');
    const text = allMrkdwn(blocks);
    assert.match(text, /\*Approval needed\* before step `restart`/);
    assert.match(text, /`Restart api in shop\?`/);
    assert.match(text, /\*Who may approve:\* `alice`, `sre-oncall`/);
    assert.match(text, /\*Expires:\* <!date\^1714559405\^\{date_num\} \{time\}\|2024-05-01T10:30:05.000Z>/);
    const [actions, ...more] = actionsOf(blocks);
    assert.equal(more.length, 0);
    assert.equal(actions?.block_id, 'approval:r_01:1');
    const [approve, reject] = actions?.elements ?? [];
    assert.equal(approve?.['action_id'], 'approve');
    assert.equal(approve?.['style'], 'primary');
    assert.equal(approve?.['value'], 'r_01');
    assert.ok(approve?.['confirm'], 'approve asks for confirmation');
    assert.equal(reject?.['action_id'], 'reject');
    assert.equal(reject?.['style'], 'danger');
    assert.equal(reject?.['value'], 'r_01');
  });

  test('alert, summary, target, labels, playbook, hash prefix and mode', () => {
    const text = allMrkdwn(blocksOf(run()));
    assert.match(text, /\*Alert\* `KubePodCrashLooping` on target `shop\/api`/);
    assert.match(text, /\*Labels\* `namespace=shop` `pod=api-7d9f`/);
    assert.doesNotMatch(text, /`alertname=/);
    assert.match(text, /\*Summary\* `api is crash looping`/);
    assert.match(text, /Playbook `restart-api` · hash `9f86d081884c` · mode: live, approval required · run `r_01`/);
  });

  test('labels and annotations from the alert can neither ping, link nor format', () => {
    const r = run({
      alertname: `Boom ${HOSTILE}`,
      targetKey: HOSTILE,
      labels: { alertname: 'Boom', evil: HOSTILE, 'a<b': '&' },
      annotations: { summary: HOSTILE, description: `first line\n${HOSTILE}\n<!here>` },
      reason: HOSTILE,
      approvals: [approval({ message: HOSTILE, approvers: ['<!subteam^S1>'] })],
      steps: [step({ index: 0, name: 'restart', rendered: { kind: 'run', argv: ['echo', HOSTILE], dryRunArgv: null, env: {}, cwd: null } })],
    });
    const { text, blocks } = runMessage({ run: r, publicUrl: null });
    const all = allMrkdwn(blocks as Block[]);
    // Our own tokens (dates, links we label) are the only "<" Slack would parse: no mention, channel or link of theirs.
    const tokens = all.match(/<[^>]*>/g) ?? [];
    const ours = (t: string): boolean => t.startsWith('<!date^') || /^<https?:\/\/[^|]*\|(Alert source|Runbook|Run in the console)>$/.test(t);
    assert.ok(tokens.every(ours), `unexpected tokens: ${tokens.join(' ')}`);
    assert.doesNotMatch(all, /<!channel>|<!here>|<@U123>|<#C1>|<http:\/\/evil/);
    // Every "&" is the start of an entity we wrote.
    assert.doesNotMatch(all, /&(?!amp;|lt;|gt;)/);
    // Emphasis markers from the alert only ever appear inside code, where Slack formats nothing.
    const formatted = outsideCode(all);
    for (const marker of ['*x*', '_it_', '~s~', 'tick', 'click', 'more']) assert.ok(!formatted.includes(marker), `${marker} outside code in:\n${formatted}`);
    assert.match(all, /`evil=&lt;!channel&gt; &lt;@U123&gt; &lt;#C1&gt; \*x\* _it_ ~s~ \u02cbtick\u02cb &lt;http:\/\/evil\|click&gt; &amp; more`/);
    assert.match(all, /```first line\n&lt;!channel&gt;[^`]*\n&lt;!here&gt;```/);
    // Slack auto-links nothing of ours either.
    assert.ok(mrkdwnTexts(blocks as Block[]).every((t) => t.verbatim === true));
    // The fallback is escaped too.
    assert.doesNotMatch(text, /[<>]|&(?!amp;|lt;|gt;)/);
    assert.match(text, /^Awaiting approval: Boom &lt;!channel&gt;/);
  });

  test('links: only http(s) alert URLs, escaped; the run in the API when a public URL is set', () => {
    const blocks = blocksOf(run(), 'https://remediator.example/');
    const text = allMrkdwn(blocks);
    assert.match(text, /<http:\/\/prometheus\.example:9090\/graph\?g0\.expr=up&amp;g0\.tab=1\|Alert source>/);
    assert.match(text, /<https:\/\/wiki\.example\/runbooks\/api\|Runbook>/);
    assert.match(text, /<https:\/\/remediator\.example\/console\/runs\/r_01\|Run in the console>/);

    const hostile = allMrkdwn(blocksOf(run({ generatorUrl: 'javascript:alert(1)', annotations: { runbook_url: 'https://wiki.example/a|<!channel>' } })));
    assert.doesNotMatch(hostile, /javascript|Alert source|Run in the console|<!channel>/);
    assert.match(hostile, /<https:\/\/wiki\.example\/a%7C%3C!channel%3E\|Runbook>/);
  });

  test('a dry run is unmistakable: header, fallback, a line of its own, and the dry-run commands', () => {
    const r = run({ dryRun: true, needsApproval: false, state: 'running', approvals: [] });
    const { text, blocks } = runMessage({ run: r, publicUrl: null });
    assert.equal(headerOf(blocks as Block[]), 'DRY RUN — Running');
    assert.match(text, /^DRY RUN — Running: /);
    const all = allMrkdwn(blocks as Block[]);
    assert.match(all, /\*DRY RUN\*: only read-only steps/);
    assert.match(all, /mode: dry run/);
    assert.match(all, /deploy\/api --dry-run=server`/);
    assert.doesNotMatch(headerOf(blocksOf(run({ state: 'running' }))), /DRY RUN/);
  });

  test('the plan: main steps then onFailure, each with its state and command', () => {
    const all = allMrkdwn(blocksOf(run({ state: 'running', approvals: [] })));
    const plan = all.slice(all.indexOf('*Plan*'));
    assert.match(
      plan,
      /^\*Plan\*\ndone 1\. `check` `GET http:\/\/api\.shop\/health`\nnext 2\. `restart` `kubectl -n shop rollout restart deploy\/api`\n\*On failure\*\nplanned 1\. `page` `notify: restart failed`/,
    );
  });

  test('buttons only while the run waits on an open request', () => {
    const states: RunState[] = ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'rejected', 'expired', 'interrupted'];
    for (const state of states) assert.equal(actionsOf(blocksOf(run({ state }))).length, 0, state);
    assert.equal(
      actionsOf(
        blocksOf(
          run({
            state: 'awaiting_approval',
            approvals: [approval({ decision: 'approved', decidedBy: 'alice', decidedVia: 'api', decidedAt: '2024-05-01T10:01:00.000Z' })],
          }),
        ),
      ).length,
      0,
    );
    assert.equal(actionsOf(blocksOf(run({ state: 'awaiting_approval', approvals: [] }))).length, 0);
  });

  test('the latest request of several is the one shown, and its buttons carry its seq', () => {
    const first = approval({ decision: 'approved', decidedBy: 'alice', decidedVia: 'api', decidedAt: '2024-05-01T10:01:00.000Z' });
    const blocks = blocksOf(run({ approvals: [first, approval({ seq: 2, stepName: 'scale' })] }));
    assert.equal(actionsOf(blocks)[0]?.block_id, 'approval:r_01:2');
    assert.match(allMrkdwn(blocks), /before step `scale` \(request 2\)/);
  });

  test('once decided: who, through which channel, when, and the comment', () => {
    const decided = (over: Partial<Approval>): string =>
      allMrkdwn(
        blocksOf(
          run({ state: 'running', approvals: [approval({ decision: 'approved', decidedVia: 'slack', decidedAt: '2024-05-01T10:01:00.000Z', ...over })] }),
        ),
      );
    assert.match(
      decided({ decidedBy: 'U012ABCDEF', comment: 'go <!here>' }),
      /\*Approved\* by <@U012ABCDEF> via slack at <!date\^1714557660\^[^|]*\|2024-05-01T10:01:00.000Z>\n\*Comment:\* `go &lt;!here&gt;`/,
    );
    assert.match(decided({ decidedBy: 'alice', decidedVia: 'api' }), /\*Approved\* by `alice` via api at /);
    // A user id is a mention only when Slack itself said who it was.
    assert.match(decided({ decidedBy: 'U012ABCDEF', decidedVia: 'cli' }), /by `U012ABCDEF` via cli/);
    assert.match(decided({ decidedBy: '<!channel>', decidedVia: 'slack' }), /by `&lt;!channel&gt;` via slack/);
    const rejected = allMrkdwn(
      blocksOf(
        run({
          state: 'rejected',
          reason: 'rejected by alice',
          approvals: [approval({ decision: 'rejected', decidedBy: 'alice', decidedVia: 'api', decidedAt: '2024-05-01T10:01:00.000Z', comment: 'not now' })],
        }),
      ),
    );
    assert.match(rejected, /\*Rejected\* by `alice` via api at .*\n\*Comment:\* `not now`/);
    assert.match(rejected, /\*Rejected:\* `rejected by alice`/);
    const expired = allMrkdwn(blocksOf(run({ state: 'expired', approvals: [approval({ decision: 'expired', decidedVia: 'system' })] })));
    assert.match(expired, /\*Approval expired\*: nobody decided by <!date\^1714559405/);
  });

  test('every state has its words in the header', () => {
    const titles: Record<RunState, string> = {
      pending: 'Proposed',
      awaiting_approval: 'Awaiting approval',
      running: 'Running',
      succeeded: 'Succeeded',
      failed: 'Failed',
      cancelled: 'Cancelled',
      rejected: 'Rejected',
      expired: 'Expired',
      interrupted: 'Interrupted',
    };
    for (const [state, title] of Object.entries(titles)) assert.equal(headerOf(blocksOf(run({ state: state as RunState }))), title);
  });

  test('a finished run shows its reason; an unfinished one does not', () => {
    assert.match(allMrkdwn(blocksOf(run({ state: 'failed', reason: 'step restart exited 1', approvals: [] }))), /\*Failed:\* `step restart exited 1`/);
    assert.doesNotMatch(allMrkdwn(blocksOf(run({ state: 'running', reason: 'started', approvals: [] }))), /started/);
  });

  test('a huge plan stays within Block Kit limits and says what it left out', () => {
    const long = 'x'.repeat(5000);
    const steps = Array.from({ length: 400 }, (_, i) =>
      step({ index: i, name: `s${i}`, rendered: { kind: 'run', argv: ['echo', long], dryRunArgv: null, env: {}, cwd: null }, error: long }),
    );
    const blocks = blocksOf(
      run({ steps, labels: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`l${i}`, long])), annotations: { summary: long, description: long } }),
    );
    assert.ok(blocks.length <= 50, `${blocks.length} blocks`);
    for (const t of mrkdwnTexts(blocks)) assert.ok(t.text.length <= 3000, `a text of ${t.text.length} characters`);
    assert.match(allMrkdwn(blocks), /_…and \d+ more lines of the plan: see the run in the API\._/);
    assert.match(allMrkdwn(blocks), /_and 32 more_/);
    assert.equal(actionsOf(blocks).length, 1, 'the buttons are never cut');
  });
});
