import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, describe, test } from 'node:test';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { countRows } from '../support/db.js';
import { fixture, fixtureText } from '../support/fixtures.js';
import { removeDir, startTestDaemon, WEBHOOK_TOKEN, WEBHOOK_TOKEN_NEXT, type TestDaemon } from '../support/test-daemon.js';

let daemon: TestDaemon | undefined;
afterEach(async () => {
  if (daemon) {
    await daemon.close();
    removeDir(daemon.dir);
    daemon = undefined;
  }
});

/** A captured payload with an unknown field nested `depth` deep (written as text: JSON.stringify itself overflows). */
function deepBody(depth: number): string {
  return fixtureText('amtool-firing.json').replace('{', `{"extra": ${'['.repeat(depth)}${']'.repeat(depth)},`);
}

async function runs(d: TestDaemon, query = ''): Promise<Run[]> {
  return (await d.api<{ runs: Run[] }>(`/api/runs${query}`)).runs;
}

describe('POST /webhook with the captured Alertmanager payloads', () => {
  const cases: { file: string; expect: { playbook: string; alertname: string; fingerprint: string }[] }[] = [
    { file: 'amtool-firing.json', expect: [{ playbook: 'high-error-rate', alertname: 'HighErrorRate', fingerprint: '7d2d332feada5c59' }] },
    { file: 'amtool-resolved.json', expect: [{ playbook: 'post-incident-note', alertname: 'HighErrorRate', fingerprint: '7d2d332feada5c59' }] },
    { file: 'prometheus-firing.json', expect: [{ playbook: 'restart-pod', alertname: 'AlwaysFiring', fingerprint: 'b5b2c2a31cd90df8' }] },
    { file: 'prometheus-firing-external-url.json', expect: [{ playbook: 'restart-pod', alertname: 'AlwaysFiringFast', fingerprint: '5e972b50d8bfedd6' }] },
    { file: 'prometheus-resolved.json', expect: [] },
    { file: 'api-v2-firing-no-generator-url.json', expect: [{ playbook: 'disk-full', alertname: 'DiskFull', fingerprint: '0a74ac22130028d9' }] },
  ];
  for (const c of cases) {
    test(`${c.file} is stored and produces ${c.expect.length} run(s)`, async () => {
      daemon = await startTestDaemon();
      const res = await daemon.post(fixtureText(c.file));
      assert.equal(res.status, 200);
      const body = (await res.json()) as { status: string; batch: string };
      assert.equal(body.status, 'stored');
      await daemon.settled();
      const got = await runs(daemon);
      assert.deepEqual(
        got.map((r) => ({ playbook: r.playbook, alertname: r.alertname, fingerprint: r.fingerprint })),
        c.expect,
      );
      for (const r of got) {
        assert.equal(r.state, 'succeeded');
        assert.equal(r.dryRun, true);
        assert.equal(r.batchId, body.batch);
      }
    });
  }

  test('a run carries its rendered plan, steps and events', async () => {
    daemon = await startTestDaemon();
    await daemon.post(fixtureText('amtool-firing.json'));
    await daemon.settled();
    const [run] = await runs(daemon);
    assert.ok(run);
    const detail = await daemon.api<RunDetail>(`/api/runs/${run.id}`);
    assert.deepEqual(detail.params, { service: 'checkout' });
    assert.equal(detail.startsAt, '2026-11-28T21:12:23.687341347Z');
    assert.deepEqual(
      detail.steps.map((s) => [s.name, s.state, s.rendered]),
      [
        [
          'undo',
          'succeeded',
          {
            kind: 'run',
            argv: ['kubectl', 'rollout', 'undo', 'deployment/checkout'],
            dryRunArgv: ['node', '-e', 'process.stdout.write(process.argv.slice(1).join(" "))', 'rollout', 'undo', 'deployment/checkout', '--dry-run=server'],
            env: {},
            cwd: null,
          },
        ],
        ['notify-2', 'succeeded', { kind: 'notify', text: 'Error rate above 5% on checkout', channel: null }],
      ],
    );
    assert.deepEqual(
      detail.events.map((e) => e.kind),
      // The last notification.sent: the dry run's end, told like a live run's.
      [
        'decision',
        'run.created',
        'run.state',
        'step.started',
        'step.process',
        'step.finished',
        'step.started',
        'notification.sent',
        'step.finished',
        'run.state',
        'notification.sent',
      ],
    );
    assert.equal(detail.events[0]?.data['action'], 'run');
    const logged = daemon.logs.filter((l) => l['runId'] === run.id).map((l) => String(l['message']));
    assert.ok(
      logged.some((m) => m.includes('rollout undo deployment/checkout --dry-run=server')),
      `the log shows the rendered dry-run command; got:\n${logged.join('\n')}`,
    );
  });

  test('the same payload posted 5 times, in sequence and at once, makes one run per playbook', async () => {
    daemon = await startTestDaemon();
    for (let i = 0; i < 5; i++) assert.equal((await daemon.post(fixtureText('amtool-firing.json'))).status, 200);
    const d = daemon;
    const parallel = await Promise.all(Array.from({ length: 5 }, () => d.post(fixtureText('prometheus-firing.json'))));
    assert.deepEqual(
      parallel.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    await daemon.settled();
    const got = await runs(daemon);
    assert.deepEqual(got.map((r) => r.playbook).sort(), ['high-error-rate', 'restart-pod']);
    assert.equal(countRows(daemon.db, 'batches'), 10, 'every delivery is stored');
    const duplicates = countRows(daemon.db, 'events', `kind = 'decision' AND json_extract(data, '$.reason') = 'duplicate'`);
    assert.equal(duplicates, 8, 'each re-delivery is recorded, for the audit');
    const redeliveries = countRows(daemon.db, 'events', `kind = 'decision' AND json_extract(data, '$.redelivery') = 1`);
    assert.equal(redeliveries, 8, '...marked as a re-delivery of a decided instance, naming its run');
    // Not suppressions: neither the log nor the metric nor the report counts them as such.
    assert.deepEqual(
      daemon.logs.filter((l) => /suppressed .*duplicate/.test(String(l['message']))),
      [],
    );
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    assert.match(metrics, /^remediator_alerts_redelivered_total\{playbook="restart-pod"\} 4$/m);
    assert.doesNotMatch(metrics, /^remediator_runs_suppressed_total\{[^}]*reason="duplicate"\}/m);
  });

  test('a resolve is recorded on the runs of its alert instance and starts no run for firing playbooks', async () => {
    daemon = await startTestDaemon();
    await daemon.post(fixtureText('prometheus-firing-external-url.json'));
    await daemon.settled();
    await daemon.post(fixtureText('prometheus-resolved.json'));
    await daemon.settled();
    const got = await runs(daemon);
    assert.equal(got.length, 1);
    const detail = await daemon.api<RunDetail>(`/api/runs/${got[0]?.id}`);
    assert.ok(detail.resolvedAt, 'resolvedAt is set');
    assert.ok(detail.events.some((e) => e.kind === 'alert.resolved'));
    assert.equal(countRows(daemon.db, 'events', `kind = 'decision' AND json_extract(data, '$.reason') = 'resolved'`), 1, 'the resolve is a recorded decision');
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    assert.match(metrics, /remediator_runs_suppressed_total\{playbook="restart-pod",reason="resolved"\} 1/);
  });

  test('a param that fails its pattern stops the run before any step, with the reason', async () => {
    daemon = await startTestDaemon();
    const payload = fixture('amtool-firing.json');
    const alerts = payload['alerts'] as { labels: Record<string, string>; fingerprint: string }[];
    alerts[0]!.labels['service'] = 'checkout; rm -rf /';
    alerts[0]!.fingerprint = 'aaaaaaaaaaaaaaaa';
    await daemon.post(payload);
    await daemon.settled();
    const [run] = await runs(daemon);
    assert.equal(run?.state, 'failed');
    assert.match(run?.reason ?? '', /param service: label service is "checkout; rm -rf \/", which does not match/);
    const detail = await daemon.api<RunDetail>(`/api/runs/${run?.id}`);
    assert.deepEqual(detail.steps, [], 'no step was even planned');
  });
});

describe('POST /webhook refuses bad requests and stores nothing', () => {
  const amtool = fixtureText('amtool-firing.json');
  const labelAt = Buffer.byteLength(amtool.slice(0, amtool.indexOf('"checkout"') + 1));
  const bad: { name: string; body: string | Buffer; headers?: Record<string, string>; status: number; message: RegExp }[] = [
    { name: 'no credentials', body: fixtureText('amtool-firing.json'), headers: { authorization: '' }, status: 401, message: /missing or wrong credentials/ },
    { name: 'a wrong token', body: fixtureText('amtool-firing.json'), headers: { authorization: 'Bearer not-the-token' }, status: 401, message: /credentials/ },
    {
      name: 'a token with a different scheme',
      body: fixtureText('amtool-firing.json'),
      headers: { authorization: `Token ${WEBHOOK_TOKEN}` },
      status: 401,
      message: /credentials/,
    },
    {
      name: 'a prefix of the token',
      body: fixtureText('amtool-firing.json'),
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN.slice(0, -1)}` },
      status: 401,
      message: /credentials/,
    },
    {
      name: 'wrong basic auth',
      body: fixtureText('amtool-firing.json'),
      headers: { authorization: `Basic ${Buffer.from('am:nope').toString('base64')}` },
      status: 401,
      message: /credentials/,
    },
    {
      name: 'a form content type',
      body: fixtureText('amtool-firing.json'),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      status: 415,
      message: /content type must be application\/json/,
    },
    { name: 'text/plain', body: fixtureText('amtool-firing.json'), headers: { 'content-type': 'text/plain' }, status: 415, message: /application\/json/ },
    { name: 'invalid JSON', body: '{"version": "4", ', status: 400, message: /body is not JSON/ },
    { name: 'a JSON array', body: '[]', status: 400, message: /not an Alertmanager webhook payload/ },
    {
      name: 'another payload version',
      body: fixtureText('amtool-firing.json').replace('"version": "4"', '"version": "3"'),
      status: 400,
      message: /version "4"/,
    },
    {
      name: 'an alert without fingerprint',
      body: fixtureText('amtool-firing.json').replace('"fingerprint": "7d2d332feada5c59"', '"fingerprint": ""'),
      status: 400,
      message: /alerts\.0\.fingerprint/,
    },
    {
      name: 'a bad timestamp',
      body: fixtureText('amtool-firing.json').replace('2026-11-28T21:12:23.687341347Z', 'yesterday'),
      status: 400,
      message: /alerts\.0\.startsAt: "yesterday" is not an RFC 3339 timestamp/,
    },
    {
      // It used to parse, then overflow JSON.stringify in the store: a 503 that Alertmanager retries forever.
      name: 'an unknown field nested 5,000 deep',
      body: deepBody(5000),
      status: 400,
      message: /body nests deeper than 32 levels \(at byte offset \d+\): an Alertmanager webhook payload nests 4/,
    },
    {
      // It used to be stored lossily as "a\ufffdb", with a 200.
      name: 'invalid UTF-8 in a label (61 ff fe 62)',
      body: Buffer.concat([
        Buffer.from(amtool.slice(0, amtool.indexOf('"checkout"') + 1)),
        Buffer.from([0x61, 0xff, 0xfe, 0x62]),
        Buffer.from(amtool.slice(amtool.indexOf('"checkout"') + 9)),
      ]),
      status: 400,
      message: new RegExp(`body is not valid UTF-8: byte offset ${labelAt + 1} \\(bytes ff fe 62`),
    },
    {
      name: 'a body over the size limit',
      body: JSON.stringify({ ...fixture('amtool-firing.json'), padding: 'x'.repeat(70_000) }),
      status: 413,
      message: /larger than the limit of 65536 bytes/,
    },
  ];
  for (const c of bad) {
    test(`${c.name} → ${c.status}`, async () => {
      daemon = await startTestDaemon({ config: { webhook: { maxBodyBytes: 65536 } } });
      const res = await daemon.post(c.body, c.headers);
      assert.equal(res.status, c.status);
      const body = (await res.json()) as { error: { message: string } };
      assert.match(body.error.message, c.message);
      await daemon.settled();
      assert.equal(countRows(daemon.db, 'batches'), 0);
      assert.equal(countRows(daemon.db, 'runs'), 0);
    });
  }

  test('every configured secret is accepted, so tokens can be rotated', async () => {
    daemon = await startTestDaemon();
    assert.equal((await daemon.post(fixtureText('amtool-firing.json'), { authorization: `Bearer ${WEBHOOK_TOKEN_NEXT}` })).status, 200);
    assert.equal((await daemon.post(fixtureText('amtool-firing.json'), { authorization: `bearer ${WEBHOOK_TOKEN}` })).status, 200);
    const basic = `Basic ${Buffer.from('am:basic-password-for-tests').toString('base64')}`;
    assert.equal((await daemon.post(fixtureText('amtool-firing.json'), { authorization: basic })).status, 200);
    assert.equal(countRows(daemon.db, 'batches'), 3);
  });

  test('refused credentials are counted and recorded without the header', async () => {
    daemon = await startTestDaemon();
    await daemon.post(fixtureText('amtool-firing.json'), { authorization: 'Bearer a-guess-that-must-not-be-stored' });
    await daemon.settled();
    assert.equal(countRows(daemon.db, 'events', `kind = 'auth.failed'`), 1);
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    assert.match(metrics, /remediator_auth_failures_total\{endpoint="webhook"\} 1/);
    assert.ok(!readFileSync(daemon.db).includes('a-guess-that-must-not-be-stored'));
    assert.ok(!JSON.stringify(daemon.logs).includes('a-guess-that-must-not-be-stored'));
  });

  test('a stranger cannot grow the audit trail: 50 refusals make one record, and all 50 are counted', async () => {
    daemon = await startTestDaemon();
    const d = daemon;
    await Promise.all(Array.from({ length: 50 }, () => d.post(fixtureText('amtool-firing.json'), { authorization: 'Bearer a-guess-0000000000' })));
    assert.equal(countRows(daemon.db, 'events', `kind = 'auth.failed'`), 1);
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    assert.match(metrics, /remediator_auth_failures_total\{endpoint="webhook"\} 50/);
  });

  test('the Authorization header is never stored or logged', async () => {
    daemon = await startTestDaemon();
    await daemon.post(fixtureText('amtool-firing.json'));
    await daemon.settled();
    await daemon.close();
    const d = daemon;
    daemon = undefined;
    for (const file of [d.db, `${d.db}-wal`]) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch {
        continue;
      }
      assert.ok(!bytes.includes(WEBHOOK_TOKEN), `${file} holds no token`);
    }
    assert.ok(!JSON.stringify(d.logs).includes(WEBHOOK_TOKEN), 'the log holds no token');
    removeDir(d.dir);
  });

  test('a deeply nested body posted among valid ones fails alone: each valid neighbour is stored', async () => {
    daemon = await startTestDaemon();
    const deep = deepBody(5000);
    const valid = (i: number) => {
      const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
      (p.alerts[0] as Record<string, unknown>)['fingerprint'] = `${i.toString(16).padStart(16, '0')}`;
      return p;
    };
    const answers = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => daemon!.post(valid(i))),
      daemon.post(deep),
      ...Array.from({ length: 20 }, (_, i) => daemon!.post(valid(100 + i))),
    ]);
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses[20], 400);
    assert.deepEqual(
      statuses.filter((_, i) => i !== 20),
      Array.from({ length: 40 }, () => 200),
    );
    await daemon.settled();
    assert.equal(countRows(daemon.db, 'batches'), 40);
  });

  test('a store that cannot write answers 503, so Alertmanager retries', async () => {
    daemon = await startTestDaemon();
    await daemon.store.close();
    const res = await daemon.post(fixtureText('amtool-firing.json'));
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '5');
    const body = (await res.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'store_unavailable');
  });
});

describe('state survives a restart on the same SQLite file', () => {
  test('runs stored before a restart are still there, and a re-delivery after it is still a duplicate', async () => {
    daemon = await startTestDaemon();
    await daemon.post(fixtureText('amtool-firing.json'));
    await daemon.settled();
    const before = await runs(daemon);
    const dir = daemon.dir;
    await daemon.close();
    daemon = await startTestDaemon({ dir });
    assert.deepEqual(await runs(daemon), before);
    await daemon.post(fixtureText('amtool-firing.json'));
    await daemon.settled();
    assert.equal((await runs(daemon)).length, 1);
  });
});
