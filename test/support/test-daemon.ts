import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { startDaemon, type Daemon } from '../../src/cli/serve.js';
import { configSchema, type ConfigInput } from '../../src/config/config-schema.js';
import type { Secrets } from '../../src/config/secrets.js';
import { createLogger } from '../../src/observability/logger.js';
import { TEST_PLAYBOOKS } from './fixtures.js';

/** Credentials every test daemon accepts. */
export const WEBHOOK_TOKEN = 'webhook-token-for-tests-0001';
export const WEBHOOK_TOKEN_NEXT = 'webhook-token-for-tests-0002';
export const API_TOKEN = 'api-token-for-tests-000000001';

/** A daemon running in this process on a free port, with a real SQLite file. */
export interface TestDaemon extends Daemon {
  readonly dir: string;
  readonly db: string;
  readonly logs: Record<string, unknown>[];
  /** POST /webhook with the webhook token; an object is sent as JSON, a string or Buffer as given. */
  post(body: string | Buffer | object, headers?: Record<string, string>): Promise<Response>;
  api<T = unknown>(pathAndQuery: string): Promise<T>;
}

/** Starts a daemon; pass the same `dir` again to restart on the same database. */
export async function startTestDaemon(
  options: {
    dir?: string;
    playbooks?: string;
    config?: ConfigInput;
    clock?: () => Date;
    env?: NodeJS.ProcessEnv;
    notifyWebhookUrl?: string;
    secrets?: Partial<Secrets>;
  } = {},
): Promise<TestDaemon> {
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'remediator-test-'));
  const db = path.join(dir, 'remediator.db');
  const config = configSchema.parse({ listen: '127.0.0.1:0', playbooks: options.playbooks ?? TEST_PLAYBOOKS, db, logLevel: 'debug', ...options.config });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const daemon = await startDaemon(
    config,
    {
      webhookTokens: [WEBHOOK_TOKEN, WEBHOOK_TOKEN_NEXT],
      webhookBasic: [{ user: 'am', password: 'basic-password-for-tests' }],
      apiTokens: [{ identity: 'tester', token: API_TOKEN }],
      notices: [],
      ...(options.notifyWebhookUrl ? { notifyWebhookUrl: options.notifyWebhookUrl } : {}),
      ...options.secrets,
    },
    createLogger('debug', sink),
    { registry: new Registry(), ...(options.clock ? { clock: options.clock } : {}), ...(options.env ? { env: options.env } : {}) },
  );
  return Object.assign(daemon, {
    dir,
    db,
    logs,
    post(body: string | Buffer | object, headers: Record<string, string> = {}) {
      return fetch(`${daemon.url}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}`, ...headers },
        body: typeof body === 'string' ? body : Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body),
      });
    },
    async api<T>(pathAndQuery: string): Promise<T> {
      const res = await fetch(`${daemon.url}${pathAndQuery}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      if (!res.ok) throw new Error(`GET ${pathAndQuery}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
  });
}

/** Removes a test directory. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
