import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { fixture, ROOT, writePlaybooks } from '../support/fixtures.js';
import { startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { removeDir, startTestDaemon, type TestDaemon } from '../support/test-daemon.js';
import { until } from '../support/until.js';

/**
 * The attack the redactor used to lose: whoever can put labels on an alert and read what the
 * daemon says about it guesses a secret piece by piece, and learns from whether the guess comes
 * back masked. Here a dry-run daemon whose playbook never uses the secret echoes a label in a
 * notification and in a read-only command's output; right and wrong guesses must read the same.
 */
const SECRET = 'Zq8-kP2vLm9xRt4yWb7nHc3jFd6gSa1eUo5iQw0-Tz'; // 42 characters, like the one rebuilt
const SCRIPTS = path.join(ROOT, 'test', 'fixtures', 'scripts');

let notified: TestHttpServer;
let daemon: TestDaemon;
let dir: string;
let n = 0;

before(async () => {
  notified = await startHttpServer();
  dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-oracle-'));
  const playbooks = writePlaybooks(dir, {
    echo: `name: echo
match: { alertname: OracleProbe }
mode: live
params:
  guess: { from: labels.guess, pattern: '[A-Za-z0-9-]{0,64}' }
steps:
  - name: look
    readOnly: true
    run: [${process.execPath}, ${SCRIPTS}/print-args.mjs, 'probe {{ params.guess }} end']
  - name: tell
    notify: { text: 'probe {{ labels.guess }} end' }
`,
  });
  daemon = await startTestDaemon({
    dir,
    playbooks,
    config: { execution: 'dry-run' },
    env: { PATH: process.env['PATH'], REMEDIATOR_SECRET_DB_PASSWORD: SECRET },
    notifyWebhookUrl: `${notified.url}/notify`,
  });
});

after(async () => {
  await daemon.close();
  await notified.close();
  removeDir(dir);
});

/** Sends an alert whose label is the guess; returns what the notification said and what the command's output was stored as. */
async function probe(guess: string): Promise<{ text: string; output: string }> {
  const payload = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
  const alert = payload.alerts[0] as Record<string, unknown>;
  alert['labels'] = { alertname: 'OracleProbe', guess };
  alert['fingerprint'] = (n++).toString(16).padStart(16, '0');
  const before = notified.requests.length;
  assert.equal((await daemon.post(payload)).status, 200);
  await daemon.settled();
  const request = await until('the notification', () => notified.requests.slice(before).find((r) => r.body.includes('probe')));
  const { runs } = await daemon.api<{ runs: Run[] }>('/api/runs?limit=1');
  const run = await daemon.api<RunDetail>(`/api/runs/${runs[0]?.id ?? ''}`);
  return { text: (JSON.parse(request.body) as { text: string }).text, output: run.steps.find((s) => s.name === 'look')?.output ?? '' };
}

describe('redaction is no oracle: a guessed prefix of a secret reads the same as a wrong one', { timeout: 60_000 }, () => {
  for (const k of [4, 8, 12, 20, 41]) {
    test(`a ${k}-character guess`, async () => {
      const right = SECRET.slice(0, k);
      const wrong = `${SECRET.slice(0, k - 1)}${SECRET[k - 1] === 'A' ? 'B' : 'A'}`;
      const r = await probe(right);
      const w = await probe(wrong);
      assert.equal(r.text, `[dry run] probe ${right} end`);
      assert.equal(w.text, `[dry run] probe ${wrong} end`);
      assert.equal(r.output, `${JSON.stringify([`probe ${right} end`])}\n`);
      assert.equal(w.output, `${JSON.stringify([`probe ${wrong} end`])}\n`);
    });
  }

  test('only the whole value is masked (there is nothing left to learn from that)', async () => {
    const r = await probe(SECRET);
    assert.equal(r.text, '[dry run] probe *** end');
    assert.ok(!r.output.includes(SECRET), r.output);
  });
});
