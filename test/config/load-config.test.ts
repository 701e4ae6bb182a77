import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadConfig, parseListen } from '../../src/config/load-config.js';

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
    webhook: { maxBodyBytes: 1048576 },
    auth: { generateTokens: false },
  });
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

test('parseListen splits host and port, IPv6 included', () => {
  assert.deepEqual(parseListen('127.0.0.1:9595'), { host: '127.0.0.1', port: 9595 });
  assert.deepEqual(parseListen('[::1]:80'), { host: '::1', port: 80 });
  assert.deepEqual(parseListen(':9595'), { host: '0.0.0.0', port: 9595 });
});
