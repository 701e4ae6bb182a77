import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

// Child processes of the demo: started, watched, stopped, and never left behind.

/** Output kept per child (the tail), so a long demo stays in bounded memory. */
const OUTPUT_CAP = 256 * 1024;

/** A process the demo started. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** The tail of what it wrote on stdout and stderr, interleaved. */
  output(): string;
  /** Why it ended ("code 1", "SIGTERM", "could not start: …"), or null while it runs. */
  exitReason(): string | null;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts a program (never through a shell) and keeps the tail of its output. */
export function startChild(name: string, file: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Child {
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // However this process ends, no Prometheus or daemon outlives it holding a port.
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      output += chunk;
      if (output.length > OUTPUT_CAP * 2) output = output.slice(-OUTPUT_CAP);
    });
  }
  let reason: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      reason ??= signal ?? `code ${code}`;
      live.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      reason ??= `could not start: ${err.message}`;
      live.delete(child);
      resolve();
    });
  });
  let stopping: Promise<void> | null = null;
  return {
    name,
    process: child,
    output: () => output.slice(-OUTPUT_CAP),
    exitReason: () => reason,
    stop(graceMs = 5_000) {
      stopping ??= (async () => {
        if (reason !== null) return;
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = await Promise.race([exited.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)))]);
        clearTimeout(timer);
        if (late && reason === null) {
          child.kill('SIGKILL');
          await exited;
        }
      })();
      return stopping;
    },
  };
}

/** Options of pollUntil. */
export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  readonly signal?: AbortSignal;
  /** A reason to stop waiting before the deadline (e.g. the awaited process exited), or null. */
  readonly giveUpIf?: () => string | null;
}

/**
 * Calls `check` until it returns something other than undefined, and returns that. Throws at the
 * deadline, naming what was awaited and the last error `check` threw.
 */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  for (;;) {
    options.signal?.throwIfAborted();
    const reason = options.giveUpIf?.() ?? null;
    if (reason !== null) throw new Error(`gave up waiting for ${what}: ${reason}`);
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = `; last error: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${options.timeoutMs / 1000}s waiting for ${what}${lastError}`);
    await sleep(options.intervalMs ?? 200, options.signal);
  }
}

/** Waits `ms`, or less when the signal aborts (then throws its reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port on 127.0.0.1');
  return address.port;
}

/** An executable on PATH; null if there is none. */
export function findExecutable(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter).filter((d) => d !== '')) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}
