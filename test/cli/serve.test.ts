import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnCli } from '../support/cli.js';

test('remediator serve refuses to start without secrets and says what to set', async () => {
  const r = await spawnCli(['serve', '--listen', '127.0.0.1:0']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no webhook secret: set REMEDIATOR_WEBHOOK_TOKENS/);
});

test('remediator serve refuses a broken playbook set and names the problem', async () => {
  const env = { REMEDIATOR_WEBHOOK_TOKENS: 'w'.repeat(20), REMEDIATOR_API_TOKENS: `me=${'a'.repeat(20)}` };
  const r = await spawnCli(['serve', '--listen', '127.0.0.1:0', '--playbooks', '/nonexistent', '--db', ':memory:'], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /playbooks in \/nonexistent are not valid:\n {2}\/nonexistent: cannot read playbooks: directory does not exist/);
});
