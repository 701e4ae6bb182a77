import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runCli, spawnCli } from '../support/cli.js';
import { ROOT } from '../support/fixtures.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A directory with a configuration file and a playbooks directory holding `playbooks`. */
function setup(config: string, playbooks: Readonly<Record<string, string>>): { dir: string; config: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-check-config-'));
  dirs.push(dir);
  mkdirSync(path.join(dir, 'playbooks'));
  for (const [name, text] of Object.entries(playbooks)) writeFileSync(path.join(dir, 'playbooks', name), text);
  writeFileSync(path.join(dir, 'remediator.yaml'), `playbooks: playbooks\n${config}`);
  return { dir, config: path.join(dir, 'remediator.yaml') };
}

const approving = (approvers: string) => `name: roll
match: { alertname: X }
mode: approve
approval: { approvers: [${approvers}] }
steps:
  - run: [kubectl, rollout, undo, deployment/x]
`;

test('validate --config: an approver that names nobody is an error when the API identities are known', async () => {
  const { config } = setup('execution: live\napprovals: { groups: { leads: [alice] } }\n', { 'roll.yaml': approving('oncall') });
  const r = await runCli(['validate', '--config', config], { env: { REMEDIATOR_API_TOKENS: 'alice=alice-token-0000000000' } });
  assert.equal(r.code, 1, r.stdout);
  // serve only logged this; validate points at the place in the playbook.
  assert.match(
    r.stdout,
    /^roll\.yaml:4:25: approval\.approvers\[0\]: names approver "oncall", which is no API token identity, no group in approvals\.groups and no Slack user id: nobody can approve as it$/m,
  );
  assert.match(r.stdout, /^1 error\(s\) in .*playbooks with .*remediator\.yaml$/m);
});

test('validate --config: without the API identities, the same approver is a warning, exit 3', async () => {
  const { config } = setup('execution: live\napprovals: { groups: { leads: [alice] } }\n', { 'roll.yaml': approving('oncall') });
  const r = await runCli(['validate', '--config', config]);
  assert.equal(r.code, 3, r.stdout);
  assert.match(
    r.stdout,
    /approval\.approvers\[0\]: warning: names approver "oncall", which is no group in approvals\.groups and no Slack user id: unless it is an API token identity/,
  );
  assert.match(r.stdout, /^1 playbook\(s\) in .*playbooks with .* are valid, with 1 warning\(s\)$/m);
});

test('validate --config: a live approve-mode playbook that names no approvers is a warning', async () => {
  const { config } = setup('execution: live\n', { 'roll.yaml': approving('') });
  const r = await runCli(['check-config', config]);
  assert.equal(r.code, 3, r.stdout);
  assert.match(r.stdout, /^roll\.yaml:3:7: mode: warning: needs approval but names no approvers: anyone with an API token or the Slack buttons may approve/m);
});

test('validate --config: a verify step with no Prometheus to ask, unless the configuration names one', async () => {
  const verify = "name: v\nmatch: { alertname: X }\nmode: live\nsteps:\n  - verify: { prometheus: { query: 'up == 1' } }\n";
  const unset = setup('execution: dry-run\n', { 'v.yaml': verify });
  const r = await runCli(['validate', '--config', unset.config]);
  assert.equal(r.code, 3, r.stdout);
  assert.match(
    r.stdout,
    /^v\.yaml:5:27: steps\[0\]\.verify\.prometheus: warning: step verify-1 queries Prometheus, but neither the step nor the configuration \(prometheus\.url\) says where/m,
  );
  const set = setup('prometheus: { url: "http://prometheus:9090" }\n', { 'v.yaml': verify });
  const ok = await runCli(['validate', '--config', set.config]);
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /^1 playbook\(s\) in .*playbooks with .* are valid$/m);
  const fromEnv = await runCli(['validate', '--config', unset.config], { env: { REMEDIATOR_PROMETHEUS_URL: 'http://prometheus:9090' } });
  assert.equal(fromEnv.code, 0, fromEnv.stdout);
});

test('validate --config: a secret with no source; a secretsDir without the file is an error, one not here a note', async () => {
  const secret =
    "name: s\nmatch: { alertname: X }\nmode: live\nsteps:\n  - http: { method: POST, url: 'https://x.example', headers: { Authorization: 'Bearer {{ secrets.TOKEN }}' } }\n";
  const none = setup('', { 's.yaml': secret });
  const warned = await runCli(['validate', '--config', none.config]);
  assert.equal(warned.code, 3, warned.stdout);
  assert.match(warned.stdout, /^s\.yaml:5:5: steps\[0\]: warning: step http-1 uses \{\{ secrets\.TOKEN \}\}: no source is configured/m);
  assert.equal((await runCli(['validate', '--config', none.config], { env: { REMEDIATOR_SECRET_TOKEN: 'x' } })).code, 0);

  const withDir = setup('secretsDir: secrets\n', { 's.yaml': secret });
  mkdirSync(path.join(withDir.dir, 'secrets'));
  const missing = await runCli(['validate', '--config', withDir.config]);
  assert.equal(missing.code, 1, missing.stdout);
  assert.match(
    missing.stdout,
    /steps\[0\]: step http-1 uses \{\{ secrets\.TOKEN \}\}: secretsDir .*secrets has no file TOKEN, and REMEDIATOR_SECRET_TOKEN is not set: the step would fail$/m,
  );
  writeFileSync(path.join(withDir.dir, 'secrets', 'TOKEN'), 'value');
  assert.equal((await runCli(['validate', '--config', withDir.config])).code, 0);

  const elsewhere = setup('secretsDir: /nonexistent/secrets\n', { 's.yaml': secret });
  const noted = await runCli(['validate', '--config', elsewhere.config]);
  assert.equal(noted.code, 0, noted.stdout);
  assert.match(noted.stdout, /steps\[0\]: note: step http-1 uses \{\{ secrets\.TOKEN \}\}: secretsDir \/nonexistent\/secrets does not exist here/);
});

test('validate --config: Slack buttons nobody can press without a signing secret', async () => {
  const { config } = setup('slack: { channel: C0123456789 }\n', { 'roll.yaml': approving('') });
  const warned = await runCli(['validate', '--config', config], { env: { REMEDIATOR_SLACK_BOT_TOKEN: 'xoxb-test' } });
  assert.equal(warned.code, 3, warned.stdout);
  assert.match(
    warned.stdout,
    /^roll\.yaml:3:7: mode: warning: asks for approval, and Slack shows Approve\/Reject buttons, but REMEDIATOR_SLACK_SIGNING_SECRET is not set/m,
  );
  const signed = await runCli(['validate', '--config', config], {
    env: { REMEDIATOR_SLACK_BOT_TOKEN: 'xoxb-test', REMEDIATOR_SLACK_SIGNING_SECRET: 'secret' },
  });
  assert.equal(signed.code, 0, signed.stdout);
  const unknown = await runCli(['validate', '--config', config]);
  assert.equal(unknown.code, 0, unknown.stdout);
  assert.match(
    unknown.stdout,
    /note: asks for approval and Slack is configured: whether its Approve\/Reject buttons work needs REMEDIATOR_SLACK_SIGNING_SECRET/,
  );
});

test('validate --config: a bad configuration is an error naming the key; playbook errors and findings come together', async () => {
  const bad = setup('execution: sometimes\n', { 'roll.yaml': approving('') });
  const r = await runCli(['validate', '--config', bad.config]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /remediator\.yaml: invalid configuration:\n {2}execution \(from config file .*\): Invalid option/);

  const both = setup('execution: live\n', { 'roll.yaml': approving(''), 'broken.yaml': 'name: broken\nmatch: { alertname: X }\nsteps: []\n' });
  const r2 = await runCli(['validate', '--config', both.config]);
  assert.equal(r2.code, 1, r2.stdout);
  assert.match(r2.stdout, /^broken\.yaml:3:8: steps: a playbook needs at least one step$/m);
  assert.match(r2.stdout, /^roll\.yaml:3:7: mode: warning: needs approval but names no approvers/m);
  assert.match(r2.stdout, /^1 error\(s\), 1 warning\(s\) in /m);
});

test('remediator check-config: the example configuration and playbooks, in a real process', async () => {
  const r = await spawnCli(['check-config', 'remediator.example.yaml'], { cwd: ROOT, env: { REMEDIATOR_SECRET_FLAGS_TOKEN: 'x' } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^5 playbook\(s\) in .*playbooks with remediator\.example\.yaml are valid$/m);
  const warned = await spawnCli(['check-config', 'remediator.example.yaml'], { cwd: ROOT });
  assert.equal(warned.code, 3, warned.stdout + warned.stderr);
  assert.match(
    warned.stdout,
    /^degrade-feature-flag\.yaml:\d+:\d+: steps\[0\]: warning: steps current, switch-off, confirm use \{\{ secrets\.FLAGS_TOKEN \}\}/m,
  );
});

const escalating = `name: roll
match: { alertname: X }
mode: live
escalate: { after: 2, within: 1h, notify: [pagerduty] }
steps:
  - run: [kubectl, rollout, undo, deployment/x]
`;

test('validate --config: escalate.notify naming a notifier nobody configured is an error, at its place', async () => {
  const { config } = setup('execution: live\n', { 'roll.yaml': escalating });
  const r = await runCli(['validate', '--config', config]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /^roll\.yaml:4:\d+: escalate\.notify\[0\]: names notifier "pagerduty", which is not configured: use one of log, webhook, slack/m);
  const configured = setup('execution: live\nnotifiers: { pagerduty: { type: pagerduty, routingKeyFile: /nonexistent/key } }\n', { 'roll.yaml': escalating });
  assert.equal((await runCli(['validate', '--config', configured.config])).code, 0);
});

test('validate --config: a notifier with a bad type or a built-in name is refused, naming the key', async () => {
  const bad = setup('notifiers: { slack: { type: webhook, urlFile: /x } }\n', {});
  const r = await runCli(['validate', '--config', bad.config]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /notifiers\.slack.*built-in notifier's name/);
});
