import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './alertmanager.js';
import { pollUntil, stopChild, track } from './daemon-process.js';

/** A real Prometheus on 127.0.0.1 with its own storage in a temporary directory. */
export interface Prometheus {
  readonly url: string;
  /** What Prometheus logged so far (stderr and stdout), for failure messages. */
  output(): string;
  /** SIGTERM (SIGKILL after a grace period); removes the storage and config. Safe to call twice. */
  stop(): Promise<void>;
}

/** What to start Prometheus with. */
export interface PrometheusOptions {
  readonly binary: string;
  /** host:port targets scraped every second as job "demo" (plain /metrics, text format). */
  readonly scrapeTargets?: readonly string[];
  readonly startTimeoutMs?: number;
}

/** Finds Debian's `prometheus` on PATH or in /usr/bin; null if it is not installed. */
export function findPrometheusBinary(): string | null {
  // The same search as findAlertmanagerBinaries (test/support/alertmanager.ts), which does not export it.
  const dirs = [...(process.env['PATH'] ?? '').split(path.delimiter).filter((d) => d !== ''), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'prometheus');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** A minimal configuration: scrape and evaluate every second, scrape the given targets as "demo". */
export function prometheusConfig(scrapeTargets: readonly string[] = []): string {
  return stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' },
    scrape_configs: scrapeTargets.length === 0 ? [] : [{ job_name: 'demo', static_configs: [{ targets: [...scrapeTargets] }] }],
  });
}

/** Starts Prometheus on a free port and resolves once /-/ready answers 200. */
export async function startPrometheus(options: PrometheusOptions): Promise<Prometheus> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'remediator-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(configFile, prometheusConfig(options.scrapeTargets), { mode: 0o600 });
  // The free port can be taken between our probe and Prometheus's bind: try a few ports.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await launch(options, dir, configFile, port);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/i.test(String(err))) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}

async function launch(options: PrometheusOptions, dir: string, configFile: string, port: number): Promise<Prometheus> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    options.binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
    await pollUntil(
      `Prometheus on ${url} to answer /-/ready`,
      async () => {
        const res = await fetch(`${url}/-/ready`);
        await res.arrayBuffer();
        return res.status === 200 ? true : undefined;
      },
      {
        timeoutMs: options.startTimeoutMs ?? 15_000,
        giveUpIf: () => (exited === null ? null : `Prometheus exited (${exited})`),
        context: () => `Prometheus output:\n${output}`,
      },
    );
  } catch (err) {
    await stopChild(child);
    throw err;
  }

  let stopped: Promise<void> | null = null;
  return {
    url,
    output: () => output,
    stop() {
      stopped ??= stopChild(child).then(() => rm(dir, { recursive: true, force: true }));
      return stopped;
    },
  };
}
