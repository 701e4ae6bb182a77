// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Approval } from '../../src/domain/approval.js';
import type { Playbook } from '../../src/domain/playbook.js';
import type { Run, RunDetail, RunStep } from '../../src/domain/run.js';
import { changesSomething, coversPlaybookGate, freshProgress, gateKey, gateOf, resumePoint } from '../../src/execute/approval-gate.js';
import { parsePlaybook } from '../../src/playbook/loader.js';

function playbook(yaml: string): Playbook {
  const { playbook: p, errors } = parsePlaybook(`name: pb\nmatch: { alertname: A }\n${yaml}`, 'pb.yaml');
  assert.deepEqual(errors, []);
  return p as Playbook;
}

const RUN = { dryRun: false, needsApproval: true } as Run;

const approval = (over: Partial<Approval>): Approval => ({
  runId: 'r1',
  seq: 1,
  phase: 'main',
  stepIndex: 0,
  stepName: 's',
  requestedAt: '2026-11-29T03:00:00Z',
  expiresAt: '2026-11-29T03:15:00Z',
  approvers: [],
  message: null,
  decision: 'approved',
  decidedBy: 'alice',
  decidedVia: 'api',
  decidedAt: '2026-11-29T03:01:00Z',
  comment: null,
  ...over,
});

const stored = (p: Playbook, states: Record<string, RunStep['state']>, vars: Record<string, Record<string, unknown>> = {}): RunStep[] =>
  [...p.steps.map((s, i) => ({ s, i, phase: 'main' as const })), ...p.onFailure.map((s, i) => ({ s, i, phase: 'onFailure' as const }))].map(
    ({ s, i, phase }) => ({
      index: i,
      name: s.name,
      kind: s.kind,
      phase,
      readOnly: s.readOnly,
      rendered: { kind: 'wait', durationMs: 0 },
      deferred: false,
      state: states[s.name] ?? 'planned',
      startedAt: null,
      finishedAt: null,
      exitCode: null,
      output: null,
      error: null,
      vars: vars[s.name] ?? null,
    }),
  );

describe('which steps wait for a person', () => {
  const pb = playbook(`steps:
  - { name: look, readOnly: true, run: [kubectl, get, pods] }
  - { name: check, verify: { prometheus: { query: up } } }
  - { name: poke, verify: { http: { method: POST, url: 'http://svc/warm' } } }
  - { name: peek, verify: { http: { url: 'http://svc/health' } } }
  - { name: say, notify: { text: hi } }
  - { name: ask, approval: { message: go? } }
  - { name: undo, run: [kubectl, rollout, undo] }
  - { name: call, http: { method: POST, url: 'http://svc/flag' } }
  - { name: safe-call, readOnly: true, http: { method: POST, url: 'http://svc/query' } }
`);
  const step = (name: string) => pb.steps.find((s) => s.name === name) as Playbook['steps'][number];

  test('a run or http step not marked readOnly, and a verify that polls with POST, change something; nothing else does', () => {
    assert.deepEqual(
      pb.steps.map((s) => [s.name, changesSomething(s)]),
      [
        ['look', false],
        ['check', false],
        ['poke', true],
        ['peek', false],
        ['say', false],
        ['ask', false],
        ['undo', true],
        ['call', true],
        ['safe-call', false],
      ],
    );
  });

  test('a run that needs approval holds before the first step that changes something, until approved once', () => {
    const p = freshProgress();
    assert.equal(gateOf(step('look'), RUN, p, 'main', 0), null);
    assert.equal(gateOf(step('undo'), RUN, p, 'main', 6), 'hold');
    p.approvedOnce = true;
    assert.equal(gateOf(step('undo'), RUN, p, 'main', 6), null);
    assert.equal(gateOf(step('call'), RUN, p, 'main', 7), null);
  });

  test('an approval step holds every live run until its own request is approved; dry runs never hold', () => {
    const p = freshProgress();
    const live = { ...RUN, needsApproval: false };
    assert.equal(gateOf(step('ask'), live, p, 'main', 5), 'hold');
    assert.equal(gateOf(step('undo'), live, p, 'main', 6), null, 'mode live: the action itself does not wait');
    p.approvedOnce = true;
    assert.equal(gateOf(step('ask'), live, p, 'main', 5), 'hold', 'an earlier approval does not answer this step');
    p.granted.set(gateKey('main', 5), approval({ stepIndex: 5 }));
    assert.equal(gateOf(step('ask'), live, p, 'main', 5), 'granted');
    assert.equal(gateOf(step('ask'), { ...RUN, dryRun: true }, freshProgress(), 'main', 5), null);
    assert.equal(gateOf(step('undo'), { ...RUN, dryRun: true }, freshProgress(), 'main', 6), null);
  });

  test('an approved request passes the playbook gate only when it was asked of the playbook approvers or fewer', () => {
    const leads = playbook(`mode: approve\napproval: { approvers: [lead1, lead2] }\nsteps: [{ run: [x] }]\n`);
    const anyone = playbook(`mode: approve\nsteps: [{ run: [x] }]\n`);
    assert.equal(coversPlaybookGate(approval({ approvers: [] }), leads), false, 'open to anyone: does not stand in for the leads');
    assert.equal(coversPlaybookGate(approval({ approvers: ['lead1', 'intern'] }), leads), false);
    assert.equal(coversPlaybookGate(approval({ approvers: ['lead2'] }), leads), true);
    assert.equal(coversPlaybookGate(approval({ approvers: ['lead1', 'lead2'] }), leads), true);
    assert.equal(coversPlaybookGate(approval({ approvers: [] }), anyone), true);
  });
});

describe('where an approved run goes on', () => {
  const pb = playbook(`approval: { approvers: [lead] }
steps:
  - { name: look, readOnly: true, run: [x] }
  - { name: optional, run: [x], continueOnError: true }
  - { name: undo, run: [x] }
  - { name: later, run: [x] }
onFailure:
  - { name: ask-cleanup, approval: { approvers: [anyone-on-call] } }
  - { name: cleanup, run: [x] }
`);
  const detail = (steps: RunStep[], approvals: Approval[]): RunDetail =>
    ({ ...RUN, id: 'r1', state: 'running', steps, approvals, events: [] }) as unknown as RunDetail;

  test('at the gate of the last approved request, with earlier outcomes and values as stored', () => {
    const steps = stored(pb, { look: 'succeeded', optional: 'failed', undo: 'planned' }, { look: { stdout: 'rev 41' } });
    const p = resumePoint(detail(steps, [approval({ stepIndex: 2, stepName: 'undo', approvers: ['lead'] })]), pb);
    assert.deepEqual([p?.phase, p?.index, p?.failure, p?.approvedOnce], ['main', 2, null, true], 'a continueOnError failure does not fail the run');
    assert.deepEqual(p?.outcomes.get('look'), { status: 'succeeded', vars: { stdout: 'rev 41' } });
    assert.equal(p?.outcomes.has('undo'), false, 'the gate step itself is still to run');
  });

  test('a gate in onFailure: the main failure is known again, and a narrower approval does not pass the playbook gate', () => {
    const steps = stored(pb, { look: 'succeeded', optional: 'succeeded', undo: 'failed', later: 'skipped' });
    const p = resumePoint(detail(steps, [approval({ phase: 'onFailure', stepIndex: 0, stepName: 'ask-cleanup', approvers: ['anyone-on-call'] })]), pb);
    assert.deepEqual([p?.phase, p?.index, p?.failure, p?.approvedOnce], ['onFailure', 0, 'undo', false]);
    assert.ok(p?.granted.has(gateKey('onFailure', 0)));
    assert.equal(p?.outcomes.get('later')?.status, 'skipped');
  });

  test('no approved request: nothing to resume', () => {
    assert.equal(resumePoint(detail(stored(pb, {}), [approval({ decision: 'rejected' })]), pb), null);
  });
});
