import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { stopChild, track } from './daemon-process.js';
import { until } from './until.js';

/** Finds an executable on PATH or in /usr/bin and /usr/local/bin; null if it is not installed. */
export function findExecutable(name: string): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(path.delimiter).filter((d) => d !== ''), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
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

/** A port that was free a moment ago (listen on port 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

/** A Prometheus-family server started by a test. */
export interface ServiceProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** What it logged so far (stderr and stdout), for failure messages. */
  readonly output: () => string;
}

/**
 * Starts a server of the Prometheus family (Prometheus, Alertmanager) on a free port and waits
 * until its /-/ready answers 200. The port can be taken between our probe and its bind, so a few
 * ports are tried. `args(port)` gives its command line; `dir` is removed when starting fails.
 */
export async function startServiceBinary(options: {
  name: string;
  binary: string;
  dir: string;
  args: (port: number) => string[];
  startTimeoutMs?: number;
}): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await launch(options, port);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/i.test(String(err))) {
        await rm(options.dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}

async function launch(
  options: { name: string; binary: string; dir: string; args: (port: number) => string[]; startTimeoutMs?: number },
  port: number,
): Promise<ServiceProcess> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(options.binary, options.args(port), { cwd: options.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      output += chunk;
    });
  }
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = signal ?? `code ${code}`;
  });
  child.once('error', (err) => {
    exited = `could not start: ${err.message}`;
  });
  try {
    await until(
      `${options.name} on ${url} to answer /-/ready`,
      async () => {
        const res = await fetch(`${url}/-/ready`);
        await res.arrayBuffer();
        return res.status === 200;
      },
      {
        timeoutMs: options.startTimeoutMs ?? 15_000,
        everyMs: 100,
        retryErrors: true,
        giveUpIf: () => (exited === null ? null : `${options.name} exited (${exited})`),
        context: () => `${options.name} output:\n${output}`,
      },
    );
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { url, child, output: () => output };
}
