import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import nock from 'nock';
import { GrafanaClient, GrafanaError } from '../../src/roundtrip/grafana-client.js';
import { onlyNockedCalls } from '../support/nock.js';

// Grafana's annotations API cannot run here: nock answers as Grafana's HTTP API documents it.

const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-grafana-client-'));
const tokenFile = path.join(dir, 'token');
writeFileSync(tokenFile, '  glsa_client-token \n');
after(() => rmSync(dir, { recursive: true, force: true }));

describe('GrafanaClient', () => {
  onlyNockedCalls();
  const client = new GrafanaClient({ url: 'https://grafana.example.com/grafana/', tokenFile, timeoutMs: 1000 });

  test('creates an annotation under the base path with the trimmed token, and returns its id', async () => {
    nock('https://grafana.example.com', { reqheaders: { authorization: 'Bearer glsa_client-token', accept: 'application/json' } })
      .post('/grafana/api/annotations', { time: 1, tags: ['a'], text: 't' })
      .reply(200, { message: 'Annotation added', id: 12 });
    assert.equal(await client.createAnnotation({ time: 1, tags: ['a'], text: 't' }), 12);
  });

  test('patches an annotation by id', async () => {
    nock('https://grafana.example.com')
      .patch('/grafana/api/annotations/12', { timeEnd: 2, tags: ['a', 'succeeded'] })
      .reply(200, { message: 'Annotation patched' });
    await client.patchAnnotation(12, { timeEnd: 2, tags: ['a', 'succeeded'] });
  });

  test('errors carry the status and whether another try could succeed', async () => {
    const cases: [number, string, boolean][] = [
      [400, '{"message":"bad request data"}', false],
      [401, '{"message":"invalid API key"}', false],
      [429, 'slow down', true],
      [500, 'database is locked', true],
    ];
    for (const [status, body, retryable] of cases) {
      nock('https://grafana.example.com').post('/grafana/api/annotations').reply(status, body);
      await assert.rejects(
        client.createAnnotation({ time: 1, tags: [], text: 't' }),
        (err: unknown) => err instanceof GrafanaError && err.status === status && err.retryable === retryable && err.message.includes(`HTTP ${status}`),
        `HTTP ${status}`,
      );
    }
  });

  test('an answer without an id, or not JSON, is an error', async () => {
    nock('https://grafana.example.com').post('/grafana/api/annotations').reply(200, { message: 'Annotation added' });
    await assert.rejects(client.createAnnotation({ time: 1, tags: [], text: 't' }), /without an id/);
    nock('https://grafana.example.com').post('/grafana/api/annotations').reply(200, '<html>login</html>');
    await assert.rejects(client.createAnnotation({ time: 1, tags: [], text: 't' }), /something other than JSON/);
  });

  test('a missing token file is a configuration error naming grafana.tokenFile', () => {
    assert.throws(
      () => new GrafanaClient({ url: 'https://g.example.com', tokenFile: path.join(dir, 'missing'), timeoutMs: 1000 }),
      /grafana\.tokenFile: cannot read/,
    );
  });
});
