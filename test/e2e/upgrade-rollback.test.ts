import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { RunDetail } from '../../src/domain/run.js';
import { runLoop, verifyAuditTrail, type LoopEventKind, type LoopResult } from '../../examples/upgrade-rollback/loop.js';
import {
  ALERTNAME,
  API_IDENTITY,
  BAD_VERSION,
  findDemoBinaries,
  GOOD_VERSION,
  INSTALL_HINT,
  startStack,
  TARGET,
  type Stack,
  type Variant,
} from '../../examples/upgrade-rollback/stack.js';

// The demo's loop as a test (examples/upgrade-rollback, `npm run demo`): a real Prometheus scrapes
// the demo service, fires on its 5xx burst after a bad deploy, a real Alertmanager posts to
// `remediator serve`, and the playbook rolls back with deployctl, verifies in Prometheus and
// notifies, until the alert resolves. The same orchestration as the demo, asserted.

const found = findDemoBinaries();
const binaries = 'missing' in found ? null : found;
const inCi = !['', '0', 'false'].includes((process.env['CI'] ?? '').toLowerCase());
const skip = binaries === null && !inCi;
if (skip) process.stdout.write(`skipped: prometheus/alertmanager not installed (${INSTALL_HINT})\n`);

/** The order in which things must happen, from the upgrade to the resolve. */
const LIVE_ORDER: readonly LoopEventKind[] = [
  'baseline',
  'deployed',
  'pending',
  'firing',
  'webhook',
  'run_created',
  'run_started',
  'rolled_back',
  'verified',
  'notified',
  'run_finished',
  'resolved',
];
const APPROVE_ORDER: readonly LoopEventKind[] = [...LIVE_ORDER.slice(0, 7), 'awaiting_approval', 'approved', ...LIVE_ORDER.slice(7)];

describe('the upgrade-rollback loop with real Prometheus, Alertmanager and remediator', { timeout: 200_000 }, () => {
  test('live: the bad upgrade is rolled back, verified and the alert resolves, with nobody involved', { skip, timeout: 90_000 }, async (t) => {
    const { stack, result } = await loop(t, 'live');

    assert.deepEqual(kinds(result), LIVE_ORDER);
    assertMonotonic(result);
    const run = result.run;
    assert.equal(run.state, 'succeeded', `state ${run.state}: ${run.reason}`);
    assert.equal(run.dryRun, false);
    assert.deepEqual(states(run), ['running', 'succeeded']);
    await assertRolledBackOnce(stack, run);
    await assertResolved(stack, run, result);
    await assertAuditIntact(stack);
  });

  test('approve: the run holds before the rollback until it is approved through the API', { skip, timeout: 90_000 }, async (t) => {
    if (binaries === null) throw new Error(`CI is set and prometheus/alertmanager are not installed: ${INSTALL_HINT}`);
    const stack = await startStack({ variant: 'approve', binaries });
    t.after(() => stack.stop());
    const result = await runWithContext(stack);

    assert.deepEqual(kinds(result), APPROVE_ORDER);
    assertMonotonic(result);
    const run = result.run;
    assert.equal(run.state, 'succeeded', `state ${run.state}: ${run.reason}`);
    assert.equal(run.needsApproval, true);
    assert.deepEqual(states(run), ['running', 'awaiting_approval', 'running', 'succeeded']);
    assert.equal(run.approvals.length, 1, JSON.stringify(run.approvals));
    const approval = run.approvals[0]!;
    assert.equal(approval.stepName, 'rollback', 'it holds before the first step that changes something');
    assert.equal(approval.decision, 'approved');
    assert.equal(approval.decidedBy, API_IDENTITY);
    assert.equal(approval.decidedVia, 'api');
    assert.match(approval.comment ?? '', /roll it back/);
    const before = step(run, 'before');
    const rollback = step(run, 'rollback');
    assert.ok(Date.parse(before.finishedAt!) <= Date.parse(approval.requestedAt), 'the read-only step ran before the hold');
    assert.ok(Date.parse(rollback.startedAt!) >= Date.parse(approval.decidedAt!), `rollback started ${rollback.startedAt}, approved ${approval.decidedAt}`);
    await assertRolledBackOnce(stack, run);
    await assertResolved(stack, run, result);
    await assertAuditIntact(stack);
  });
});

async function loop(t: TestContext, variant: Variant): Promise<{ stack: Stack; result: LoopResult }> {
  if (binaries === null) throw new Error(`CI is set and prometheus/alertmanager are not installed: ${INSTALL_HINT}`);
  const stack = await startStack({ variant, binaries });
  t.after(() => stack.stop());
  return { stack, result: await runWithContext(stack) };
}

/** The loop, with what every process said added to a failure. */
function runWithContext(stack: Stack): Promise<LoopResult> {
  return runLoop(stack).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${stack.context()}`);
  });
}

function kinds(result: LoopResult): LoopEventKind[] {
  return result.events.map((e) => e.kind);
}

/** Each event happened no earlier than the one before it, by the clocks that recorded them. */
function assertMonotonic(result: LoopResult): void {
  result.events.forEach((e, i) => {
    const prev = result.events[i - 1];
    if (prev) assert.ok(prev.at <= e.at, `${prev.kind} at ${new Date(prev.at).toISOString()} came after ${e.kind} at ${new Date(e.at).toISOString()}`);
  });
}

function states(run: RunDetail): string[] {
  return run.events.filter((e) => e.kind === 'run.state').map((e) => String(e.data['to']));
}

function step(run: RunDetail, name: string) {
  const s = run.steps.find((x) => x.name === name && x.phase === 'main');
  assert.ok(s, `no step ${name} in ${run.steps.map((x) => x.name).join(', ')}`);
  return s;
}

/** Every step succeeded, the service is back on v1, and there was exactly one rollback. */
async function assertRolledBackOnce(stack: Stack, run: RunDetail): Promise<void> {
  assert.deepEqual(run.params, { namespace: TARGET.namespace, service: TARGET.service });
  assert.deepEqual(
    run.steps.filter((s) => s.phase === 'main').map((s) => [s.name, s.state]),
    [
      ['before', 'succeeded'],
      ['rollback', 'succeeded'],
      ['verify', 'succeeded'],
      ['tell', 'succeeded'],
    ],
  );
  const rollback = step(run, 'rollback');
  assert.deepEqual(rollback.rendered.kind === 'run' ? rollback.rendered.argv : null, [
    'deployctl',
    'rollback',
    '--namespace',
    'shop',
    '--service',
    'checkout',
    '--request-id',
    run.id,
  ]);
  assert.match(rollback.output ?? '', new RegExp(`^rolled back shop/checkout from ${BAD_VERSION} \\(revision 2\\) to ${GOOD_VERSION} \\(revision 3\\)`));
  const tell = step(run, 'tell');
  assert.ok(tell.rendered.kind === 'notify' && tell.rendered.text.includes(`after ${ALERTNAME}`), JSON.stringify(tell.rendered));

  const status = await stack.deployctl(['status', '--namespace', TARGET.namespace, '--service', TARGET.service]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^shop/checkout: revision 3, version ${GOOD_VERSION}\\n`), 'three revisions: v1, the bad v2, and one rollback to v1');
  const all = await stack.api<{ runs: unknown[] }>('GET', '/api/runs?limit=50');
  assert.equal(all.body.runs.length, 1, 'one alert instance, one run');
}

/** remediator recorded the resolve on the run, and Prometheus has no such alert any more. */
async function assertResolved(stack: Stack, run: RunDetail, result: LoopResult): Promise<void> {
  assert.ok(run.resolvedAt !== null, 'the run records the resolve');
  assert.ok(
    run.events.some((e) => e.kind === 'alert.resolved'),
    run.events.map((e) => e.kind).join(', '),
  );
  const { alerts } = await stack.prometheus<{ alerts: { labels: Record<string, string> }[] }>('/api/v1/alerts');
  assert.deepEqual(
    alerts.filter((a) => a.labels['alertname'] === ALERTNAME),
    [],
  );
  assert.ok(result.firingToResolvedMs > 0 && result.firingToResolvedMs < 60_000, `firing → resolved took ${result.firingToResolvedMs} ms`);
}

async function assertAuditIntact(stack: Stack): Promise<void> {
  const audit = await verifyAuditTrail(stack);
  assert.equal(audit.code, 0, audit.output);
  assert.match(audit.output, /^audit trail intact: \d+ events/);
}
