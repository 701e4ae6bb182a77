import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import type { DecideSettings } from '../../src/domain/decision.js';
import type { Playbook } from '../../src/domain/playbook.js';
import type { Run } from '../../src/domain/run.js';
import { compileWindows } from '../../src/decide/maintenance.js';
import { WebhookNotifier } from '../../src/notify/webhook-notifier.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { GuardSwitches } from '../../src/guards/guard-switches.js';
import { PlaybookSet } from '../../src/playbook/playbook-set.js';
import { processBatch } from '../../src/pipeline/process-batch.js';
import { parsePlaybook } from '../../src/playbook/loader.js';
import { SqliteStore } from '../../src/record/sqlite/sqlite-store.js';
import { reply, startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { removeDir } from '../support/test-daemon.js';
import { until } from '../support/until.js';

function playbook(yaml: string): Playbook {
  const { playbook: p, errors } = parsePlaybook(yaml, 'test.yaml');
  assert.deepEqual(errors, []);
  assert.ok(p);
  return p;
}

const rollback = (mode = 'live') =>
  playbook(`name: rollback
match: { alertname: Burst }
params:
  namespace: { from: labels.namespace, pattern: '[a-z]+' }
  deployment: { from: labels.deployment, pattern: '[a-z]+' }
mode: ${mode}
guards:
  key: '{{ params.namespace }}/{{ params.deployment }}'
  lock: '{{ params.namespace }}/{{ params.deployment }}'
steps:
  - run: [kubectl, rollout, undo, 'deployment/{{ params.deployment }}', -n, '{{ params.namespace }}']
`);

const scaleOut = playbook(`name: scale-out
match: { alertname: Burst }
params:
  namespace: { from: labels.namespace, pattern: '[a-z]+' }
  deployment: { from: labels.deployment, pattern: '[a-z]+' }
mode: live
guards:
  lock: '{{ labels.namespace }}/{{ labels.deployment }}'
steps:
  - run: [kubectl, scale, 'deployment/{{ params.deployment }}', -n, '{{ params.namespace }}', --replicas=5]
`);

let sequence = 0;
/** A stored batch with one firing Burst alert for a deployment. */
function batch(deployment: string, labels: Record<string, string> = {}) {
  sequence++;
  return {
    id: `b_${sequence}`,
    receivedAt: new Date(),
    payload: {
      version: '4',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'Burst', namespace: 'shop', deployment, ...labels },
          startsAt: '2024-05-01T11:55:00Z',
          fingerprint: `f${String(sequence).padStart(15, '0')}`,
        },
      ],
    },
  };
}

interface Harness {
  readonly store: SqliteStore;
  readonly metrics: Metrics;
  readonly created: Run[];
  readonly switches: GuardSwitches;
  readonly logs: Record<string, unknown>[];
  process(b: ReturnType<typeof batch>): Promise<void>;
  decisions(): Promise<Record<string, unknown>[]>;
}

/** The pipeline over a real SQLite file; created runs are kept (not executed), so they stay active. */
function harness(dir: string, playbooks: Playbook[], settings: Partial<DecideSettings>, notifyUrl?: string): Harness {
  const store = SqliteStore.open(path.join(dir, `r${++sequence}.db`));
  const metrics = createMetrics(new Registry());
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk: Buffer, _e, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );
  const full: DecideSettings = { execution: 'live', budget: null, maintenance: [], ...settings };
  const clock = () => new Date();
  const switches = new GuardSwitches({
    store,
    clock,
    logger,
    metrics,
    budget: full.budget,
    notifiers: notifyUrl ? [new WebhookNotifier(notifyUrl, { attempts: 1 })] : [],
  });
  const created: Run[] = [];
  const set = new PlaybookSet(playbooks, new Date());
  return {
    store,
    metrics,
    created,
    switches,
    logs,
    async process(b) {
      // Stored first, as the webhook does: runs refer to their batch.
      const id = await store.saveBatch({
        receivedAt: b.receivedAt,
        receiver: 'remediator',
        status: 'firing',
        groupKey: '{}',
        alertCount: 1,
        payload: b.payload,
        source: {},
      });
      await processBatch(
        { ...b, id },
        { store, playbooks: set, settings: full, clock, logger, metrics, onRunCreated: (run) => void created.push(run), switches },
      );
    },
    decisions: async () => (await store.listEvents({ limit: 1000 })).filter((e) => e.kind === 'decision').map((e) => ({ playbook: e.playbook, ...e.data })),
  };
}

describe('pipeline guards', () => {
  let dir: string;
  let hook: TestHttpServer;
  let hookUrl: string;
  /** The notifications the webhook notifier posted, parsed. */
  const received = () => hook.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-pipeline-'));
    hook = await startHttpServer((_req, res) => reply(res, 204));
    hookUrl = `${hook.url}/hook`;
  });
  after(async () => {
    await hook.close();
    removeDir(dir);
  });

  test('the live run that would exceed the budget opens the circuit once, tells people, and it and every live run after wait for approval', async () => {
    const h = harness(dir, [rollback()], { budget: { count: 2, perMs: 3_600_000 } }, hookUrl);
    for (const d of ['api', 'web', 'cart', 'auth']) await h.process(batch(d));
    assert.deepEqual(
      h.created.map((r) => [r.targetKey, r.dryRun, r.needsApproval]),
      [
        ['shop/api', false, false],
        ['shop/web', false, false],
        ['shop/cart', false, true],
        ['shop/auth', false, true],
      ],
    );
    const decisions = await h.decisions();
    assert.deepEqual(
      decisions.map((d) => [d['targetKey'], d['action'], d['needsApproval'] ?? false]),
      [
        ['shop/api', 'run', false],
        ['shop/web', 'run', false],
        ['shop/cart', 'run', true],
        ['shop/auth', 'run', true],
      ],
    );
    assert.equal(decisions[2]?.['reason'], 'budget of 2 live run(s) per 1h spent: circuit opened, a person must approve this run');
    assert.match(
      String(decisions[3]?.['reason']),
      /^the circuit is open since .* \(budget of 2 live run\(s\) per 1h spent; rollback for Burst f\d{15} would have exceeded it\): a person must approve this run$/,
    );
    const events = await h.store.listEvents({ limit: 1000 });
    assert.equal(events.filter((e) => e.kind === 'circuit.opened').length, 1, 'opened once');
    const state = await h.store.globalState({ budgetSince: null });
    assert.equal(state.circuit?.closedAt, null);
    assert.equal(state.circuit?.openedBy, 'remediator');

    const note = await until('the circuit.opened notification', () => received().find((n) => n['kind'] === 'circuit.opened'));
    assert.match(String(note['text']), /^Circuit opened: budget of 2 live run\(s\) per 1h spent; .*remediator circuit close/);
    await h.switches.idle();
    assert.equal((await h.store.listEvents({ limit: 1000 })).filter((e) => e.kind === 'notification.sent').length, 1);
    assert.match(await h.metrics.registry.metrics(), /remediator_circuit_open 1/);

    // A person closes it: a fresh budget, so the next live runs go ahead unattended until it is spent again.
    assert.ok(await h.switches.closeCircuit({ by: 'alice', via: 'cli', note: 'checked' }));
    assert.match(await h.metrics.registry.metrics(), /remediator_circuit_open 0/);
    for (const d of ['one', 'two', 'three']) await h.process(batch(d));
    assert.deepEqual(
      h.created.slice(4).map((r) => [r.targetKey, r.needsApproval]),
      [
        ['shop/one', false],
        ['shop/two', false],
        ['shop/three', true],
      ],
    );
    assert.equal((await h.store.listEvents({ limit: 1000 })).filter((e) => e.kind === 'circuit.opened').length, 2);
    await h.switches.idle();
    await h.store.close();
  });

  test('dry runs do not spend the budget', async () => {
    const h = harness(dir, [rollback('dry-run')], { budget: { count: 1, perMs: 3_600_000 } });
    for (const d of ['api', 'web', 'cart']) await h.process(batch(d));
    assert.deepEqual(
      h.created.map((r) => r.dryRun),
      [true, true, true],
    );
    assert.equal((await h.store.globalState({ budgetSince: null })).circuit, null);
    await h.store.close();
  });

  test('a lock across playbooks: the second playbook for the same deployment is suppressed, naming the run that holds it', async () => {
    const h = harness(dir, [rollback(), scaleOut], {});
    await h.process(batch('api'));
    assert.deepEqual(
      h.created.map((r) => [r.playbook, r.lockKey]),
      [['rollback', 'shop/api']],
    );
    const holder = h.created[0];
    assert.ok(holder);
    const decisions = await h.decisions();
    assert.deepEqual(
      decisions.map((d) => [d['playbook'], d['action'], d['reason'], d['lockKey']]),
      [
        ['rollback', 'run', 'playbook mode is live', 'shop/api'],
        ['scale-out', 'suppress', 'locked', 'shop/api'],
      ],
    );
    assert.equal(decisions[1]?.['detail'], `lock "shop/api" is held by run ${holder.id} of rollback, still pending`);
    assert.match(await h.metrics.registry.metrics(), /remediator_runs_suppressed_total\{playbook="scale-out",reason="locked"\} 1/);

    // Another deployment is another lock; the first one's lock ends with its run.
    await h.process(batch('web'));
    assert.deepEqual(
      h.created.map((r) => r.lockKey),
      ['shop/api', 'shop/web'],
    );
    assert.ok(await h.store.transitionRun(holder.id, { from: ['pending'], to: 'cancelled', at: new Date().toISOString() }));
    await h.process(batch('api'));
    assert.deepEqual(
      h.created.slice(2).map((r) => [r.playbook, r.lockKey]),
      [['rollback', 'shop/api']],
      'the lock is free again; rollback takes it first',
    );
    await h.store.close();
  });

  test('two batches decided at once for one deployment: one run; the others duplicate or locked, naming the holder', async () => {
    const h = harness(dir, [rollback(), scaleOut], {});
    // Both batches are in flight together, so their reads and writes interleave.
    await Promise.all([h.process(batch('api')), h.process(batch('api'))]);
    assert.equal(h.created.length, 1);
    const holder = h.created[0];
    assert.ok(holder);
    const suppressed = (await h.decisions()).filter((d) => d['action'] === 'suppress');
    assert.equal(suppressed.length, 3);
    for (const d of suppressed) {
      if (d['reason'] === 'locked') assert.equal(d['detail'], `lock "shop/api" is held by run ${holder.id} of ${holder.playbook}, still pending`);
      else assert.deepEqual([d['reason'], d['detail']], ['duplicate', `run ${holder.id} for key "shop/api" is still pending`]);
    }
    assert.ok(suppressed.some((d) => d['reason'] === 'locked'));
    await h.store.close();
  });

  test('two playbooks decided at once for one deployment: the database lock picks one, the other is "locked" naming it', async () => {
    const onSaturation = playbook(
      `name: scale-on-saturation\nmatch: { alertname: Saturation }\nmode: live\nguards:\n  lock: '{{ labels.namespace }}/{{ labels.deployment }}'\nsteps:\n  - run: [kubectl, scale]\n`,
    );
    const h = harness(dir, [rollback(), onSaturation], {});
    // Both read "the lock is free" before either writes; the unique index settles it.
    await Promise.all([h.process(batch('api')), h.process(batch('api', { alertname: 'Saturation' }))]);
    assert.equal(h.created.length, 1);
    const holder = h.created[0];
    assert.ok(holder);
    const suppressed = (await h.decisions()).filter((d) => d['action'] === 'suppress');
    assert.deepEqual(
      suppressed.map((d) => [d['reason'], d['detail']]),
      [['locked', `lock "shop/api" is held by run ${holder.id} of ${holder.playbook}, still pending`]],
    );
    await h.store.close();
  });

  test('paused: every would-be run is suppressed until the pause ends or a person resumes', async () => {
    const h = harness(dir, [rollback('dry-run')], {}, hookUrl);
    await h.switches.pause({ by: 'alice', forMs: 3_600_000, reason: 'cluster upgrade', via: 'api' });
    await h.process(batch('api'));
    assert.equal(h.created.length, 0);
    const [d] = await h.decisions();
    assert.equal(d?.['reason'], 'paused');
    assert.match(String(d?.['detail']), /^paused by alice at .* until .*: cluster upgrade$/);
    assert.ok(await h.switches.resume({ by: 'bob', via: 'cli' }));
    await h.process(batch('api'));
    assert.equal(h.created.length, 1);
    await until('the paused and resumed notifications', () => received().some((n) => n['kind'] === 'resumed'));
    assert.match(String(received().find((n) => n['kind'] === 'paused')?.['text']), /^Remediation paused by alice until .*: cluster upgrade$/);
    await h.switches.idle();
    await h.store.close();
  });

  test('a maintenance window in force suppresses or forces dry runs, for the alerts its matchers select', async () => {
    const always = (action: 'suppress' | 'dry-run', matchers: string[]) =>
      compileWindows([{ name: `all-${action}`, cron: '* * * * *', duration: 60_000, action, matchers }]);
    const h = harness(dir, [rollback()], { maintenance: [...always('suppress', ['deployment="api"']), ...always('dry-run', ['deployment="web"'])] });
    for (const d of ['api', 'web', 'cart']) await h.process(batch(d));
    assert.deepEqual(
      h.created.map((r) => [r.targetKey, r.dryRun]),
      [
        ['shop/web', true],
        ['shop/cart', false],
      ],
    );
    const decisions = await h.decisions();
    assert.deepEqual(decisions.map((d) => [d['targetKey'], d['reason']]).slice(0, 1), [['shop/api', 'maintenance']]);
    assert.match(String(decisions[1]?.['reason']), /^maintenance window "all-dry-run" \(\* \* \* \* \*\) forces dry-run until /);
    await h.store.close();
  });
});

describe('re-deliveries', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-redelivery-'));
  });
  after(() => removeDir(dir));

  test("an HA peer's copy of a decided batch is a re-delivery found in one read, without reading any guard state", async () => {
    const h = harness(dir, [rollback(), scaleOut], {});
    const first = batch('api');
    await h.process(first);
    assert.equal(h.created.length, 1, 'the rollback ran; the scale-out waited for the lock');
    let guardReads = 0;
    const guardState = h.store.guardState.bind(h.store);
    h.store.guardState = (q) => {
      guardReads++;
      return guardState(q);
    };
    await h.process({ ...first, id: 'b_copy' });
    assert.equal(h.created.length, 1, 'no new run');
    const decisions = await h.decisions();
    const again = decisions.slice(2);
    assert.deepEqual(
      again.map((d) => [d.playbook, d['reason'], d['redelivery'] ?? false]),
      [
        ['rollback', 'duplicate', true],
        ['scale-out', 'locked', false],
      ],
      'the rollback is a re-delivery; the scale-out (no run) is decided again',
    );
    assert.equal(guardReads, 1, 'only the pair without a run read its guards');
  });
});
