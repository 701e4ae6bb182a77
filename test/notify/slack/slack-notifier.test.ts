// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import nock from 'nock';
import { SlackClient } from '../../../src/notify/slack/slack-client.js';
import { SlackNotifier } from '../../../src/notify/slack/slack-notifier.js';
import { onlyNockedCalls } from '../../support/nock.js';

const API = 'https://slack.example.test';
const TOKEN = 'xoxb-1-notifier-token';
const noSleep = (): Promise<void> => Promise.resolve();

const bot = (defaultChannel: string | null = '#ops'): SlackNotifier =>
  new SlackNotifier({ client: new SlackClient({ botToken: TOKEN, apiUrl: `${API}/api`, sleep: noSleep }), defaultChannel });

type Posted = {
  channel?: string;
  text: string;
  blocks: Array<{ type: string; text?: { text: string; verbatim?: boolean }; elements?: Array<{ text: string }> }>;
};

/** Expects one chat.postMessage and hands back its body. */
function expectPost(): { body: () => Posted } {
  let sent: Posted | null = null;
  nock(API, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
    .post('/api/chat.postMessage', (b: Posted) => ((sent = b), true))
    .reply(200, { ok: true, channel: 'C1', ts: '1.1' });
  return {
    body: () => {
      assert.ok(sent, 'nothing posted');
      return sent;
    },
  };
}

describe('SlackNotifier', () => {
  onlyNockedCalls();

  test('a notify step goes to the channel it names, its text shown as untrusted', async () => {
    const post = expectPost();
    await bot().send({ kind: 'step', text: 'restarted <!channel> *api* & <http://evil|click>', channel: '#shop', runId: 'r_01', playbook: 'restart-api' });
    const body = post.body();
    assert.equal(body.channel, '#shop');
    assert.equal(body.text, 'restarted &lt;!channel&gt; *api* &amp; &lt;http://evil|click&gt;');
    assert.equal(body.blocks[0]?.text?.text, '`restarted &lt;!channel&gt; *api* &amp; &lt;http://evil|click&gt;`');
    assert.equal(body.blocks[0]?.text?.verbatim, true);
    assert.equal(body.blocks[1]?.elements?.[0]?.text, 'remediator · notify step · playbook `restart-api` · run `r_01`');
    assert.doesNotMatch(JSON.stringify(body), /<!channel>|<http:\/\/evil/);
  });

  test('daemon notices go to the default channel; several lines become a code block', async () => {
    const post = expectPost();
    await bot().send({ kind: 'circuit.opened', text: 'circuit opened for restart-api:\n3 failures in 10m' });
    assert.equal(post.body().channel, '#ops');
    assert.equal(post.body().blocks[0]?.text?.text, '```circuit opened for restart-api:\n3 failures in 10m```');
    assert.equal(post.body().blocks[1]?.elements?.[0]?.text, 'remediator · circuit opened');
  });

  test('no channel anywhere with a bot token is a clear error, and nothing is sent', async () => {
    await assert.rejects(
      bot(null).send({ kind: 'paused', text: 'paused by alice' }),
      /no Slack channel for this paused: name one in the notify step or set a default Slack channel/,
    );
  });

  test('through a webhook, to the webhook', async () => {
    let sent: Posted | null = null;
    nock('https://hooks.example.test')
      .post('/services/T/B/x', (b: Posted) => ((sent = b), true))
      .reply(200, 'ok');
    const notifier = new SlackNotifier({
      client: new SlackClient({ webhookUrl: 'https://hooks.example.test/services/T/B/x', sleep: noSleep }),
      defaultChannel: null,
    });
    assert.equal(notifier.name, 'slack');
    await notifier.send({ kind: 'resumed', text: 'resumed', channel: '#elsewhere' });
    assert.equal((sent as Posted | null)?.text, 'resumed');
    assert.equal((sent as Posted | null)?.channel, undefined);
  });

  test('a Slack error becomes the rejection the caller records', async () => {
    nock(API).post('/api/chat.postMessage').reply(200, { ok: false, error: 'channel_not_found' });
    await assert.rejects(bot().send({ kind: 'step', text: 'x', channel: '#nope' }), /Slack error channel_not_found: check the channel name or id/);
  });
});
