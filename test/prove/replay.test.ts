import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { replayCommand } from '../../src/cli/replay-command.js';
import { alertmanagerFingerprint } from '../../src/domain/fingerprint.js';
import type { Change, PlaybookComparison } from '../../src/prove/replay-compare.js';
import { runCli, spawnCli } from '../support/cli.js';
import { ROOT } from '../support/fixtures.js';
import { freshSchema, pgReachable, pgTestUrl } from '../support/postgres.js';
import { startTestDaemon, type TestDaemon } from '../support/test-daemon.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const PRINT_ARGS = path.join(ROOT, 'test', 'fixtures', 'scripts', 'print-args.mjs');
const LABEL = "'[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?'";

/** The playbooks the daemon records its history with, and the changes a replay is asked about. */
function playbooks(change: { cooldown?: string; undo?: string; severity?: string } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-replay-playbooks-'));
  dirs.push(dir);
  writeFileSync(
    path.join(dir, 'rollback.yaml'),
    `name: rollback
match: { alertname: Burst }
params:
  deployment: { from: labels.deployment, pattern: ${LABEL} }
mode: live
guards: { key: '{{ params.deployment }}', cooldown: ${change.cooldown ?? '5m'} }
steps:
  - name: undo
    run: [${process.execPath}, ${PRINT_ARGS}, rollout, undo, 'deployment/{{ params.deployment }}'${change.undo ? `, ${change.undo}` : ''}]
  - notify: { text: 'rolled back {{ params.deployment }} (run {{ run.id }})' }
`,
  );
  writeFileSync(
    path.join(dir, 'scale.yaml'),
    `name: scale
match: { alertname: Saturated, matchers: ['severity=~"${change.severity ?? 'warning|critical'}"'] }
params:
  deployment: { from: labels.deployment, pattern: ${LABEL} }
mode: live
guards: { key: '{{ params.deployment }}' }
steps:
  - run: [${process.execPath}, ${PRINT_ARGS}, scale, 'deployment/{{ params.deployment }}', --replicas=5]
`,
  );
  return dir;
}

const T0 = Date.parse('2026-03-02T10:00:00Z');
const BURST = alertmanagerFingerprint({ alertname: 'Burst', deployment: 'checkout' });
const SATURATED_CART = alertmanagerFingerprint({ alertname: 'Saturated', deployment: 'cart', severity: 'warning' });

/**
 * A daemon (real HTTP, executing live) records a history over 21 minutes of its clock: two
 * instances of a Burst ten minutes apart (two rollbacks, the cooldown of 5m passed), a re-send of
 * the second, two Saturated alerts of different severities (two scale-outs).
 */
async function recordHistory(db: string | null): Promise<TestDaemon> {
  let now = T0;
  const daemon = await startTestDaemon({
    playbooks: playbooks(),
    clock: () => new Date(now),
    config: { execution: 'live', ...(db === null ? {} : { db }), retention: { enabled: false } },
  });
  const alert = (alertname: string, labels: Record<string, string>, startsAt: number) => ({
    status: 'firing',
    labels: { alertname, ...labels },
    annotations: {},
    startsAt: new Date(startsAt).toISOString(),
    endsAt: '0001-01-01T00:00:00Z',
    fingerprint: alertmanagerFingerprint({ alertname, ...labels }),
  });
  const deliveries: [number, ReturnType<typeof alert>][] = [
    [0, alert('Burst', { deployment: 'checkout' }, T0)],
    [10, alert('Burst', { deployment: 'checkout' }, T0 + 10 * 60_000)],
    [12, alert('Burst', { deployment: 'checkout' }, T0 + 10 * 60_000)],
    [20, alert('Saturated', { deployment: 'cart', severity: 'warning' }, T0 + 20 * 60_000)],
    [21, alert('Saturated', { deployment: 'search', severity: 'critical' }, T0 + 21 * 60_000)],
  ];
  for (const [minute, a] of deliveries) {
    now = T0 + minute * 60_000;
    const res = await daemon.post({ version: '4', status: 'firing', receiver: 'remediator', groupKey: `{}:${a.fingerprint}`, alerts: [a] });
    assert.equal(res.status, 200);
    await daemon.settled();
  }
  now = T0 + 30 * 60_000;
  return daemon;
}

interface ReplayJson {
  readonly batches: number;
  readonly alerts: number;
  readonly playbooks: PlaybookComparison[];
  readonly changes: Change[];
}

/** `remediator replay` of the history above through the playbooks in `dir`, live, up to 11:00. */
function replayArgs(db: string, dir: string, extra: string[] = []): string[] {
  return ['replay', '--db', db, '--playbooks', dir, '--execution', 'live', '--until', '2026-03-02T11:00:00Z', ...extra];
}

async function replayJson(db: string, dir: string, extra: string[] = []): Promise<{ code: number | null; json: ReplayJson; stderr: string }> {
  const r = await runCli(replayArgs(db, dir, ['--json', ...extra]));
  assert.equal(r.stderr.includes('remediator replay:'), false, r.stderr);
  return { code: r.code, json: JSON.parse(r.stdout) as ReplayJson, stderr: r.stderr };
}

/** The history above, replayed unchanged and changed, against the database `db` names. */
async function replayCases(db: string): Promise<void> {
  const same = await replayJson(db, playbooks());
  assert.equal(same.code, 0, JSON.stringify(same.json, null, 2));
  assert.equal(same.json.batches, 5);
  assert.deepEqual(same.json.changes, []);
  assert.deepEqual(same.json.playbooks, [
    { playbook: 'rollback', unchanged: 2, newRuns: 0, noLonger: 0, changedDecisions: 0, changedPlans: 0 },
    { playbook: 'scale', unchanged: 2, newRuns: 0, noLonger: 0, changedDecisions: 0, changedPlans: 0 },
  ]);

  // A cooldown lengthened, a step changed, a matcher narrowed.
  const changed = await replayJson(db, playbooks({ cooldown: '30m', undo: '--to-revision=1', severity: 'critical' }));
  assert.equal(changed.code, 1);
  assert.deepEqual(changed.json.playbooks, [
    { playbook: 'rollback', unchanged: 0, newRuns: 0, noLonger: 1, changedDecisions: 0, changedPlans: 1 },
    { playbook: 'scale', unchanged: 1, newRuns: 0, noLonger: 1, changedDecisions: 0, changedPlans: 0 },
  ]);
  const byKind = (kind: string, playbook: string) => changed.json.changes.filter((c) => c.kind === kind && c.playbook === playbook);
  const [plan] = byKind('changed-plan', 'rollback');
  assert.equal(plan?.instanceKey, `${BURST}@2026-03-02T10:00:00Z`);
  assert.deepEqual(plan?.planDiff, [
    `- 1. undo (run): ${process.execPath} ${PRINT_ARGS} rollout undo deployment/checkout`,
    `+ 1. undo (run): ${process.execPath} ${PRINT_ARGS} rollout undo deployment/checkout --to-revision=1`,
    '  2. notify-2 (notify): rolled back checkout (run {{ run.id }})',
  ]);
  const [cooled] = byKind('no-longer', 'rollback');
  assert.equal(cooled?.instanceKey, `${BURST}@2026-03-02T10:10:00Z`);
  assert.deepEqual([cooled?.from?.decision, cooled?.to?.decision, cooled?.to?.reasons], ['run', 'suppress', ['cooldown']]);
  assert.match(cooled?.to?.detail ?? '', /^key "checkout" ran at 2026-03-02T10:00:00\.000Z; cooldown 30m lasts until 2026-03-02T10:30:00\.000Z/);
  const [narrowed] = byKind('no-longer', 'scale');
  assert.deepEqual([narrowed?.instanceKey, narrowed?.from?.decision, narrowed?.to], [`${SATURATED_CART}@2026-03-02T10:20:00Z`, 'run', null]);
}

describe('remediator replay on SQLite', () => {
  test('a daemon records a history; replayed unchanged: no difference, exit 0; changed: exactly the differences, exit 1 (while the daemon runs)', async () => {
    const daemon = await recordHistory(null);
    try {
      await replayCases(daemon.db);
      // The text report, as a person reads it.
      const text = await runCli(replayArgs(daemon.db, playbooks({ cooldown: '30m' })));
      assert.equal(text.code, 1, text.stderr);
      assert.match(text.stdout, /^replayed 5 batch\(es\) \(5 alert\(s\)\) received until 2026-03-02T11:00:00\.000Z$/m);
      assert.match(text.stdout, /^rollback +1 +0 +1 +0 +0$/m);
      assert.match(
        text.stdout,
        new RegExp(
          `^ {2}runs that would no longer happen \\(1\\):\\n {4}Burst ${BURST} started 2026-03-02T10:10:00Z \\(key checkout\\): run → suppress \\(cooldown\\)$`,
          'm',
        ),
      );
      assert.match(text.stdout, /^1 alert instance\(s\) of 1 playbook\(s\) would be decided differently$/m);
    } finally {
      await daemon.close();
    }
  });

  test('--since compares from a time, replaying the guard windows before it for the state they leave', async () => {
    const daemon = await recordHistory(null);
    await daemon.close();
    // From 10:05: the first rollback (10:00) is not compared, but its cooldown is rebuilt: the
    // second instance (10:10) is decided against it as it was when recorded.
    const from = await replayJson(daemon.db, playbooks({ cooldown: '30m' }), ['--since', '2026-03-02T10:05:00Z']);
    assert.equal(from.code, 1);
    assert.equal(from.json.batches, 4);
    assert.deepEqual(
      from.json.changes.map((c) => [c.kind, c.instanceKey, c.to?.reasons]),
      [['no-longer', `${BURST}@2026-03-02T10:10:00Z`, ['cooldown']]],
    );
    const unchanged = await replayJson(daemon.db, playbooks(), ['--since', '2026-03-02T10:05:00Z']);
    assert.equal(unchanged.code, 0);
  });

  test('bad input is exit 2, with what is wrong: a --since that parses to nothing, an unreadable database, broken playbooks', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-replay-'));
    dirs.push(dir);
    const since = await runCli(['replay', '--db', path.join(dir, 'x.db'), '--playbooks', playbooks(), '--since', 'last tuesday']);
    assert.equal(since.code, 2);
    assert.match(since.stderr, /^remediator replay: --since last tuesday: give a time such as 2026-11-28T21:00:00Z/m);
    const missing = await runCli(['replay', '--db', path.join(dir, 'x.db'), '--playbooks', playbooks()]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^remediator replay: no database at .*x\.db: give the daemon's --db \(or --config\)$/m);
    writeFileSync(path.join(dir, 'not.db'), 'this is not SQLite');
    const garbage = await runCli(['replay', '--db', path.join(dir, 'not.db'), '--playbooks', playbooks()]);
    assert.equal(garbage.code, 2);
    assert.match(garbage.stderr, /^remediator replay: cannot (open|read) SQLite database .*not\.db/m);
    const broken = path.join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'b.yaml'), 'name: b\nmatch: {}\nsteps: []\n');
    const bad = await runCli(['replay', '--db', path.join(dir, 'x.db'), '--playbooks', broken]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^remediator replay: the playbooks in .*broken are not valid:\n {2}b\.yaml:2:8: match: match needs an alertname/m);
    const backwards = await runCli(['replay', '--db', path.join(dir, 'x.db'), '--playbooks', playbooks(), '--since', '1h', '--until', '2h']);
    assert.equal(backwards.code, 2);
    assert.match(backwards.stderr, /--since 1h is not before --until 2h: nothing to replay/);
  });

  test("in a real process: the exit code is the process's, the database is not written", async () => {
    const daemon = await recordHistory(null);
    await daemon.close();
    const r = await spawnCli(replayArgs(daemon.db, playbooks({ severity: 'critical' })));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^scale +1 +0 +1 +0 +0$/m);
    // Read-only: the recorded history is what it was (a second replay sees the same).
    const again = await replayJson(daemon.db, playbooks());
    assert.equal(again.code, 0);
  });
});

test('a long replay says how far it is on stderr', async () => {
  const daemon = await recordHistory(null);
  await daemon.close();
  const lines: string[] = [];
  const progress = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const outcome = await replayCommand(
    { db: daemon.db, playbooks: playbooks(), execution: 'live', until: '2026-03-02T11:00:00Z' },
    { env: {}, cwd: ROOT },
    progress,
    {
      progressAfterMs: 0,
    },
  );
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.match(lines.join(''), /^replay: 5\/5 batch\(es\) of .*remediator\.db \(100%\), \d+s\n$/);
});

describe('remediator replay on PostgreSQL', async () => {
  const reachable = await pgReachable();
  test('a daemon on PostgreSQL records a history; replayed unchanged and changed, exactly', { skip: !reachable }, async () => {
    const { schema, drop } = await freshSchema();
    const db = `${pgTestUrl()}?schema=${schema}`;
    const daemon = await recordHistory(db);
    try {
      await replayCases(db);
    } finally {
      await daemon.close();
      await drop();
    }
  });
});
