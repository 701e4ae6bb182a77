import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { fixture, writePlaybooks } from '../support/fixtures.js';
import { reply, startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';

/**
 * Values that reach a URL cannot change where the request goes: an earlier step's output that
 * reads "../../../internal/admin/delete-all?confirm=yes#" is one path segment of the request sent,
 * and an alert whose fingerprint reads so never gets that far.
 */
const ATTACK = '../../../internal/admin/delete-all?confirm=yes#';

let server: TestHttpServer;
let daemon: TestDaemon;
let dir: string;

before(async () => {
  server = await startHttpServer((_req, res) => reply(res, 200, { ok: true }));
  dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-url-'));
  const playbooks = writePlaybooks(dir, {
    silence: `name: silence
match: { alertname: UrlTest }
mode: live
steps:
  - name: probe
    readOnly: true
    run: [${process.execPath}, -e, 'process.stdout.write(process.argv[1])', '${ATTACK}']
  - name: silence
    http: { method: GET, url: '${server.url}/api/alerts/{{ steps.probe.stdout }}/silence?by={{ steps.probe.stdout }}' }
`,
  });
  daemon = await startTestDaemon({ dir, playbooks, config: { execution: 'live' }, env: { PATH: process.env['PATH'] } });
});

after(async () => {
  await daemon.close();
  await server.close();
  removeDir(dir);
});

const alert = (fingerprint: string) => {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
  Object.assign(p.alerts[0] as object, { labels: { alertname: 'UrlTest' }, fingerprint });
  return p;
};

test('an earlier step output placed in a URL path and query is percent-encoded: the request goes where the playbook says', async () => {
  assert.equal((await daemon.post(alert('00000000000000a1'))).status, 200);
  await daemon.settled();
  const { runs } = await daemon.api<{ runs: Run[] }>('/api/runs');
  const run = await daemon.api<RunDetail>(`/api/runs/${runs[0]?.id ?? ''}`);
  assert.equal(run.state, 'succeeded', JSON.stringify(run.steps.map((s) => s.error)));
  const encoded = encodeURIComponent(ATTACK);
  assert.deepEqual(
    server.requests.map((r) => r.url),
    [`/api/alerts/${encoded}/silence?by=${encoded}`],
  );
});

test('a fingerprint that is not 16 hex characters is refused on receipt, saying what Alertmanager sends', async () => {
  for (const fingerprint of [ATTACK, '--output=/tmp/remediator-pwned', '7D2D332FEADA5C59', '7d2d332feada5c5']) {
    const res = await daemon.post(alert(fingerprint));
    assert.equal(res.status, 400, fingerprint);
    const body = (await res.json()) as { error: { message: string } };
    assert.match(body.error.message, /alerts\.0\.fingerprint: fingerprint ".*" is not one Alertmanager sends: expected 16 lowercase hex characters/);
  }
});
