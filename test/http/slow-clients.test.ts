import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fixtureText } from '../support/fixtures.js';
import { removeDir, startTestDaemon, WEBHOOK_TOKEN, type TestDaemon } from '../support/test-daemon.js';
import { until } from '../support/until.js';

/**
 * Slow and greedy clients, on loopback and bounded in number: headers or a body trickling in are
 * cut off by the header and request timeouts (1,000 such connections once stayed open for a
 * minute), and webhook bodies are read a few at a time — the rest wait, and past the queue are
 * refused with a retryable 503 — so memory does not grow with the number of connections.
 */
let daemon: TestDaemon;

before(async () => {
  daemon = await startTestDaemon({ config: { http: { headersTimeout: '1s', requestTimeout: '2s' }, webhook: { maxConcurrentBodies: 1 } } });
});
after(async () => {
  await daemon.close();
  removeDir(daemon.dir);
});

/** A raw connection that writes `first`, then `drip` every `everyMs` until the server closes it. */
function trickle(first: string, drip: string, everyMs: number): { closed: () => boolean; received: () => string; end: () => void } {
  const { port } = new URL(daemon.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  let closed = false;
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
    clearInterval(timer);
  });
  socket.write(first);
  const timer = setInterval(() => {
    if (!closed) socket.write(drip);
  }, everyMs);
  return { closed: () => closed, received: () => received, end: () => socket.destroy() };
}

const headers = (length: number) =>
  `POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${WEBHOOK_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('slow clients are cut off; bodies are read a few at a time', { timeout: 60_000 }, () => {
  test('200 connections trickling their headers in are all closed after the header timeout', async () => {
    const started = Date.now();
    const conns = Array.from({ length: 200 }, () => trickle('POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X', 300));
    try {
      await until('every trickling connection closed', () => conns.every((c) => c.closed()), { timeoutMs: 8_000, everyMs: 50 });
      assert.ok(Date.now() - started < 6_000, `closed after ${Date.now() - started} ms (header timeout 1 s, checked every second)`);
    } finally {
      for (const c of conns) c.end();
    }
  });

  test('a body trickling in is cut off by the request timeout with a 408', async () => {
    const c = trickle(headers(100_000), '{"a":1,', 200);
    try {
      await until('the trickling body closed', () => c.closed(), { timeoutMs: 8_000, everyMs: 50 });
      assert.match(c.received(), /^HTTP\/1\.1 408/);
    } finally {
      c.end();
    }
  });

  test('while one body is being read, the others wait their turn, and past the queue a webhook is refused with a retryable 503', async () => {
    const body = fixtureText('amtool-firing.json');
    // Holds the one slot: its headers came, its body never finishes.
    const holder = trickle(`${headers(Buffer.byteLength(body) + 10)}${body.slice(0, 20)}`, ' ', 500);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const post = () => daemon.post(body);
      const waiting = Array.from({ length: 64 }, post);
      const refused = await post();
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '5');
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'overloaded');
      holder.end();
      const statuses = await Promise.all(waiting.map(async (p) => (await p).status));
      assert.deepEqual([...new Set(statuses)], [200], 'every waiting webhook got its turn');
    } finally {
      holder.end();
    }
  });
});
