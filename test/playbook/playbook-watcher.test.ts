import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/observability/logger.js';
import { PlaybookWatcher } from '../../src/playbook/playbook-watcher.js';
import { until } from '../support/until.js';

const quiet = createLogger('error', new Writable({ write: (_c, _e, done) => done() }));

test('a change between the snapshot taken before loading and the start is reloaded, once', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-watcher-'));
  writeFileSync(path.join(dir, 'a.yaml'), 'name: a\n');
  let reloads = 0;
  const watcher = new PlaybookWatcher({ dir, intervalMs: 100, reload: () => Promise.resolve(reloads++), logger: quiet });
  try {
    await watcher.snapshot();
    // The daemon loads, then spends seconds recovering; the ConfigMap changes meanwhile.
    writeFileSync(path.join(dir, 'b.yaml'), 'name: b\n');
    await watcher.start();
    await until('the reload of the change made while starting', () => reloads === 1);
    await watcher.idle();
    assert.equal(reloads, 1);
  } finally {
    await watcher.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a snapshot, start takes the files as they are, and reloads nothing until they change', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-watcher-'));
  writeFileSync(path.join(dir, 'a.yaml'), 'name: a\n');
  let reloads = 0;
  const watcher = new PlaybookWatcher({ dir, intervalMs: 100, reload: () => Promise.resolve(reloads++), logger: quiet });
  try {
    await watcher.start();
    writeFileSync(path.join(dir, '.hidden.yaml'), 'editors leave these behind\n');
    writeFileSync(path.join(dir, 'notes.txt'), 'not a playbook\n');
    writeFileSync(path.join(dir, 'a.yaml'), 'name: a\ndescription: edited\n');
    await until('the edit to be reloaded', () => reloads === 1);
    assert.equal(reloads, 1);
    // Nothing changes from here: however often the files are compared, nothing is reloaded.
    const seen = watcher.comparisons;
    await until('five more comparisons', () => watcher.comparisons >= seen + 5);
    assert.equal(reloads, 1);
  } finally {
    await watcher.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
