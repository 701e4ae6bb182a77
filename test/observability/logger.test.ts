import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, type LogFormat } from '../../src/observability/logger.js';

function capture(format: LogFormat): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  return { lines, log: createLogger('info', sink, format) };
}

test('json, the default: one object per line, fields as keys', () => {
  const { lines, log } = capture('json');
  log.warn('run r_1 failed: step undo', { runId: 'r_1', playbook: 'rollback' });
  const line = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
  assert.deepEqual([line['level'], line['message'], line['runId'], line['playbook']], ['warn', 'run r_1 failed: step undo', 'r_1', 'rollback']);
  assert.match(String(line['timestamp']), /^\d{4}-\d\d-\d\dT/);
});

test('text: time, level and message on one line, then the fields as key=value', () => {
  const { lines, log } = capture('text');
  log.warn('run r_1 failed: step undo', { runId: 'r_1', playbook: 'rollback', params: { ns: 'shop' }, note: 'two words' });
  log.debug('not shown at info');
  assert.equal(lines.length, 1);
  assert.match(
    lines[0] ?? '',
    /^\d{4}-\d\d-\d\dT[\d:.]+Z warn {2}run r_1 failed: step undo {2}runId=r_1 playbook=rollback params=\{"ns":"shop"\} note="two words"$/,
  );
});

test('text: alert text can neither forge a log line nor reach the terminal as escape codes', () => {
  const { lines, log } = capture('text');
  log.info('notify: checkout is fine\n2026-12-02T03:12:00.000Z error circuit opened by alice', { label: 'a\u001b[31mred' });
  assert.equal(lines.length, 1, 'one event, one line');
  assert.ok(!(lines[0] ?? '').includes('\u001b'), 'no escape code reaches the terminal');
  assert.match(lines[0] ?? '', /notify: checkout is fine\\n2026-12-02T03:12:00\.000Z error circuit opened by alice {2}label="a\\u001b\[31mred"$/);
});
