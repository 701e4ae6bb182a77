import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../../src/config/config-schema.js';
import { loadConfig } from '../../src/config/load-config.js';
import { RolePolicy } from '../../src/http/roles.js';

test('roles: tokens hold every role by default, proxies view; a grant names exactly its roles, through groups too', () => {
  const policy = new RolePolicy({
    grants: { victor: ['view'], oncall: ['approve'], nobody: [], ops: ['operate'] },
    tokenDefault: ['view', 'approve', 'operate'],
    proxyDefault: ['view'],
    groups: { oncall: ['bob', 'carol'], ops: ['carol'] },
  });
  const cases: [string, 'token' | 'proxy', string[]][] = [
    ['alice', 'token', ['view', 'approve', 'operate']],
    ['alice', 'proxy', ['view']],
    ['victor', 'token', ['view']],
    ['bob', 'proxy', ['view', 'approve']],
    ['carol', 'token', ['view', 'approve', 'operate']],
    ['nobody', 'token', []],
  ];
  for (const [identity, source, roles] of cases) assert.deepEqual(policy.principal(identity, source).roles, roles, `${identity} via ${source}`);
  // A group named like a property of every object is not a grant.
  assert.deepEqual(new RolePolicy().principal('constructor', 'proxy').roles, ['view']);
});

test('configuration: auth.roles, tokenRoles and the proxy are checked, also from the environment', () => {
  const config = loadConfig(
    {},
    {
      REMEDIATOR_AUTH_ROLES: '{alice: [approve], auditor: [view]}',
      REMEDIATOR_AUTH_TOKEN_ROLES: 'view, approve',
      REMEDIATOR_AUTH_PROXY_HEADER: 'X-Forwarded-User',
      REMEDIATOR_AUTH_PROXY_FROM: '127.0.0.1, 10.0.0.0/8, fd00::/8',
      REMEDIATOR_CONSOLE_SESSION_IDLE: '15m',
    },
  );
  assert.deepEqual(config.auth.roles, { alice: ['approve'], auditor: ['view'] });
  assert.deepEqual(config.auth.tokenRoles, ['view', 'approve']);
  assert.deepEqual(config.auth.proxy, { header: 'X-Forwarded-User', from: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8'], roles: ['view'] });
  assert.equal(config.console.sessionIdle, 15 * 60_000);
  assert.equal(config.console.sessionMax, 12 * 3_600_000);

  const bad: [unknown, RegExp][] = [
    [{ auth: { roles: { alice: ['admin'] } } }, /auth\.roles\.alice\.0/],
    [{ auth: { proxy: { header: 'X-Forwarded-User' } } }, /needs auth\.proxy\.from/],
    [{ auth: { proxy: { header: 'X-Forwarded-User', from: ['10.0.0.0/33'] } } }, /IP address or a CIDR range/],
    [{ auth: { proxy: { header: 'X-Forwarded-User', from: ['proxy.internal'] } } }, /IP address or a CIDR range/],
    [{ console: { sessionIdle: '0s' } }, /above zero/],
  ];
  for (const [input, message] of bad) {
    const r = configSchema.safeParse(input);
    assert.equal(r.success, false, JSON.stringify(input));
    assert.match(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') ?? '', message);
  }
});
