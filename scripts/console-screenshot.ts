// Generates docs/console-run.png, the README's picture of the web console, from the real page: a
// daemon on a temporary database with a small playbook (node stands in for kubectl), a few alerts
// posted to it, the held run's page opened in Chromium (Debian's chromium, driven by
// playwright-core, as the tests do) and photographed. Run it again after changing the console:
//
//   npm run console:screenshot [-- --out docs/console-run.png]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { Registry } from 'prom-client';
import { startDaemon } from '../src/cli/serve.js';
import { configSchema } from '../src/config/config-schema.js';
import { silentLogger } from '../src/observability/logger.js';

const { values: flags } = parseArgs({ options: { out: { type: 'string', default: 'docs/console-run.png' } } });
const CHROMIUM = process.env['REMEDIATOR_TEST_CHROMIUM'] ?? '/usr/bin/chromium';
const TOKEN = 'screenshot-token-0000000000000';
const WEBHOOK = 'screenshot-webhook-000000000000';
const NODE = process.execPath;

const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-screenshot-'));
const books = path.join(dir, 'playbooks');
mkdirSync(books);
const print = (text: string) => `[${NODE}, -e, 'process.stdout.write(process.argv[1])', "${text}"]`;
writeFileSync(
  path.join(books, 'rollback.yaml'),
  `name: rollback-on-error-burst
description: Roll back a Deployment whose 5xx rate spiked right after an upgrade.
owner: platform-team
match: { alertname: ServiceUpgradeErrorBurst }
mode: approve
approval: { timeout: 15m, approvers: [alice] }
params:
  namespace: { from: labels.namespace, pattern: '[a-z0-9-]{1,63}' }
  deployment: { from: labels.deployment, pattern: '[a-z0-9-]{1,63}' }
guards: { key: '{{ params.namespace }}/{{ params.deployment }}' }
steps:
  - name: history
    readOnly: true
    run: ${print('REVISION  CHANGE-CAUSE\\n41        v2.7.0 (checkout)\\n42        v2.8.0 (checkout)')}
  - name: errors
    readOnly: true
    run: ${print('5xx ratio 0.31 since 03:09 (upgrade to v2.8.0 at 03:08)')}
  - name: undo
    run: ${print('deployment.apps/checkout rolled back')}
  - name: tell
    notify: { text: 'Rolled back {{ params.namespace }}/{{ params.deployment }}' }
`,
);
const daemon = await startDaemon(
  configSchema.parse({ listen: '127.0.0.1:0', playbooks: books, db: path.join(dir, 'r.db'), execution: 'live' }),
  { webhookTokens: [WEBHOOK], webhookBasic: [], apiTokens: [{ identity: 'alice', token: TOKEN }], notices: [] },
  silentLogger(),
  { registry: new Registry(), env: { PATH: process.env['PATH'] } },
);

try {
  const startsAt = new Date(Date.now() - 4 * 60_000).toISOString();
  const res = await fetch(`${daemon.url}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK}` },
    body: JSON.stringify({
      version: '4',
      groupKey: '{}:{alertname="ServiceUpgradeErrorBurst"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'remediator',
      groupLabels: { alertname: 'ServiceUpgradeErrorBurst' },
      commonLabels: {},
      commonAnnotations: {},
      externalURL: 'http://alertmanager.example:9093',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'ServiceUpgradeErrorBurst', namespace: 'shop', deployment: 'checkout', severity: 'critical' },
          annotations: { summary: '5xx ratio above 10% right after an upgrade', runbook_url: 'https://runbooks.example/checkout' },
          startsAt,
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://prometheus.example:9090/graph?g0.expr=job%3Ahttp_5xx_ratio%3Arate2m+%3E+0.1',
          fingerprint: '7d2d332feada5c59',
        },
      ],
    }),
  });
  if (res.status !== 200) throw new Error(`webhook: ${res.status} ${await res.text()}`);
  await daemon.settled();
  const [held] = (await daemon.store.listRuns({ state: 'awaiting_approval', limit: 1 })).runs;
  if (!held) throw new Error('no held run: the playbook did not hold for approval');

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Europe/Berlin', locale: 'en-GB', deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(`${daemon.url}/console/runs/${held.id}`);
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(new RegExp(`/console/runs/${held.id}$`));
    await page.getByLabel('Comment (recorded with your decision)').fill('error ratio tripled after v2.8.0: roll back');
    const out = path.resolve(flags.out);
    mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1500 } });
    console.log(`wrote ${path.relative(process.cwd(), out)} (run ${held.id})`);
  } finally {
    await browser.close();
  }
} finally {
  await daemon.close();
  rmSync(dir, { recursive: true, force: true });
}
