// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadSecrets } from '../../src/config/secrets.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const T1 = 'a'.repeat(20);
const T2 = 'b'.repeat(20);

test('tokens come from the environment, comma-separated, or from a file', () => {
  const s = loadSecrets({ REMEDIATOR_WEBHOOK_TOKENS: `${T1}, ${T2}`, REMEDIATOR_API_TOKENS: `alice=${T1},bob=${T2}` }, null);
  assert.deepEqual(s.webhookTokens, [T1, T2]);
  assert.deepEqual(s.apiTokens, [
    { identity: 'alice', token: T1 },
    { identity: 'bob', token: T2 },
  ]);
  const file = path.join(dir, 'tokens');
  writeFileSync(file, `${T2}\n`);
  const f = loadSecrets({ REMEDIATOR_WEBHOOK_TOKENS_FILE: file, REMEDIATOR_API_TOKENS: `alice=${T1}` }, null);
  assert.deepEqual(f.webhookTokens, [T2]);
  const basic = loadSecrets({ REMEDIATOR_WEBHOOK_BASIC_AUTH: 'am:pass:with:colons', REMEDIATOR_API_TOKENS: `alice=${T1}` }, null);
  assert.deepEqual(basic.webhookBasic, [{ user: 'am', password: 'pass:with:colons' }]);
});

test('no secret has a default: missing ones stop start-up with what to set', () => {
  assert.throws(() => loadSecrets({ REMEDIATOR_API_TOKENS: `alice=${T1}` }, null), /no webhook secret: set REMEDIATOR_WEBHOOK_TOKENS/);
  assert.throws(() => loadSecrets({ REMEDIATOR_WEBHOOK_TOKENS: T1 }, null), /no API token: set REMEDIATOR_API_TOKENS/);
  assert.throws(() => loadSecrets({ REMEDIATOR_WEBHOOK_TOKENS: 'short', REMEDIATOR_API_TOKENS: `a=${T1}` }, null), /at least 16 characters/);
  assert.throws(() => loadSecrets({ REMEDIATOR_WEBHOOK_TOKENS: T1, REMEDIATOR_API_TOKENS: T1 }, null), /identity=token/);
  assert.throws(() => loadSecrets({ REMEDIATOR_WEBHOOK_TOKENS: T1, REMEDIATOR_WEBHOOK_TOKENS_FILE: '/x', REMEDIATOR_API_TOKENS: `a=${T1}` }, null), /both set/);
});

test('generated tokens are created once, private, and read back on the next start', () => {
  const gen = path.join(dir, 'data');
  const first = loadSecrets({}, gen);
  assert.equal(first.webhookTokens.length, 1);
  assert.match(first.notices.join('\n'), /generated and saved in .*webhook\.token: /);
  assert.equal(statSync(path.join(gen, 'webhook.token')).mode & 0o777, 0o600);
  assert.equal(readFileSync(path.join(gen, 'webhook.token'), 'utf8').trim(), first.webhookTokens[0]);
  const second = loadSecrets({}, gen);
  assert.deepEqual(second.webhookTokens, first.webhookTokens);
  assert.deepEqual(second.apiTokens, first.apiTokens);
  assert.doesNotMatch(second.notices.join('\n'), /generated/);
  assert.ok(!second.notices.join('\n').includes(first.webhookTokens[0] as string), 'a token is printed only when generated');
});

test('Slack: signing secrets (several, for rotation), a bot token or a webhook, never both', () => {
  const base = { REMEDIATOR_WEBHOOK_TOKENS: T1, REMEDIATOR_API_TOKENS: `a=${T1}` };
  const s = loadSecrets({ ...base, REMEDIATOR_SLACK_SIGNING_SECRET: 'old-secret, new-secret', REMEDIATOR_SLACK_BOT_TOKEN: 'xoxb-1-2-abc' }, null);
  assert.deepEqual(s.slackSigningSecrets, ['old-secret', 'new-secret']);
  assert.equal(s.slackBotToken, 'xoxb-1-2-abc');
  assert.equal(
    loadSecrets({ ...base, REMEDIATOR_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' }, null).slackWebhookUrl,
    'https://hooks.slack.com/services/T/B/x',
  );
  assert.throws(
    () => loadSecrets({ ...base, REMEDIATOR_SLACK_BOT_TOKEN: 'xoxb-1', REMEDIATOR_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' }, null),
    /both set: keep one/,
  );
  assert.throws(() => loadSecrets({ ...base, REMEDIATOR_SLACK_BOT_TOKEN: 'hunter2' }, null), /does not look like a Slack bot token/);
  assert.throws(() => loadSecrets({ ...base, REMEDIATOR_SLACK_WEBHOOK_URL: 'nope' }, null), /REMEDIATOR_SLACK_WEBHOOK_URL is not a URL/);
});
