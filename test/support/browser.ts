import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from './fixtures.js';

/** Debian's chromium (`apt-get install chromium`); REMEDIATOR_TEST_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env['REMEDIATOR_TEST_CHROMIUM'] ?? '/usr/bin/chromium';
/** Flags for a headless Chromium on a machine without a display, a sandbox or a network. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Where screenshots go: test artifacts, ignored by git. */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'console');

/**
 * Why browser tests cannot run here, or null when they can. Without Chromium a test prints one
 * "skipped:" line, except in CI, where it fails instead (.ci/run installs it).
 */
export function chromiumMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set REMEDIATOR_TEST_CHROMIUM)`;
  if (process.env['CI']) throw new Error(why.replace('skipped: ', 'CI needs Chromium: '));
  return why;
}

/** Launches the real Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}

/** A page that records what must never happen on a console page. */
export interface WatchedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Dialogs opened, requests to other origins, CSP violations, script errors: each a failure. */
  readonly problems: string[];
}

/**
 * A fresh context (its own cookie jar) and page on `origin`, watching for dialogs (an injected
 * alert()), requests anywhere but `origin` (an injected image or script), CSP violations (both the
 * event in the page and Chromium's console report) and uncaught script errors.
 */
export async function watchedPage(
  browser: Browser,
  origin: string,
  options: { viewport?: { width: number; height: number }; headers?: Record<string, string> } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    timezoneId: 'Europe/Berlin',
    locale: 'en-GB',
    ...(options.headers ? { extraHTTPHeaders: options.headers } : {}),
  });
  const page = await context.newPage();
  const problems: string[] = [];
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  page.on('dialog', (d) => {
    problems.push(`dialog opened: ${d.type()} ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('about:')) problems.push(`request to another origin: ${url}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|CSP violation/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  return { page, context, problems };
}

/** Saves a screenshot of the page as a test artifact (not committed). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
