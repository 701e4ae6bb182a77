// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ENV_KEYS } from '../../src/config/config-schema.js';
import { loadConfig, parseListen, unknownEnvVars } from '../../src/config/load-config.js';
import { ROOT } from '../support/fixtures.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'remediator.yaml');
writeFileSync(file, 'listen: 127.0.0.1:7000\nplaybooks: pb\ndb: data/r.db\nexecution: dry-run\nwebhook: { maxBodyBytes: 2048 }\n');

test('defaults apply with no file, no environment and no flags', () => {
  const c = loadConfig({}, {});
  assert.deepEqual(c, {
    listen: '127.0.0.1:9595',
    playbooks: 'playbooks',
    db: 'data/remediator.db',
    execution: 'dry-run',
    logLevel: 'info',
    logFormat: 'json',
    notifiers: {},
    webhook: { maxBodyBytes: 1048576, maxConcurrentBodies: 4 },
    http: { headersTimeout: 10_000, requestTimeout: 30_000 },
    auth: { generateTokens: false, roles: {}, tokenRoles: ['view', 'approve', 'operate'], proxy: { from: [], roles: ['view'] } },
    console: { enabled: true, sessionIdle: 1_800_000, sessionMax: 43_200_000 },
    runs: {
      maxConcurrent: 4,
      outputCapBytes: 65536,
      killGrace: 5000,
      shutdownGrace: 30_000,
      defaultTimeout: 300_000,
      envAllow: ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT'],
      lease: 30_000,
    },
    audit: { checkpoints: { every: 300_000, key: 'audit-checkpoint-key', onBroken: 'refuse', notify: true } },
    prometheus: { url: 'http://127.0.0.1:9090' },
    guards: {
      budget: { count: 20, per: 3_600_000 },
      maintenance: [],
      storm: { enabled: true, alerts: 10, targets: 5, within: 120_000, cooldown: 600_000, action: 'hold' },
    },
    approvals: { groups: {} },
    slack: {},
    retention: { keep: 90 * 86_400_000, schedule: '17 3 * * *', enabled: true },
    reload: { watch: false, interval: 5000 },
  });
});

test('approver groups come from the file or from REMEDIATOR_APPROVALS_GROUPS as YAML; a bad one names its key', () => {
  const c = loadConfig(
    {},
    { REMEDIATOR_APPROVALS_GROUPS: '{oncall: [alice, U012ABC]}', REMEDIATOR_SLACK_CHANNEL: 'C0123', REMEDIATOR_PUBLIC_URL: 'https://remediator.example.com' },
  );
  assert.deepEqual(c.approvals.groups, { oncall: ['alice', 'U012ABC'] });
  assert.equal(c.slack.channel, 'C0123');
  assert.equal(c.publicUrl, 'https://remediator.example.com');
  assert.throws(() => loadConfig({}, { REMEDIATOR_APPROVALS_GROUPS: '{oncall: []}' }), /approvals\.groups\.oncall/);
  assert.throws(() => loadConfig({}, { REMEDIATOR_PUBLIC_URL: 'not a url' }), /publicUrl/);
});

test('file paths are relative to the file; flag > environment > file', () => {
  const fromFile = loadConfig({ config: file }, {});
  assert.equal(fromFile.listen, '127.0.0.1:7000');
  assert.equal(fromFile.playbooks, path.join(dir, 'pb'));
  assert.equal(fromFile.db, path.join(dir, 'data/r.db'));
  assert.equal(fromFile.webhook.maxBodyBytes, 2048);
  const env = { REMEDIATOR_LISTEN: '127.0.0.1:7001', REMEDIATOR_WEBHOOK_MAX_BODY_BYTES: '4096', REMEDIATOR_LOG_LEVEL: 'debug' };
  const fromEnv = loadConfig({ config: file }, env);
  assert.equal(fromEnv.listen, '127.0.0.1:7001');
  assert.equal(fromEnv.webhook.maxBodyBytes, 4096);
  assert.equal(fromEnv.logLevel, 'debug');
  assert.equal(loadConfig({ config: file, listen: '127.0.0.1:7002' }, env).listen, '127.0.0.1:7002');
  assert.equal(loadConfig({}, { REMEDIATOR_CONFIG: file }).listen, '127.0.0.1:7000');
});

test('bad values stop start-up with a message naming the key and its source', () => {
  assert.throws(() => loadConfig({ execution: 'sometimes' }, {}), /execution \(from flag --execution\): Invalid option/);
  assert.throws(() => loadConfig({}, { REMEDIATOR_LISTEN: 'localhost' }), /listen \(from environment variable REMEDIATOR_LISTEN\): must be host:port/);
  assert.throws(() => loadConfig({}, { REMEDIATOR_AUTH_GENERATE_TOKENS: 'yes' }), /auth\.generateTokens/);
  assert.equal(loadConfig({}, { REMEDIATOR_AUTH_GENERATE_TOKENS: 'false' }).auth.generateTokens, false);
  const typo = path.join(dir, 'typo.yaml');
  writeFileSync(typo, 'lisen: 127.0.0.1:1\n');
  assert.throws(() => loadConfig({ config: typo }, {}), /unknown key\(s\) lisen; known keys are listen,/);
  assert.throws(() => loadConfig({ config: path.join(dir, 'missing.yaml') }, {}), /cannot read config file/);
  const list = path.join(dir, 'list.yaml');
  writeFileSync(list, '- a\n');
  assert.throws(() => loadConfig({ config: list }, {}), /must be a mapping/);
});

test('guards: budget and maintenance windows from the file and the environment', () => {
  const guarded = path.join(dir, 'guards.yaml');
  writeFileSync(
    guarded,
    `guards:
  budget: { count: 5, per: 30m }
  maintenance:
    - { name: sunday, cron: '0 2 * * SUN', duration: 2h, action: dry-run, matchers: ['namespace="shop"'], timezone: Europe/Berlin }
    - { name: nightly, cron: '@daily', duration: 1h }
`,
  );
  const c = loadConfig({ config: guarded }, {});
  assert.deepEqual(c.guards, {
    budget: { count: 5, per: 1_800_000 },
    maintenance: [
      { name: 'sunday', cron: '0 2 * * SUN', duration: 7_200_000, action: 'dry-run', matchers: ['namespace="shop"'], timezone: 'Europe/Berlin' },
      { name: 'nightly', cron: '@daily', duration: 3_600_000, action: 'suppress' },
    ],
    storm: { enabled: true, alerts: 10, targets: 5, within: 120_000, cooldown: 600_000, action: 'hold' },
  });
  const env = {
    REMEDIATOR_GUARDS_BUDGET_COUNT: '7',
    REMEDIATOR_GUARDS_BUDGET_PER: '2h',
    REMEDIATOR_GUARDS_MAINTENANCE: '[{name: freeze, cron: "0 0 * * *", duration: 1d, action: suppress}]',
  };
  const fromEnv = loadConfig({ config: guarded }, env);
  assert.deepEqual(fromEnv.guards.budget, { count: 7, per: 7_200_000 });
  assert.deepEqual(fromEnv.guards.maintenance, [{ name: 'freeze', cron: '0 0 * * *', duration: 86_400_000, action: 'suppress' }]);
  assert.deepEqual(loadConfig({}, { REMEDIATOR_GUARDS_MAINTENANCE: '[]' }).guards.maintenance, []);
});

test('guards.storm: thresholds from the file and the environment; bad values name the key', () => {
  const file = path.join(dir, 'storm.yaml');
  writeFileSync(file, 'guards:\n  storm: { alerts: 40, targets: 10, within: 5m, cooldown: 30m, action: suppress }\n');
  assert.deepEqual(loadConfig({ config: file }, {}).guards.storm, {
    enabled: true,
    alerts: 40,
    targets: 10,
    within: 300_000,
    cooldown: 1_800_000,
    action: 'suppress',
  });
  assert.equal(loadConfig({ config: file }, { REMEDIATOR_GUARDS_STORM_ENABLED: 'false' }).guards.storm.enabled, false);
  assert.equal(loadConfig({}, { REMEDIATOR_GUARDS_STORM_ALERTS: '3' }).guards.storm.alerts, 3);
  assert.throws(() => loadConfig({}, { REMEDIATOR_GUARDS_STORM_WITHIN: '500ms' }), /guards\.storm\.within.*at least 1s/s);
  assert.throws(() => loadConfig({}, { REMEDIATOR_GUARDS_STORM_ALERTS: '0' }), /guards\.storm\.alerts/);
  assert.throws(() => loadConfig({}, { REMEDIATOR_GUARDS_STORM_ACTION: 'drop' }), /guards\.storm\.action/);
});

test('bad guards name the key and say what to write', () => {
  const window = (w: string) => ({ REMEDIATOR_GUARDS_MAINTENANCE: `[{name: w, duration: 2h, ${w}}]` });
  const cases: [NodeJS.ProcessEnv, RegExp][] = [
    [
      window("cron: '0 2 * *'"),
      /guards\.maintenance\.0\.cron \(from environment variable REMEDIATOR_GUARDS_MAINTENANCE\): "0 2 \* \*" has 4 field\(s\): write five fields/,
    ],
    [window("cron: '0 25 * * *'"), /guards\.maintenance\.0\.cron .*hour field "25": 25 is outside 0-23/],
    [window(`cron: '0 2 * * *', matchers: ['9ns="shop"']`), /guards\.maintenance\.0\.matchers\.0 .*invalid label name "9ns"/],
    [window("cron: '0 2 * * *', timezone: Mars/Base"), /guards\.maintenance\.0\.timezone .*must be an IANA time zone/],
    [window("cron: '0 2 * * *', action: skip"), /guards\.maintenance\.0\.action/],
    [window("cron: '0 2 * * *', when: sunday"), /unrecognized key|when/i],
    [{ REMEDIATOR_GUARDS_MAINTENANCE: '[{name: w, cron: "0 2 * * *", duration: 0s}]' }, /guards\.maintenance\.0\.duration .*must be a duration above zero/],
    [
      { REMEDIATOR_GUARDS_MAINTENANCE: '[{name: a, cron: "@daily", duration: 1h}, {name: a, cron: "@hourly", duration: 1m}]' },
      /guards\.maintenance\.1\.name .*window name "a" is used twice/,
    ],
    [{ REMEDIATOR_GUARDS_MAINTENANCE: '{name: a' }, /guards\.maintenance/],
    [{ REMEDIATOR_GUARDS_BUDGET_COUNT: '0' }, /guards\.budget\.count/],
    [{ REMEDIATOR_GUARDS_BUDGET_PER: 'hourly' }, /guards\.budget\.per .*must be a duration above zero/],
  ];
  for (const [env, message] of cases) assert.throws(() => loadConfig({}, env), message, JSON.stringify(env));
});

test('parseListen splits host and port, IPv6 included', () => {
  assert.deepEqual(parseListen('127.0.0.1:9595'), { host: '127.0.0.1', port: 9595 });
  assert.deepEqual(parseListen('[::1]:80'), { host: '::1', port: 80 });
  assert.deepEqual(parseListen(':9595'), { host: '0.0.0.0', port: 9595 });
});

test('the database may come from a file (REMEDIATOR_DB_FILE), for a PostgreSQL URL with a password', () => {
  const f = path.join(dir, 'db-url');
  writeFileSync(f, 'postgres://remediator:s3cret@db:5432/remediator\n');
  assert.equal(loadConfig({}, { REMEDIATOR_DB_FILE: f }).db, 'postgres://remediator:s3cret@db:5432/remediator');
  assert.throws(() => loadConfig({}, { REMEDIATOR_DB_FILE: f, REMEDIATOR_DB: 'x.db' }), /both set/);
  assert.throws(() => loadConfig({}, { REMEDIATOR_DB_FILE: path.join(dir, 'missing') }), /REMEDIATOR_DB_FILE: cannot read/);
  assert.deepEqual(unknownEnvVars({ REMEDIATOR_DB_FILE: f }), []);
});

test('the README names every environment variable a configuration key can be set by', () => {
  const section = /^## Configuration\n([\s\S]*?)^## /m.exec(readFileSync(path.join(ROOT, 'README.md'), 'utf8'))?.[1] ?? '';
  for (const name of Object.keys(ENV_KEYS)) assert.ok(section.includes(`\`${name}\``), `README.md's Configuration section names ${name}`);
});

test('grafana: defaults from the file, and bad values name their key', () => {
  const good = path.join(dir, 'grafana.yaml');
  writeFileSync(good, 'grafana:\n  url: https://grafana.example.com\n  tokenFile: /run/secrets/grafana-token\n');
  const g = loadConfig({ config: good }, {}).grafana;
  assert.deepEqual(g, { url: 'https://grafana.example.com', tokenFile: '/run/secrets/grafana-token', dryRuns: false, tags: [], timeout: 5000 });
  const cases: [string, RegExp][] = [
    ['grafana:\n  tokenFile: t\n', /grafana\.url/],
    ['grafana:\n  url: grafana.example.com\n  tokenFile: t\n', /grafana\.url .*must be a URL such as https:\/\/grafana\.example\.com/],
    ['grafana:\n  url: https://g.example.com\n', /grafana\.tokenFile/],
    ['grafana:\n  url: https://g.example.com\n  tokenFile: t\n  dashboardUID: "a b"\n', /grafana\.dashboardUID .*must be a dashboard UID/],
    ['grafana:\n  url: https://g.example.com\n  tokenFile: t\n  tags: [9ns]\n', /grafana\.tags\.0 .*must be a label name/],
    ['grafana:\n  url: https://g.example.com\n  tokenFile: t\n  timeout: 0s\n', /grafana\.timeout .*must be a duration above zero/],
    ['grafana:\n  url: https://g.example.com\n  tokenFile: t\n  dryRuns: sometimes\n', /grafana\.dryRuns/],
    ['grafana:\n  url: https://g.example.com\n  tokenFile: t\n  panel: 2\n', /grafana.*panel/],
  ];
  for (const [text, message] of cases) {
    const file = path.join(dir, 'grafana-bad.yaml');
    writeFileSync(file, text);
    assert.throws(() => loadConfig({ config: file }, {}), message, text);
  }
});

test('secret files named in the configuration file are relative to it, as its other paths are', () => {
  const sub = path.join(dir, 'conf');
  mkdirSync(sub, { recursive: true });
  const file = path.join(sub, 'secret-files.yaml');
  writeFileSync(
    file,
    `alertmanager: { url: 'http://127.0.0.1:9093', basicAuth: { username: am, passwordFile: secrets/am-password } }
grafana: { url: 'https://grafana.example.com', tokenFile: secrets/grafana-token }
notifiers:
  pagerduty: { type: pagerduty, routingKeyFile: secrets/pd-key }
  oncall: { type: webhook, urlFile: /etc/remediator/oncall-url }
`,
  );
  const c = loadConfig({ config: file }, {});
  assert.equal(c.alertmanager?.basicAuth?.passwordFile, path.join(sub, 'secrets/am-password'));
  assert.equal(c.grafana?.tokenFile, path.join(sub, 'secrets/grafana-token'));
  const named = c.notifiers as Record<string, { routingKeyFile?: string; urlFile?: string }>;
  assert.equal(named['pagerduty']?.routingKeyFile, path.join(sub, 'secrets/pd-key'));
  assert.equal(named['oncall']?.urlFile, '/etc/remediator/oncall-url', 'an absolute path stays');
});
