// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import nock from 'nock';
import { SlackApiError, SlackClient } from '../../../src/notify/slack/slack-client.js';
import { onlyNockedCalls } from '../../support/nock.js';

const TOKEN = 'xoxb-123456789012-abcdefSECRETtoken';
const WEBHOOK = 'https://hooks.example.test/services/T000/B000/webhookSECRETpath';
const RESPONSE_URL = 'https://hooks.example.test/actions/T000/111/responseSECRETpath';
const API = 'https://slack.example.test';

/** A client with the sleeps it asked for recorded instead of waited. */
function client(over: { botToken?: string; webhookUrl?: string; attempts?: number } = { botToken: TOKEN }) {
  const sleeps: number[] = [];
  const c = new SlackClient({ apiUrl: `${API}/api`, ...over, sleep: (ms) => (sleeps.push(ms), Promise.resolve()) });
  return { c, sleeps };
}

const message = { text: 'hello', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hello' } }] };

/** Asserts `promise` rejects with a SlackApiError and returns it. */
async function slackError(promise: Promise<unknown>): Promise<SlackApiError> {
  let caught: unknown;
  await assert.rejects(
    promise.catch((err: unknown) => {
      caught = err;
      throw err;
    }),
    SlackApiError,
  );
  return caught as SlackApiError;
}

describe('SlackClient', () => {
  onlyNockedCalls();

  test('chat.postMessage with the bot token: JSON, bearer, and where the message landed', async () => {
    let sent: Record<string, unknown> = {};
    nock(API, { reqheaders: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json; charset=utf-8' } })
      .post('/api/chat.postMessage', (body: Record<string, unknown>) => ((sent = body), true))
      .reply(200, { ok: true, channel: 'C0123', ts: '1714557600.000100' });
    const { c } = client();
    assert.deepEqual(await c.postMessage({ channel: '#ops', threadTs: '1.2', ...message }), { channel: 'C0123', ts: '1714557600.000100' });
    assert.deepEqual(sent, { channel: '#ops', thread_ts: '1.2', text: 'hello', blocks: message.blocks, unfurl_links: false, unfurl_media: false });
  });

  test('chat.update sends channel and ts', async () => {
    let sent: Record<string, unknown> = {};
    nock(API, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
      .post('/api/chat.update', (body: Record<string, unknown>) => ((sent = body), true))
      .reply(200, { ok: true, channel: 'C0123', ts: '1.1' });
    await client().c.updateMessage({ channel: 'C0123', ts: '1.1', ...message });
    assert.deepEqual(sent, { channel: 'C0123', ts: '1.1', text: 'hello', blocks: message.blocks });
  });

  test('429 waits as long as Retry-After says, then succeeds', async () => {
    nock(API).post('/api/chat.postMessage').reply(429, { ok: false, error: 'ratelimited' }, { 'Retry-After': '3' });
    nock(API).post('/api/chat.postMessage').reply(200, { ok: true, channel: 'C1', ts: '1.1' });
    const { c, sleeps } = client();
    assert.deepEqual(await c.postMessage({ channel: 'C1', ...message }), { channel: 'C1', ts: '1.1' });
    assert.deepEqual(sleeps, [3000]);
  });

  test('a very long Retry-After is capped', async () => {
    nock(API).post('/api/chat.postMessage').reply(429, '', { 'Retry-After': '3600' });
    nock(API).post('/api/chat.postMessage').reply(200, { ok: true, channel: 'C1', ts: '1.1' });
    const { c, sleeps } = client();
    await c.postMessage({ channel: 'C1', ...message });
    assert.deepEqual(sleeps, [30_000]);
  });

  test('5xx and transient Slack errors are retried with growing waits; gives up after `attempts`', async () => {
    nock(API).post('/api/chat.postMessage').reply(503);
    nock(API).post('/api/chat.postMessage').reply(200, { ok: false, error: 'internal_error' });
    nock(API).post('/api/chat.postMessage').reply(200, { ok: true, channel: 'C1', ts: '1.1' });
    const { c, sleeps } = client();
    await c.postMessage({ channel: 'C1', ...message });
    assert.deepEqual(sleeps, [500, 1000]);

    nock(API).post('/api/chat.postMessage').times(4).reply(500);
    const failing = client();
    const err = await slackError(failing.c.postMessage({ channel: 'C1', ...message }));
    assert.equal(err.slackError, 'http_500');
    assert.equal(err.retryable, true);
    assert.match(err.message, /Slack chat\.postMessage failed: HTTP 500 \(gave up after 4 attempts\)/);
    assert.deepEqual(failing.sleeps, [500, 1000, 2000]);
  });

  test("ok:false names Slack's error code, with a hint, and is not retried", async () => {
    nock(API).post('/api/chat.postMessage').reply(200, { ok: false, error: 'not_in_channel' });
    const { c, sleeps } = client();
    const err = await slackError(c.postMessage({ channel: 'C1', ...message }));
    assert.equal(err.slackError, 'not_in_channel');
    assert.equal(err.retryable, false);
    assert.equal(err.message, 'Slack chat.postMessage failed: Slack error not_in_channel: invite the bot to the channel (/invite @the-bot)');
    assert.deepEqual(sleeps, []);
  });

  test('4xx other than 429 is not retried', async () => {
    nock(API).post('/api/chat.update').reply(400, { ok: false, error: 'invalid_blocks' });
    const { c, sleeps } = client();
    const err = await slackError(c.updateMessage({ channel: 'C1', ts: '1.1', ...message }));
    assert.equal(err.slackError, 'invalid_blocks');
    assert.match(err.message, /Slack chat\.update was refused: HTTP 400 invalid_blocks/);
    assert.deepEqual(sleeps, []);
  });

  test('the token never appears in an error', async () => {
    nock(API).post('/api/chat.postMessage').reply(200, { ok: false, error: 'invalid_auth' });
    const auth = await slackError(client().c.postMessage({ channel: 'C1', ...message }));
    assert.match(auth.message, /invalid_auth: check the bot token/);
    // A body echoing the token is not quoted either.
    nock(API).post('/api/chat.postMessage').reply(401, `bad token ${TOKEN}`);
    const echoed = await slackError(client().c.postMessage({ channel: 'C1', ...message }));
    // No route to Slack at all: the lower layers' message is redacted.
    const offline = await slackError(
      new SlackClient({ botToken: TOKEN, apiUrl: 'https://unreachable.example.test/api', attempts: 2, sleep: () => Promise.resolve() }).postMessage({
        channel: 'C1',
        ...message,
      }),
    );
    for (const err of [auth, echoed, offline]) {
      assert.ok(!err.message.includes(TOKEN), err.message);
      assert.ok(!JSON.stringify(err).includes(TOKEN));
      assert.ok(!String(err.stack).includes(TOKEN));
    }
    assert.equal(offline.slackError, 'network');
  });

  test('a channel is required with a bot token', async () => {
    const err = await slackError(client().c.postMessage(message));
    assert.equal(err.slackError, 'channel_not_set');
  });

  test('webhook: posts the JSON to the webhook, returns no ts, cannot update', async () => {
    let sent: Record<string, unknown> = {};
    nock('https://hooks.example.test')
      .post('/services/T000/B000/webhookSECRETpath', (body: Record<string, unknown>) => ((sent = body), true))
      .reply(200, 'ok');
    const { c } = client({ webhookUrl: WEBHOOK });
    assert.equal(c.canUpdate, false);
    assert.equal(await c.postMessage({ channel: '#ignored', ...message }), null);
    assert.deepEqual(sent, { text: 'hello', blocks: message.blocks, unfurl_links: false, unfurl_media: false });
    const err = await slackError(c.updateMessage({ channel: 'C1', ts: '1.1', ...message }));
    assert.equal(err.slackError, 'not_supported');
  });

  test('webhook errors name the host only: the URL is a secret', async () => {
    nock('https://hooks.example.test').post('/services/T000/B000/webhookSECRETpath').reply(404, 'no_service');
    const gone = await slackError(client({ webhookUrl: WEBHOOK }).c.postMessage(message));
    assert.equal(gone.message, 'Slack webhook at hooks.example.test was refused: HTTP 404 no_service: the webhook was removed or is wrong; create a new one');
    const offline = await slackError(
      client({ webhookUrl: 'https://offline.example.test/services/T000/B000/webhookSECRETpath', attempts: 2 }).c.postMessage(message),
    );
    assert.match(offline.message, /^Slack webhook at offline\.example\.test failed: /);
    for (const err of [gone, offline]) assert.ok(!err.message.includes('SECRET'), err.message);
  });

  test('respond posts to the response_url, and its errors do not quote it', async () => {
    let sent: Record<string, unknown> = {};
    nock('https://hooks.example.test')
      .post('/actions/T000/111/responseSECRETpath', (body: Record<string, unknown>) => ((sent = body), true))
      .reply(200, { ok: true });
    const { c } = client();
    await c.respond(RESPONSE_URL, { response_type: 'ephemeral', replace_original: false, text: 'Approved.' });
    assert.deepEqual(sent, { response_type: 'ephemeral', replace_original: false, text: 'Approved.' });

    nock('https://hooks.example.test').post('/actions/T000/111/responseSECRETpath').reply(200, { ok: false, error: 'expired_url' });
    const expired = await slackError(c.respond(RESPONSE_URL, { text: 'late' }));
    assert.equal(expired.message, 'Slack response_url at hooks.example.test failed: Slack error expired_url');
    const offline = await slackError(
      client({ botToken: TOKEN, attempts: 1 }).c.respond('https://offline.example.test/actions/T000/111/responseSECRETpath', { text: 'x' }),
    );
    assert.ok(!offline.message.includes('SECRET'), offline.message);
  });

  test('exactly one of a bot token and a webhook URL', () => {
    assert.throws(() => new SlackClient({}), /exactly one/);
    assert.throws(() => new SlackClient({ botToken: TOKEN, webhookUrl: WEBHOOK }), /exactly one/);
    assert.throws(() => new SlackClient({ webhookUrl: 'ftp://hooks.example.test/x' }), /not an http\(s\) URL/);
  });
});
