import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Run } from '../../../src/domain/run.js';
import { CONTENT_SECURITY_POLICY } from '../../../src/http/console/console-router.js';
import {
  ALICE_TOKEN,
  alertPayload,
  consoleFetch,
  signIn,
  startConsoleDaemon,
  stopConsoleDaemon,
  TestClock,
  VICTOR_TOKEN,
  type HttpSession,
} from '../../support/console-daemon.js';
import type { TestDaemon } from '../../support/test-daemon.js';
import { until } from '../../support/until.js';

/** A held run of the rollback playbook. */
async function heldRun(d: TestDaemon, deployment = 'checkout'): Promise<Run> {
  assert.equal((await d.post(alertPayload('Burst', { deployment }))).status, 200);
  return until('a held run', async () =>
    (await d.api<{ runs: Run[] }>('/api/runs?status=awaiting_approval')).runs.find((r) => r.labels['deployment'] === deployment),
  );
}

async function events(d: TestDaemon, kind: string) {
  return d.store.listEvents({ kind, limit: 100 });
}

describe('web console over HTTP: pages, sign-in, roles, CSRF', () => {
  let d: TestDaemon;
  let alice: HttpSession;
  let victor: HttpSession;
  before(async () => {
    d = await startConsoleDaemon();
    alice = await signIn(d, ALICE_TOKEN);
    victor = await signIn(d, VICTOR_TOKEN);
  });
  after(() => stopConsoleDaemon(d));

  test('the root redirects to the console; a page without a session goes to sign-in, keeping where it was', async () => {
    const root = await fetch(`${d.url}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/console/runs');
    const page = await fetch(`${d.url}/console/guards`, { redirect: 'manual' });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/console/sign-in?next=%2Fconsole%2Fguards');
    const stream = await fetch(`${d.url}/console/events`, { headers: { accept: 'text/event-stream' } });
    assert.equal(stream.status, 401);
  });

  test('every page carries the strict CSP and no inline script or style', async () => {
    const run = await heldRun(d, 'csp-check');
    for (const p of [
      '/console/runs',
      `/console/runs/${run.id}`,
      '/console/waiting',
      '/console/decisions',
      '/console/playbooks',
      '/console/playbooks/rollback',
      '/console/guards',
      '/console/audit',
    ]) {
      const res = await consoleFetch(d, alice, p);
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, p);
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      const body = await res.text();
      assert.doesNotMatch(body, /<script(?![^>]*\bsrc="\/console\/assets\/console\.js")/, `${p}: only our script file`);
      assert.doesNotMatch(body, /\sstyle=|\son[a-z]+=/i, `${p}: no style or event-handler attributes`);
      assert.doesNotMatch(body, /https?:\/\/(?!127\.0\.0\.1)[^"'\s<]*\.(css|js|woff2?)/, `${p}: nothing from elsewhere`);
    }
    assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe/);
    const css = await fetch(`${d.url}/console/assets/console.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
  });

  test('sign-in: the session cookie is HttpOnly and SameSite=Strict; a wrong token and a forged form are refused and recorded', async () => {
    const form = await fetch(`${d.url}/console/sign-in`);
    const formCookie = (form.headers.getSetCookie()[0] ?? '').split(';')[0] as string;
    const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    const post = (fields: Record<string, string>, cookie = formCookie) =>
      fetch(`${d.url}/console/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams(fields),
      });
    const wrong = await post({ _csrf: token, token: 'not-a-token-at-all-000000' });
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /not one of the API tokens/);
    const forged = await post({ _csrf: 'guess', token: ALICE_TOKEN });
    assert.equal(forged.status, 403);
    const failures = (await events(d, 'auth.failed')).filter((e) => e.data['endpoint'] === 'console').map((e) => String(e.data['reason']));
    assert.ok(
      failures.some((r) => r === 'sign-in with a wrong API token'),
      failures.join('; '),
    );
    const ok = await post({ _csrf: token, token: ALICE_TOKEN, next: 'https://evil.example/' });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/console/runs', 'never redirected to another site');
    const cookie = ok.headers.getSetCookie().find((c) => c.startsWith('remediator_session=')) ?? '';
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; Path=\/console/);
    assert.doesNotMatch(cookie, /Secure/, 'plain http: not Secure');
    const started = await events(d, 'session.started');
    assert.ok(started.some((e) => e.data['identity'] === 'alice' && e.data['source'] === 'token'));
  });

  test('a viewer sees no buttons, is refused by the console and by the API with 403 naming the role, and each refusal is recorded', async () => {
    const run = await heldRun(d, 'viewer-check');
    const page = await (await consoleFetch(d, victor, `/console/runs/${run.id}`)).text();
    assert.match(page, /victor/);
    assert.doesNotMatch(page, /<form[^>]*\/(approve|reject|cancel)"/, 'no decide or cancel form');
    assert.doesNotMatch(page, /<button[^>]*>(Approve|Reject|Cancel run)</);
    const refused = await consoleFetch(d, victor, `/console/runs/${run.id}/approve`, { _csrf: victor.csrf, comment: 'me too' });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /victor lacks the role &quot;approve&quot;/);
    const api = await fetch(`${d.url}/api/runs/${run.id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${VICTOR_TOKEN}` } });
    assert.equal(api.status, 403);
    assert.match(((await api.json()) as { error: { message: string } }).error.message, /victor lacks the role "approve"/);
    const pause = await fetch(`${d.url}/api/pause`, {
      method: 'POST',
      headers: { authorization: `Bearer ${VICTOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ for: '1h', reason: 'x' }),
    });
    assert.equal(pause.status, 403);
    assert.equal((await fetch(`${d.url}/api/runs/${run.id}`, { headers: { authorization: `Bearer ${VICTOR_TOKEN}` } })).status, 200, 'viewing is allowed');
    const forbidden = await until('the refusals recorded', async () => {
      const e = await events(d, 'auth.forbidden');
      return e.length >= 3 ? e : null;
    });
    assert.deepEqual(
      forbidden.map((e) => [e.data['endpoint'], e.data['identity'], e.data['role']]),
      [
        ['console', 'victor', 'approve'],
        ['api', 'victor', 'approve'],
        ['api', 'victor', 'operate'],
      ],
    );
    assert.equal((await d.store.getRun(run.id))?.state, 'awaiting_approval');
  });

  test('CSRF: a post without the token, with a wrong one, from another origin or another site is refused, recorded, and changes nothing', async () => {
    const run = await heldRun(d, 'csrf-check');
    const cases: [Record<string, string>, Record<string, string>, RegExp][] = [
      [{ comment: 'no token' }, {}, /CSRF token is missing or wrong/],
      [{ _csrf: 'wrong', comment: 'wrong token' }, {}, /CSRF token is missing or wrong/],
      [{ _csrf: alice.csrf }, { origin: 'http://evil.example' }, /another origin/],
      [{ _csrf: alice.csrf }, { 'sec-fetch-site': 'cross-site' }, /another site/],
    ];
    for (const [fields, headers, reason] of cases) {
      const res = await consoleFetch(d, alice, `/console/runs/${run.id}/approve`, fields, headers);
      assert.equal(res.status, 403, JSON.stringify(fields));
      assert.match(await res.text(), reason);
    }
    assert.equal((await d.store.getRun(run.id))?.state, 'awaiting_approval');
    const csrf = (await events(d, 'auth.failed')).filter((e) => String(e.data['reason']).startsWith('CSRF'));
    assert.ok(csrf.length >= 1, 'recorded (one record a minute per source, with the count of the others)');
  });

  test('alice approves with a comment through the console; the run goes on and the approval says console', async () => {
    const run = await heldRun(d, 'approve-check');
    const res = await consoleFetch(d, alice, `/console/runs/${run.id}/approve`, { _csrf: alice.csrf, comment: 'looks right' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/console/runs/${run.id}?done=approved`);
    const done = await until('succeeded', async () => {
      const r = await d.store.getRun(run.id);
      return r?.state === 'succeeded' ? r : null;
    });
    assert.deepEqual(
      done.approvals.map((a) => [a.decision, a.decidedBy, a.decidedVia, a.comment]),
      [['approved', 'alice', 'console', 'looks right']],
    );
    const again = await consoleFetch(d, alice, `/console/runs/${run.id}/approve`, { _csrf: alice.csrf });
    assert.equal(again.status, 409);
    assert.match(await again.text(), /already approved by alice via console/);
  });

  test('guards from the console: pause with a reason, resume; a bad duration is said plainly', async () => {
    const bad = await consoleFetch(d, alice, '/console/guards/pause', { _csrf: alice.csrf, for: 'soon', reason: 'deploy' });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /for must be a duration/);
    const paused = await consoleFetch(d, alice, '/console/guards/pause', { _csrf: alice.csrf, for: '30m', reason: 'cluster upgrade' });
    assert.equal(paused.status, 303);
    const guards = await (await consoleFetch(d, alice, '/console/guards')).text();
    assert.match(guards, /Paused<\/strong> by alice/);
    assert.match(guards, /cluster upgrade/);
    assert.equal((await events(d, 'paused')).at(-1)?.data['via'], 'console');
    assert.equal((await consoleFetch(d, alice, '/console/guards/resume', { _csrf: alice.csrf })).status, 303);
    assert.doesNotMatch(await (await consoleFetch(d, alice, '/console/guards')).text(), /Paused<\/strong>/);
  });

  test('runs page filters by state, mode and text; the audit verify runs on demand', async () => {
    await heldRun(d, 'searchable-one');
    const found = await (await consoleFetch(d, alice, '/console/runs?q=deployment%3Dsearchable-one&mode=live&state=awaiting_approval')).text();
    assert.match(found, /data-run="r_/);
    const none = await (await consoleFetch(d, alice, '/console/runs?q=deployment%3Dnope&mode=live')).text();
    assert.doesNotMatch(none, /data-run="r_/);
    assert.equal((await consoleFetch(d, alice, '/console/runs?state=done')).status, 400);
    const verify = await consoleFetch(d, alice, '/console/audit/verify', { _csrf: alice.csrf });
    assert.equal(verify.status, 303);
    assert.match(await (await consoleFetch(d, alice, '/console/audit')).text(), /Intact: \d+ event\(s\)/);
    const exported = await consoleFetch(d, alice, '/console/audit/export');
    assert.equal(exported.status, 200);
    const lines = (await exported.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; hash: string });
    assert.ok(lines.length > 5);
    assert.deepEqual(
      lines.slice(0, 3).map((l) => l.id),
      [1, 2, 3],
    );
  });
});

describe('web console sessions: expiry, sign-out, the stream', () => {
  let d: TestDaemon;
  const clock = new TestClock();
  before(async () => {
    d = await startConsoleDaemon({ clock, config: { console: { sessionIdle: '30m', sessionMax: '2h' } } });
  });
  after(() => stopConsoleDaemon(d));

  test('a session unused for the idle time ends; activity keeps it, up to its maximum age', async () => {
    const s = await signIn(d, ALICE_TOKEN);
    clock.advance(29 * 60_000);
    const used = await consoleFetch(d, s, '/console/runs');
    assert.equal(used.status, 200, `used within 30m: ${used.headers.get('location')}`);
    clock.advance(29 * 60_000);
    assert.equal((await consoleFetch(d, s, '/console/runs', undefined, { 'x-console-background': '1' })).status, 200, 'still within 30m of the last use');
    clock.advance(2 * 60_000);
    const idle = await consoleFetch(d, s, '/console/runs');
    assert.equal(idle.status, 303, 'a background refresh is not activity: 31m since the last use');
    assert.equal(idle.headers.get('location'), '/console/sign-in?next=%2Fconsole%2Fruns&why=idle');

    const busy = await signIn(d, ALICE_TOKEN);
    for (let i = 0; i < 4; i++) {
      clock.advance(25 * 60_000);
      assert.equal((await consoleFetch(d, busy, '/console/runs')).status, 200);
    }
    clock.advance(25 * 60_000);
    const expired = await consoleFetch(d, busy, '/console/runs');
    assert.equal(expired.headers.get('location'), '/console/sign-in?next=%2Fconsole%2Fruns&why=expired', 'ended after 2h however busy');
  });

  test('signing out ends the session and its open stream', async () => {
    const s = await signIn(d, ALICE_TOKEN);
    const controller = new AbortController();
    const stream = await fetch(`${d.url}/console/events`, { headers: { cookie: s.cookie, accept: 'text/event-stream' }, signal: controller.signal });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = stream.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let text = '';
    const read = async (what: RegExp) => {
      while (!what.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
      return text;
    };
    assert.equal((await d.post(alertPayload('Burst', { deployment: 'streamed' }))).status, 200);
    assert.match(await read(/event: run\ndata: r_/), /event: run\ndata: r_/, 'a run change reaches the open page');
    assert.equal((await consoleFetch(d, s, '/console/sign-out', { _csrf: s.csrf })).headers.get('location'), '/console/sign-in?why=signed-out');
    assert.equal((await consoleFetch(d, s, '/console/runs')).status, 303, 'the cookie no longer signs in');
    assert.equal((await d.post(alertPayload('Burst', { deployment: 'after-sign-out' }))).status, 200);
    assert.match(await read(/event: ended/), /event: ended/);
    controller.abort();
    assert.ok((await events(d, 'session.ended')).some((e) => e.data['reason'] === 'signed out'));
  });
});

describe('web console behind an authenticating proxy', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startConsoleDaemon({
      config: { auth: { roles: { victor: ['view'], dora: ['approve'] }, proxy: { header: 'X-Forwarded-User', from: ['127.0.0.2'] } } },
    });
  });
  after(() => stopConsoleDaemon(d));

  /** GET through a chosen local address (127.0.0.0/8 is all loopback on Linux). */
  function getFrom(localAddress: string, pathname: string, user: string): Promise<{ status: number; location: string | undefined; body: string }> {
    const url = new URL(pathname, d.url);
    return new Promise((resolve, reject) => {
      const req = http.get(
        { host: url.hostname, port: url.port, path: url.pathname, localAddress, headers: { 'x-forwarded-user': user, accept: 'text/html' } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
        },
      );
      req.on('error', reject);
    });
  }

  test('the header is honoured only from the configured address; proxy identities view unless granted more', async () => {
    const carol = await getFrom('127.0.0.2', '/console/runs', 'carol');
    assert.equal(carol.status, 200);
    assert.match(carol.body, /<span class="identity">carol<\/span> <span class="roles">\(view\)<\/span>/);
    const dora = await getFrom('127.0.0.2', '/console/waiting', 'dora');
    assert.match(dora.body, /\(view, approve\)/, 'granted in auth.roles');
    const stranger = await getFrom('127.0.0.1', '/console/runs', 'alice');
    assert.equal(stranger.status, 303, 'the same header from elsewhere signs nobody in');
    assert.match(stranger.location ?? '', /^\/console\/sign-in/);
    const ignored = await until('the ignored header recorded', async () =>
      (await events(d, 'auth.failed')).find((e) =>
        /X-Forwarded-User header from 127\.0\.0\.1, which is not in auth\.proxy\.from/.test(String(e.data['reason'])),
      ),
    );
    assert.equal(ignored.data['endpoint'], 'console');
  });
});

test('publicUrl on https makes the session cookie Secure', async () => {
  const d = await startConsoleDaemon({ config: { publicUrl: 'https://remediator.example.com' } });
  try {
    const form = await fetch(`${d.url}/console/sign-in`);
    assert.match(form.headers.getSetCookie()[0] ?? '', /; Secure/);
  } finally {
    await stopConsoleDaemon(d);
  }
});

test('GET /api/runs searches like the console: mode and q, with partial when the window ends first', async () => {
  const d = await startConsoleDaemon();
  try {
    assert.equal((await d.post(alertPayload('Burst', { deployment: 'api-search' }))).status, 200);
    await until('the run', async () => (await d.api<{ runs: Run[] }>('/api/runs')).runs.length > 0);
    const hit = await d.api<{ runs: Run[]; partial?: boolean }>('/api/runs?mode=live&q=deployment%3Dapi-search');
    assert.deepEqual(
      hit.runs.map((r) => r.labels['deployment']),
      ['api-search'],
    );
    assert.equal(hit.partial, undefined, 'fewer runs than the window: nothing left to search');
    assert.equal((await d.api<{ runs: Run[] }>('/api/runs?mode=dry&q=api-search')).runs.length, 0);
    const bad = await fetch(`${d.url}/api/runs?mode=both`, { headers: { authorization: `Bearer ${ALICE_TOKEN}` } });
    assert.equal(bad.status, 400);
  } finally {
    await stopConsoleDaemon(d);
  }
});
