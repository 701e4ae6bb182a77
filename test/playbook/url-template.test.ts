import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePlaybook } from '../../src/playbook/loader.js';
import { parseTemplate, type Resolve } from '../../src/playbook/template.js';
import { renderUrlTemplate, urlRefComponents, UrlValueError } from '../../src/playbook/url-template.js';

const ATTACK = '../../../internal/admin/delete-all?confirm=yes#';
const values =
  (v: Record<string, string>): Resolve =>
  (path) =>
    v[path.join('.')];
const render = (url: string, v: Record<string, string>) => renderUrlTemplate(parseTemplate(url), values(v)).text;

describe('URL templates: a value is data in one component, never URL syntax', () => {
  test('a path value that climbs and adds a query stays one path segment', () => {
    const url = render('https://am.example/api/alerts/{{ steps.probe.stdout }}/silence', { 'steps.probe.stdout': ATTACK });
    assert.equal(url, 'https://am.example/api/alerts/..%2F..%2F..%2Finternal%2Fadmin%2Fdelete-all%3Fconfirm%3Dyes%23/silence');
    const parsed = new URL(url);
    assert.equal(parsed.pathname, '/api/alerts/..%2F..%2F..%2Finternal%2Fadmin%2Fdelete-all%3Fconfirm%3Dyes%23/silence');
    assert.equal(parsed.search, '');
    assert.equal(parsed.hash, '');
  });

  const cases: [string, string, Record<string, string>, string][] = [
    ['a query value cannot add parameters', 'https://x/q?a={{ v }}&b=2', { v: 'x&admin=1#f' }, 'https://x/q?a=x%26admin%3D1%23f&b=2'],
    ['a fragment value is encoded', 'https://x/p#{{ v }}', { v: 'a b#c' }, 'https://x/p#a%20b%23c'],
    ['a backslash (a slash to WHATWG URL) is encoded', 'https://x/{{ v }}/y', { v: '..\\..\\admin' }, 'https://x/..%5C..%5Cadmin/y'],
    ['unicode and spaces', 'https://x/{{ v }}', { v: 'café au lait' }, 'https://x/caf%C3%A9%20au%20lait'],
    [
      'a host param with host characters, and a port',
      'https://{{ h }}:{{ p }}/x',
      { h: 'svc.ns.cluster.local', p: '8443' },
      'https://svc.ns.cluster.local:8443/x',
    ],
    ['literal text is kept as written', 'https://x/a%2Fb/{{ v }}?k=v', { v: 'ok' }, 'https://x/a%2Fb/ok?k=v'],
  ];
  for (const [what, url, v, expected] of cases) {
    test(what, () => assert.equal(render(url, v), expected));
  }

  test('a value that is a whole "." or ".." segment is refused: it would move the request', () => {
    assert.throws(() => render('https://x/api/{{ v }}/admin', { v: '..' }), UrlValueError);
    assert.throws(() => render('https://x/api/{{ v }}', { v: '.' }), /"\." path segment/);
  });

  test('a host value with characters a host cannot have is refused', () => {
    assert.throws(() => render('https://{{ h }}/x', { h: 'evil.example/' }), /scheme or host/);
    assert.throws(() => render('https://{{ h }}/x', { h: 'user@evil.example' }), UrlValueError);
  });

  test('each reference is placed by the literal text before it', () => {
    assert.deepEqual(
      urlRefComponents(parseTemplate('{{ a }}://{{ b }}:{{ c }}/{{ d }}?q={{ e }}#{{ f }}')).map((r) => [r.path.join('.'), r.component]),
      [
        ['a', 'scheme'],
        ['b', 'authority'],
        ['c', 'authority'],
        ['d', 'path'],
        ['e', 'query'],
        ['f', 'fragment'],
      ],
    );
  });
});

describe('validate: a template in a URL scheme or host must be a param with a pattern', () => {
  const errorsOf = (url: string) => {
    const { errors } = parsePlaybook(
      `name: t
match: { alertname: A }
params:
  host: { from: labels.host, pattern: '[a-z0-9.-]+' }
  port: { from: labels.port, type: integer }
steps:
  - name: probe
    readOnly: true
    run: [echo, x]
  - http: { method: GET, url: '${url}' }
`,
      't.yaml',
    );
    return errors.map((e) => e.message);
  };
  test('an earlier step output in the host is refused, saying what to do', () => {
    const [error] = errorsOf('http://{{ steps.probe.stdout }}/x');
    assert.match(
      error ?? '',
      /\{\{ steps\.probe\.stdout \}\} stands in the URL's host, which decides where the request goes: .*param checked against a pattern/,
    );
  });
  test('a secret as the whole URL is refused (it stands in the scheme)', () => {
    assert.match(errorsOf('{{ secrets.HOOK }}')[0] ?? '', /stands in the URL's scheme/);
  });
  test('a param with a pattern, or an integer param for the port, is allowed; values in the path are', () => {
    assert.deepEqual(errorsOf('https://{{ params.host }}:{{ params.port }}/a/{{ steps.probe.stdout }}?s={{ secrets.T }}'), []);
  });
});
