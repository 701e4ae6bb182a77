import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Run } from '../../../src/domain/run.js';
import { chromiumMissing, launchChromium, screenshot, watchedPage, type WatchedPage } from '../../support/browser.js';
import { ALICE_TOKEN, alertPayload, releaseFile, startConsoleDaemon, stopConsoleDaemon, TestClock, VICTOR_TOKEN } from '../../support/console-daemon.js';
import type { TestDaemon } from '../../support/test-daemon.js';
import { until } from '../../support/until.js';

// The console in real Chromium (Debian's chromium, driven by playwright-core). Every page is
// watched for dialogs, requests to other origins, CSP violations and script errors: any of them
// fails the test that caused it.
const missing = chromiumMissing();
if (missing) console.log(missing);

/** Signs in through the form, as a person does. */
async function signInWith(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/console/runs`);
  assert.match(page.url(), /\/console\/sign-in\?next=/);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console\/runs$/);
}

async function heldRun(d: TestDaemon, labels: Record<string, string>): Promise<Run> {
  assert.equal((await d.post(alertPayload('Burst', labels))).status, 200);
  return until('a held run', async () =>
    (await d.api<{ runs: Run[] }>('/api/runs?status=awaiting_approval')).runs.find((r) => r.labels['deployment'] === labels['deployment']),
  );
}

/** The state the run page shows, once it shows `state`. */
async function shownState(page: Page, state: string): Promise<void> {
  await page.locator(`[data-live="run-head"] [data-state="${state}"]`).waitFor({ timeout: 10_000 });
}

function clean(w: WatchedPage): void {
  assert.deepEqual(w.problems, [], 'no dialog, no request elsewhere, no CSP violation, no script error');
}

describe('web console in Chromium', { skip: missing !== null }, () => {
  let browser: Browser;
  let d: TestDaemon;
  before(async () => {
    browser = await launchChromium();
    d = await startConsoleDaemon();
  });
  after(async () => {
    await browser?.close();
    await stopConsoleDaemon(d);
  });

  test('sign in, see a held run arrive, approve it with a comment by keyboard, and watch it run to succeeded without a reload', async () => {
    const w = await watchedPage(browser, d.url);
    const { page } = w;
    await signInWith(page, d.url, ALICE_TOKEN);
    await page.locator('body[data-live="open"]').waitFor();
    await screenshot(page, 'runs-empty');
    const run = await heldRun(d, { deployment: 'checkout', hold: 'yes' });
    // The list updates by itself: the stream told the page, which fetched its regions again.
    await page.locator(`tr[data-run="${run.id}"] [data-state="awaiting_approval"]`).waitFor();
    assert.match(await page.locator(`tr[data-run="${run.id}"]`).innerText(), /awaiting approval/, 'the state in words, not colour alone');
    await page.getByRole('link', { name: /Waiting for me/ }).click();
    await page.waitForURL(/\/console\/waiting$/);
    assert.match(await page.locator('li.card').first().innerText(), /revision 41 of checkout/, 'what the read-only step found');
    assert.match(await page.locator('time[data-countdown]').first().innerText(), /^1[45]m \d\ds$/, 'the expiry counts down');
    await screenshot(page, 'waiting');
    await page.getByRole('link', { name: 'Decide' }).first().click();
    await page.waitForURL(new RegExp(`/console/runs/${run.id}`));
    await screenshot(page, 'run-held');
    await page.getByLabel('Comment (recorded with your decision)').fill('error rate doubled after the upgrade');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Approve', 'the next stop after the comment is Approve');
    await page.keyboard.press('Enter');
    await page.waitForURL(/done=approved/);
    await shownState(page, 'running');
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    writeFileSync(releaseFile(d.dir), '');
    await shownState(page, 'succeeded');
    assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true, 'the same page, never reloaded');
    assert.match(await page.locator('#live-status').innerText(), /This run is now succeeded/);
    assert.match(await page.locator('[data-live="approvals"]').innerText(), /approved[\s\S]*alice via console[\s\S]*error rate doubled after the upgrade/);
    assert.equal(await page.locator('.timeline svg .step').count(), 3, 'one bar per step on the timeline');
    await screenshot(page, 'run-succeeded');
    clean(w);
    await w.context.close();
  });

  test('reject with a comment, and cancel a held run', async () => {
    const w = await watchedPage(browser, d.url);
    const { page } = w;
    await signInWith(page, d.url, ALICE_TOKEN);
    const first = await heldRun(d, { deployment: 'to-reject' });
    const second = await heldRun(d, { deployment: 'to-cancel' });
    await page.goto(`${d.url}/console/runs/${first.id}`);
    await page.getByLabel('Comment (recorded with your decision)').fill('not during the sale');
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.waitForURL(/done=rejected/);
    await shownState(page, 'rejected');
    assert.match(await page.locator('.notice').innerText(), /Rejected/);
    await page.goto(`${d.url}/console/runs/${second.id}`);
    await page.getByLabel('Reason to cancel').fill('fixed by hand');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.waitForURL(/done=cancelled/);
    await shownState(page, 'cancelled');
    assert.equal(await page.getByRole('button', { name: /Approve|Reject|Cancel run/ }).count(), 0, 'nothing left to press');
    assert.match((await d.store.getRun(second.id))?.reason ?? '', /cancelled by alice via console: fixed by hand/);
    clean(w);
    await w.context.close();
  });

  test('a viewer sees no buttons, and the API refuses them with 403', async () => {
    const run = await heldRun(d, { deployment: 'for-viewer' });
    const w = await watchedPage(browser, d.url);
    const { page } = w;
    await signInWith(page, d.url, VICTOR_TOKEN);
    await page.goto(`${d.url}/console/runs/${run.id}`);
    await shownState(page, 'awaiting_approval');
    assert.equal(await page.getByRole('button', { name: /Approve|Reject|Cancel run/ }).count(), 0);
    assert.equal(await page.locator('form[action$="/approve"], form[action$="/cancel"]').count(), 0);
    assert.match(await page.locator('.who').innerText(), /victor[\s\S]*\(view\)/);
    await page.goto(`${d.url}/console/guards`);
    assert.equal(await page.getByRole('button', { name: /Pause|Reload|Close the circuit/ }).count(), 0);
    const status = await page.evaluate(
      async ([id, token]) => (await fetch(`/api/runs/${id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status,
      [run.id, VICTOR_TOKEN] as const,
    );
    assert.equal(status, 403);
    clean(w);
    await w.context.close();
  });

  test('a cross-site form post is refused and recorded, and the run stays held', async () => {
    const run = await heldRun(d, { deployment: 'csrf-target' });
    // The attacker's page is on another site (127.0.0.2 is not 127.0.0.1) and posts a form to the console.
    const page0 = `<!doctype html><form id="f" method="post" action="${d.url}/console/runs/${run.id}/approve"><input name="comment" value="pwned"></form><script>document.getElementById('f').submit()</script>`;
    const attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page0));
    attacker.listen(0, '127.0.0.2');
    await once(attacker, 'listening');
    const attackerUrl = `http://127.0.0.2:${(attacker.address() as AddressInfo).port}/`;
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signInWith(page, d.url, ALICE_TOKEN);
      const refused = page.waitForResponse((r) => r.url().endsWith(`/console/runs/${run.id}/approve`));
      await page.goto(attackerUrl);
      assert.equal((await refused).status(), 403);
      assert.match(await page.locator('body').innerText(), /another site/);
    } finally {
      await context.close();
      attacker.closeAllConnections();
      attacker.close();
    }
    assert.equal((await d.store.getRun(run.id))?.state, 'awaiting_approval');
    const recorded = await d.store.listEvents({ kind: 'auth.failed', limit: 100 });
    assert.ok(recorded.some((e) => /^CSRF: the request came from another site/.test(String(e.data['reason']))));
  });

  test('a link from another site (a Slack message) opens the run signed in, though the cookie is SameSite=Strict', async () => {
    const run = await heldRun(d, { deployment: 'linked' });
    const elsewhere = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><a id="l" href="${d.url}/console/runs/${run.id}">run</a>`),
    );
    elsewhere.listen(0, '127.0.0.2');
    await once(elsewhere, 'listening');
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signInWith(page, d.url, ALICE_TOKEN);
      await page.goto(`http://127.0.0.2:${(elsewhere.address() as AddressInfo).port}/`);
      await page.click('#l');
      await page.waitForURL(new RegExp(`/console/runs/${run.id}\\?bounced=1$`));
      await shownState(page, 'awaiting_approval');
      assert.equal(await page.getByRole('button', { name: 'Approve' }).count(), 1, 'signed in as alice');
    } finally {
      await context.close();
      elsewhere.closeAllConnections();
      elsewhere.close();
    }
  });

  test('hostile labels, annotations and generatorURL render as text: no dialog, no foreign request, no CSP violation', async () => {
    const hostile = {
      evil: '<script>alert(1)</script>',
      attr: '"><img src=x onerror=alert(2)>',
      img: '<img src="http://evil.example/p.png">',
      style: '<style>body{display:none}</style>',
    };
    assert.equal(
      (
        await d.post(
          alertPayload('Hostile', hostile, { annotations: { summary: '<iframe src="http://evil.example/"></iframe>' }, generatorURL: 'javascript:alert(3)' }),
        )
      ).status,
      200,
    );
    const run = await until('the hostile run', async () => (await d.api<{ runs: Run[] }>('/api/runs?playbook=observe')).runs[0]);
    const w = await watchedPage(browser, d.url);
    const { page } = w;
    await signInWith(page, d.url, ALICE_TOKEN);
    await page.goto(`${d.url}/console/runs?q=${encodeURIComponent('<script>')}`);
    await page.locator(`tr[data-run="${run.id}"]`).waitFor();
    assert.equal(await page.getByRole('searchbox').inputValue(), '<script>', 'the search is shown back as text');
    await page.goto(`${d.url}/console/runs/${run.id}`);
    const labels = await page.locator('table.pairs').first().innerText();
    for (const v of Object.values(hostile)) assert.ok(labels.includes(v), `shown as text: ${v}`);
    assert.match(await page.locator('#alert-h + *').locator('..').innerText(), /<iframe src="http:\/\/evil.example\/"><\/iframe>/);
    assert.equal(await page.locator('a[href^="javascript:"]').count(), 0, 'a javascript: URL is never a link');
    assert.match(await page.locator('.refused').innerText(), /^javascript:alert\(3\)$/);
    assert.equal(await page.locator('img, iframe, main script, main style').count(), 0, 'nothing from the alert became an element');
    await page.goto(`${d.url}/console/audit?run=${run.id}`);
    assert.match(await page.locator('[data-live="audit"]').innerText(), /<script>alert\(1\)<\/script>/);
    await screenshot(page, 'hostile-audit');
    clean(w);
    await w.context.close();
  });

  test('every page at 1280 px and on a phone: readable without sideways scrolling, times in the viewer zone with UTC on hover (screenshots)', async () => {
    await d.post(alertPayload('Burst', { deployment: 'checkout' }));
    const run = await heldRun(d, { deployment: 'screens' });
    for (const [name, viewport] of [
      ['desktop', { width: 1280, height: 900 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      const w = await watchedPage(browser, d.url, { viewport });
      const { page } = w;
      await page.goto(`${d.url}/console/sign-in`);
      await screenshot(page, `${name}-sign-in`);
      await signInWith(page, d.url, ALICE_TOKEN);
      for (const [shot, pathname] of [
        ['runs', '/console/runs'],
        ['run', `/console/runs/${run.id}`],
        ['waiting', '/console/waiting'],
        ['decisions', '/console/decisions'],
        ['playbooks', '/console/playbooks'],
        ['playbook', '/console/playbooks/rollback'],
        ['guards', '/console/guards'],
        ['audit', '/console/audit'],
      ] as const) {
        await page.goto(`${d.url}${pathname}`);
        await page.locator('main h1').waitFor();
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `${name} ${shot}: ${overflow}px wider than the screen`);
        await screenshot(page, `${name}-${shot}`);
      }
      await page.goto(`${d.url}/console/runs/${run.id}`);
      const created = page.locator('.facts time[data-local]').first();
      const title = (await created.getAttribute('title')) ?? '';
      assert.match(title, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/, 'UTC on hover');
      const shown = await created.innerText();
      assert.notEqual(shown, title, 'shown in the viewer zone (Europe/Berlin here)');
      assert.equal(new Date(Date.parse(`${shown} UTC+1`)).toString() === 'Invalid Date', false);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content', 'the first stop is the skip link');
      clean(w);
      await w.context.close();
    }
  });
});

describe('web console sessions and the proxy in Chromium', { skip: missing !== null }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(() => browser?.close());

  test('an idle session ends on the open page (the stream says so) and on the next page load', async () => {
    const clock = new TestClock();
    const d = await startConsoleDaemon({ clock });
    try {
      const w = await watchedPage(browser, d.url);
      const { page } = w;
      await signInWith(page, d.url, ALICE_TOKEN);
      await page.locator('body[data-live="open"]').waitFor();
      clock.advance(31 * 60_000);
      // Any run change reaches the stream, which checks the session before it sends.
      await d.post(alertPayload('Burst', { deployment: 'after-idle' }));
      await page.locator('body[data-live="ended"]').waitFor();
      assert.match(await page.locator('#live-status').innerText(), /Your session ended\. Live updates stopped\. Sign in again/);
      assert.match((await page.getByRole('link', { name: 'Sign in again' }).getAttribute('href')) ?? '', /^\/console\/sign-in\?next=%2Fconsole%2Fruns$/);
      await page.goto(`${d.url}/console/guards`);
      assert.match(await page.locator('main').innerText(), /Your session ended after a while without activity/);
      clean(w);
      await w.context.close();
    } finally {
      await stopConsoleDaemon(d);
    }
  });

  test('the proxy header signs in only from the configured address, view-only', async () => {
    const trusted = await startConsoleDaemon({ config: { auth: { proxy: { header: 'X-Forwarded-User', from: ['127.0.0.1'] } } } });
    const elsewhere = await startConsoleDaemon({ config: { auth: { proxy: { header: 'X-Forwarded-User', from: ['127.0.0.2'] } } } });
    try {
      const run = await heldRun(trusted, { deployment: 'proxied' });
      const a = await watchedPage(browser, trusted.url, { headers: { 'X-Forwarded-User': 'carol' } });
      await a.page.goto(`${trusted.url}/console/runs/${run.id}`);
      assert.match(await a.page.locator('.who').innerText(), /carol[\s\S]*\(view\)/);
      assert.equal(await a.page.getByRole('button', { name: /Approve|Reject|Cancel run/ }).count(), 0, 'view only unless granted more');
      clean(a);
      await a.context.close();
      const b = await watchedPage(browser, elsewhere.url, { headers: { 'X-Forwarded-User': 'carol' } });
      await b.page.goto(`${elsewhere.url}/console/runs`);
      assert.match(b.page.url(), /\/console\/sign-in/, 'the header from an address not configured signs nobody in');
      clean(b);
      await b.context.close();
    } finally {
      await stopConsoleDaemon(trusted);
      await stopConsoleDaemon(elsewhere);
    }
  });
});
