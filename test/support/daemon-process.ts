import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { until } from './until.js';

/** The repository root: the daemon runs from here so `--import tsx` resolves our node_modules. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A remediator daemon running as a real child process (`remediator serve`). */
export interface DaemonProcess {
  /** Base URL as the daemon printed it, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  readonly port: number;
  /** The daemon's process id (for /proc/PID/status, never for signals: use signal()). */
  readonly pid: number;
  /** The bearer token Alertmanager must send to POST /webhook. */
  readonly webhookToken: string;
  /** The API token of identity "tester". */
  readonly apiToken: string;
  /** Every stdout line so far (the daemon's JSON log), in order. */
  readonly stdoutLines: readonly string[];
  /** Everything written on stderr so far. */
  stderr(): string;
  /** GET an /api path with the API token; throws unless the answer is 2xx JSON. */
  api<T = unknown>(apiPath: string): Promise<T>;
  /** POSTs a webhook body with the webhook token; resolves with the status (the body read and dropped). */
  webhook(body: unknown): Promise<number>;
  /** POSTs JSON to an /api path with the API token; resolves with the status and the parsed answer (null when empty). */
  apiPost<T = unknown>(apiPath: string, body?: unknown): Promise<{ status: number; json: T | null }>;
  /** GET /metrics as text (it needs no token). */
  metrics(): Promise<string>;
  /** Waits for a stdout line the predicate accepts (log lines reach us through a pipe, after the API may already show their effect). */
  waitForLine(predicate: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after the grace period; removes the temporary directory. Safe to call twice. */
  stop(): Promise<void>;
  /** Sends a signal to the daemon (SIGHUP to reload, SIGKILL to crash it). */
  signal(signal: NodeJS.Signals): void;
  /** Resolves when the process has exited, with its exit code or signal. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** What to start the daemon with. */
export interface DaemonProcessOptions {
  readonly playbooks: string;
  /** An SQLite file; default: a fresh one in a temporary directory. */
  readonly db?: string;
  /** Extra arguments after `serve`. */
  readonly args?: readonly string[];
  /** Extra environment variables for the daemon (e.g. REMEDIATOR_RUNS_MAX_CONCURRENT); the tokens are set after them. */
  readonly env?: Readonly<Record<string, string>>;
  readonly startTimeoutMs?: number;
}

const LISTENING = /remediator: listening on (http:\/\/\S+)/;

/** Starts `remediator serve --listen 127.0.0.1:0` and resolves once it printed its listening line. */
export async function startDaemonProcess(options: DaemonProcessOptions): Promise<DaemonProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'remediator-daemon-'));
  const webhookToken = randomBytes(24).toString('hex');
  const apiToken = randomBytes(24).toString('hex');
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REMEDIATOR_')));
  Object.assign(env, options.env);
  env['REMEDIATOR_WEBHOOK_TOKENS'] = webhookToken;
  env['REMEDIATOR_API_TOKENS'] = `tester=${apiToken}`;
  const argv = [
    '--import',
    'tsx',
    path.join(PROJECT_ROOT, 'src', 'cli', 'main.ts'),
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--playbooks',
    options.playbooks,
    '--db',
    options.db ?? path.join(dir, 'remediator.db'),
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, argv, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  const stdoutLines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => stdoutLines.push(line));
  let stderr = '';
  child.stderr.setEncoding('utf8');

  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the daemon did not print its listening line within ${options.startTimeoutMs ?? 20_000} ms; stderr:\n${stderr}`)),
        options.startTimeoutMs ?? 20_000,
      );
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        const m = LISTENING.exec(stderr);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      // 'close', not 'exit': by then stderr has been read to the end, so the message is complete.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the daemon exited (${signal ?? `code ${code}`}) before listening; stderr:\n${stderr}`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  } catch (err) {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const authorization = `Bearer ${apiToken}`;
  let stopped: Promise<void> | null = null;
  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid ?? -1,
    webhookToken,
    apiToken,
    stdoutLines,
    stderr: () => stderr,
    async api<T>(apiPath: string): Promise<T> {
      const res = await fetch(new URL(apiPath, url), { headers: { authorization } });
      const text = await res.text();
      if (!res.ok) throw new Error(`GET ${apiPath} answered ${res.status}: ${text}`);
      return JSON.parse(text) as T;
    },
    async webhook(body: unknown): Promise<number> {
      const res = await fetch(new URL('/webhook', url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${webhookToken}` },
        body: JSON.stringify(body),
      });
      await res.arrayBuffer();
      return res.status;
    },
    async apiPost<T>(apiPath: string, body: unknown = {}): Promise<{ status: number; json: T | null }> {
      const res = await fetch(new URL(apiPath, url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as T) : null };
    },
    async metrics(): Promise<string> {
      const res = await fetch(new URL('/metrics', url));
      const text = await res.text();
      if (!res.ok) throw new Error(`GET /metrics answered ${res.status}: ${text}`);
      return text;
    },
    waitForLine(predicate, what, timeoutMs = 5_000) {
      return until(what, () => stdoutLines.find(predicate), { timeoutMs, everyMs: 100 });
    },
    stop() {
      stopped ??= stopChild(child).then(() => rm(dir, { recursive: true, force: true }));
      return stopped;
    },
    signal(sig) {
      child.kill(sig);
    },
    exited() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
      return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    },
  };
}

/** Sends SIGTERM and waits for the exit; SIGKILL if the process is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (killed && !hasExited(child)) {
    child.kill('SIGKILL');
    await exited;
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

// A test process that dies between start and stop (an uncaught error, a timeout) must not leave
// daemons or Alertmanagers behind holding ports.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills the child when this process exits, if nobody stopped it before. */
export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}
