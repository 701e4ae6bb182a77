import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { eventHash } from '../../src/domain/audit-chain.js';
import { runCli } from '../support/cli.js';
import { eventOfRow } from '../support/db.js';
import { fixture } from '../support/fixtures.js';
import { removeDir, startTestDaemon } from '../support/test-daemon.js';

/**
 * Someone who can write the database but does not hold the key: they can edit an event and
 * rehash everything after it, or cut the tail off and rewrite the head — the chain verifies
 * either way — but not move a signed checkpoint. `audit verify --checkpoints … --key …` holds the
 * chain to them, and the daemon checks the tail since the last one before it starts.
 */
let scratch: string;
let secretsDir: string;
let checkpoints: string;
let publicKey: string;
let wrongKey: string;
let db: string;
const config = () => ({ secretsDir, audit: { checkpoints: { file: checkpoints, every: '1h' } } });

function keyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey: pub } = generateKeyPairSync('ed25519');
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicPem: pub.export({ type: 'spki', format: 'pem' }).toString() };
}

const alert = (i: number) => {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[] };
  (p.alerts[0] as Record<string, unknown>)['fingerprint'] = i.toString(16).padStart(16, 'c');
  return p;
};

before(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'remediator-checkpoints-'));
  secretsDir = path.join(scratch, 'secrets');
  mkdirSync(secretsDir);
  const keys = keyPair();
  writeFileSync(path.join(secretsDir, 'audit-checkpoint-key'), keys.privatePem, { mode: 0o600 });
  publicKey = path.join(scratch, 'checkpoint.pub');
  writeFileSync(publicKey, keys.publicPem);
  wrongKey = path.join(scratch, 'wrong.pub');
  writeFileSync(wrongKey, keyPair().publicPem);
  checkpoints = path.join(scratch, 'checkpoints.jsonl');
  // Two lives of the daemon: each signs the head when it starts and when it stops.
  const dir = path.join(scratch, 'daemon');
  mkdirSync(dir);
  for (const round of [0, 1]) {
    const d = await startTestDaemon({ dir, config: config() });
    for (let i = 0; i < 3; i++) assert.equal((await d.post(alert(round * 10 + i))).status, 200);
    await d.settled();
    await d.close();
    db = d.db;
  }
});
after(() => removeDir(scratch));

const verify = (file: string, key = publicKey) => runCli(['audit', 'verify', '--db', file, '--checkpoints', checkpoints, '--key', key]);

function copy(): string {
  const file = path.join(scratch, `copy-${Math.random().toString(16).slice(2)}.db`);
  copyFileSync(db, file);
  return file;
}

/** Edits event k and rebuilds every hash after it and the head, as someone who knows the algorithm would. */
function rehashFrom(file: string, k: number): void {
  const d = new Database(file);
  d.exec('DROP TRIGGER events_no_update');
  const rows = d.prepare('SELECT * FROM events WHERE id >= ? ORDER BY id').all(k) as Record<string, string | number | null>[];
  let prevHash = String(rows[0]?.['prev_hash']);
  let last = '';
  for (const row of rows) {
    const data = JSON.parse(String(row['data'])) as Record<string, unknown>;
    if (row['id'] === k) data['forged'] = true;
    const e = eventOfRow(row, data, prevHash);
    last = eventHash(e);
    d.prepare('UPDATE events SET data = ?, prev_hash = ?, hash = ? WHERE id = ?').run(JSON.stringify(data), prevHash, last, e.id);
    prevHash = last;
  }
  d.prepare('UPDATE audit_head SET last_hash = ?').run(last);
  d.close();
}

describe('audit checkpoints against someone who can write the database', { timeout: 120_000 }, () => {
  test('the daemon signed the head at each start and stop; the untouched chain verifies against them', async () => {
    const lines = readFileSync(checkpoints, 'utf8').trim().split('\n');
    assert.equal(lines.length, 4);
    const r = await verify(db);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^audit trail intact: \d+ events/);
    assert.match(r.stdout, /checkpoints: 4 signed by key [0-9a-f]{16}, 4 matched the chain\n$/);
  });

  test('an event edited and everything after it rehashed: the chain alone says intact, the checkpoints do not', async () => {
    const file = copy();
    rehashFrom(file, 3);
    const alone = await runCli(['audit', 'verify', '--db', file]);
    assert.equal(alone.code, 0, 'what the chain alone cannot see');
    assert.match(alone.stdout, /^audit trail intact/);
    const r = await verify(file);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^audit trail BROKEN \(against the checkpoints\): event \d+ does not carry the hash checkpoint \d+ \(.*\) signed for it: the chain was rewritten at or before event \d+ \(rehashed\)/,
    );
  });

  test('the tail cut off and the head rewritten to match: the last checkpoint names an event beyond the end', async () => {
    const file = copy();
    const d = new Database(file);
    const total = (d.prepare('SELECT MAX(id) AS n FROM events').get() as { n: number }).n;
    d.exec(`DROP TRIGGER events_no_delete; DELETE FROM events WHERE id > ${total - 4}`);
    d.prepare('UPDATE audit_head SET last_id = ?, last_hash = (SELECT hash FROM events WHERE id = ?)').run(total - 4, total - 4);
    d.close();
    assert.equal((await runCli(['audit', 'verify', '--db', file])).code, 0, 'the chain alone: shorter, but valid');
    const r = await verify(file);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      new RegExp(
        `^audit trail BROKEN \\(against the checkpoints\\): the chain ends at event ${total - 4}, but checkpoint 4 \\(.*\\) was signed for event ${total}: events were removed from the end and the head rewritten\\n$`,
      ),
    );
  });

  test('a wrong key is refused, naming both keys; an edited checkpoint line does not verify', async () => {
    const wrong = await verify(db, wrongKey);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /^audit checkpoints REFUSED: .*line 1: checkpoint 1 was signed by key [0-9a-f]{16}, not by this key \([0-9a-f]{16}\)/);
    const edited = path.join(scratch, 'edited.jsonl');
    const lines = readFileSync(checkpoints, 'utf8').trim().split('\n');
    const second = JSON.parse(lines[1] ?? '{}') as { hash: string };
    lines[1] = JSON.stringify({ ...second, hash: 'f'.repeat(64) });
    writeFileSync(edited, `${lines.join('\n')}\n`);
    const r = await runCli(['audit', 'verify', '--db', db, '--checkpoints', edited, '--key', publicKey]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /line 2: checkpoint 2's signature does not verify: the line was edited or forged/);
    const missingKey = await runCli(['audit', 'verify', '--db', db, '--checkpoints', checkpoints]);
    assert.equal(missingKey.code, 1);
    assert.match(missingKey.stdout, /give both --checkpoints FILE and --key KEY/);
  });

  test('at start the daemon checks the chain since the last checkpoint: a rewritten trail refuses to serve, or alerts by config', async () => {
    const dir = path.join(scratch, 'rewritten');
    mkdirSync(dir);
    copyFileSync(db, path.join(dir, 'remediator.db'));
    const d = new Database(path.join(dir, 'remediator.db'));
    const lastSigned = (JSON.parse(readFileSync(checkpoints, 'utf8').trim().split('\n').at(-1) ?? '{}') as { eventId: number }).eventId;
    d.close();
    rehashFrom(path.join(dir, 'remediator.db'), lastSigned - 2);
    const copyOfCheckpoints = path.join(scratch, 'start-checkpoints.jsonl');
    copyFileSync(checkpoints, copyOfCheckpoints);
    const settings = { secretsDir, audit: { checkpoints: { file: copyOfCheckpoints, every: '1h' } } };
    await assert.rejects(
      startTestDaemon({ dir, config: settings }),
      (err: Error & { code?: string }) =>
        err.code === 'audit_broken' && /does not verify against its checkpoints .*: event \d+ does not carry the hash checkpoint 4/.test(err.message),
    );
    const alerted = await startTestDaemon({ dir, config: { ...settings, audit: { checkpoints: { ...settings.audit.checkpoints, onBroken: 'alert' } } } });
    try {
      assert.ok(
        alerted.logs.some((l) => l['level'] === 'error' && String(l['message']).includes('the audit trail does not verify against its last checkpoint')),
      );
      const events = await alerted.api<{ events: { kind: string }[] }>('/api/audit?kind=audit.broken');
      assert.equal(events.events.length, 1);
    } finally {
      await alerted.close();
    }
  });
});
