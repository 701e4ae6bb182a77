import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigInput } from '../../src/config/config-schema.js';
import { fixture, ROOT } from './fixtures.js';
import { API_TOKEN, removeDir, startTestDaemon, type TestDaemon } from './test-daemon.js';

/** Tokens of the console tests' people: alice may do everything, victor only look. */
export const ALICE_TOKEN = 'alice-token-for-console-tests-01';
export const VICTOR_TOKEN = 'victor-token-for-console-tests-1';

const NODE = process.execPath;
const SCRIPTS = path.join(ROOT, 'test', 'fixtures', 'scripts');
/** Exits at once, or (first argument "yes") once the file named by the second exists. */
const WAIT_FOR_RELEASE =
  'const fs = require("node:fs"); if (process.argv[1] === "yes") { const t = setInterval(() => { if (fs.existsSync(process.argv[2])) clearInterval(t); }, 50); }';

/** The file whose creation lets a run of an alert labelled hold=yes finish its step. */
export function releaseFile(dir: string): string {
  return path.join(dir, 'release');
}

/** A clock the test moves: real time plus an offset (sessions expire without waiting). */
export class TestClock {
  offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/**
 * Playbooks for the console tests: `rollback` holds for approval after a read-only look and then
 * acts (a line appended to a file); `slow-restart` runs a step that waits for a file, so a run
 * can be caught running; `observe` is a dry-run playbook for alerts with hostile labels.
 */
export function consolePlaybooks(dir: string): string {
  const books = path.join(dir, 'playbooks');
  mkdirSync(books, { recursive: true });
  const log = path.join(dir, 'actions.log');
  const release = releaseFile(dir);
  writeFileSync(
    path.join(books, 'rollback.yaml'),
    `name: rollback
description: Roll back a deployment after a person approves.
owner: platform
match: { alertname: Burst }
mode: approve
approval: { timeout: 15m, approvers: [alice] }
params:
  deployment: { from: labels.deployment, pattern: '[a-z-]+' }
  hold: { from: labels.hold, pattern: '(yes|no)', default: 'no' }
steps:
  - name: inspect
    readOnly: true
    run: [${NODE}, -e, 'process.stdout.write("revision 41 of " + process.argv[1])', '{{ params.deployment }}']
  - name: undo
    # With the label hold=yes the step runs until the test creates the release file.
    run: [${NODE}, -e, '${WAIT_FOR_RELEASE}', '{{ params.hold }}', ${release}]
  - name: record
    run: [${NODE}, ${SCRIPTS}/append-line.mjs, ${log}, 'undo {{ params.deployment }}']
`,
  );
  writeFileSync(
    path.join(books, 'observe.yaml'),
    `name: observe
description: Look, never act.
match: { alertname: Hostile }
mode: dry-run
steps:
  - notify: { text: 'seen {{ labels.evil }}' }
`,
  );
  return books;
}

/** A live daemon on the console playbooks, with alice (every role), victor (view) and the tests' own token (TestDaemon.api). */
export async function startConsoleDaemon(options: { clock?: TestClock; config?: ConfigInput } = {}): Promise<TestDaemon> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-console-'));
  return startTestDaemon({
    dir,
    playbooks: consolePlaybooks(dir),
    config: { execution: 'live', auth: { roles: { victor: ['view'] } }, ...options.config },
    env: { PATH: process.env['PATH'] },
    secrets: {
      apiTokens: [
        { identity: 'tester', token: API_TOKEN },
        { identity: 'alice', token: ALICE_TOKEN },
        { identity: 'victor', token: VICTOR_TOKEN },
      ],
    },
    ...(options.clock ? { clock: options.clock.now } : {}),
  });
}

/** Stops a console daemon and removes its directory. */
export async function stopConsoleDaemon(d: TestDaemon | undefined): Promise<void> {
  if (!d) return;
  await d.close();
  removeDir(d.dir);
}

let counter = 0;

/** A firing alert for `alertname`, with its own fingerprint; labels and annotations as given. */
export function alertPayload(
  alertname: string,
  labels: Record<string, string> = {},
  extra: { annotations?: Record<string, string>; generatorURL?: string } = {},
) {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[]; status: string };
  const alert = p.alerts[0] as Record<string, unknown>;
  alert['labels'] = { alertname, ...labels };
  alert['annotations'] = extra.annotations ?? { summary: `${alertname} fired` };
  alert['fingerprint'] = `c${(counter++).toString(16).padStart(15, '0')}`;
  alert['startsAt'] = new Date(Date.now() - 60_000).toISOString();
  if (extra.generatorURL !== undefined) alert['generatorURL'] = extra.generatorURL;
  p.status = 'firing';
  return p;
}

/** A signed-in console session over plain HTTP: its cookie and CSRF token. */
export interface HttpSession {
  readonly cookie: string;
  readonly csrf: string;
}

/** Signs in to the console with a token, as the sign-in form does (its own CSRF cookie included). */
export async function signIn(d: { readonly url: string }, token: string): Promise<HttpSession> {
  const form = await fetch(`${d.url}/console/sign-in`);
  const formCookie = (form.headers.getSetCookie()[0] ?? '').split(';')[0] as string;
  const formToken = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const res = await fetch(`${d.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: formCookie },
    body: new URLSearchParams({ _csrf: formToken, token, next: '/console/runs' }),
  });
  const cookie = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('remediator_session='))
    ?.split(';')[0];
  if (res.status !== 303 || !cookie) throw new Error(`sign-in failed: ${res.status}`);
  const page = await fetch(`${d.url}/console/runs`, { headers: { cookie } });
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(await page.text())?.[1];
  if (!csrf) throw new Error('no CSRF token on the runs page');
  return { cookie, csrf };
}

/** A console request with the session's cookie (and, for a form post, the fields given). */
export function consoleFetch(
  d: TestDaemon,
  s: HttpSession,
  pathname: string,
  form?: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${d.url}${pathname}`, {
    redirect: 'manual',
    headers: { cookie: s.cookie, accept: 'text/html', ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers },
    ...(form ? { method: 'POST', body: new URLSearchParams(form) } : {}),
  });
}
