import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server received it, body read to the end. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Answers one request. `index` counts from 1 over the server's life, so a handler can change its
 * answer after N requests. A handler that never ends `res` leaves the client waiting (a hang).
 */
export type TestHandler = (request: RecordedRequest, res: ServerResponse, index: number) => void | Promise<void>;

/** A real node:http server on 127.0.0.1 with a replaceable handler and a log of what it received. */
export interface TestHttpServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  readonly port: number;
  /** Every request so far, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Replaces the handler for the requests that arrive from now on. */
  handle(handler: TestHandler): void;
  /** Resolves when `count` requests have arrived (their bodies read), or rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Stops listening and destroys open connections, hung ones included. Safe to call twice. */
  close(): Promise<void>;
}

/** Answers with `status` and `body`: objects as JSON, strings as text/plain. */
export function reply(res: ServerResponse, status: number, body: unknown = '', headers: Record<string, string> = {}): void {
  const isText = typeof body === 'string';
  const text = isText ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Starts a server on 127.0.0.1, port 0; the default handler answers 200 "ok". */
export async function startHttpServer(handler: TestHandler = (_req, res) => reply(res, 200, 'ok')): Promise<TestHttpServer> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const waiters = new Set<() => void>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      for (const wake of waiters) wake();
      Promise.resolve(current(recorded, res, requests.length)).catch((err: unknown) => {
        // A broken handler must show up in the test, not hang it.
        if (!res.headersSent) reply(res, 599, `test handler failed: ${String(err)}`);
        else res.destroy();
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    handle(next) {
      current = next;
    },
    waitForRequests(count, timeoutMs = 5_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (requests.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the test server got ${requests.length} of ${count} requests within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
