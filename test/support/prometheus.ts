import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { stopChild } from './daemon-process.js';
import { findExecutable, startServiceBinary } from './service-binary.js';

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
  return findExecutable('prometheus');
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
  const { url, child, output } = await startServiceBinary({
    name: 'Prometheus',
    binary: options.binary,
    dir,
    startTimeoutMs: options.startTimeoutMs,
    args: (port) => [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
    ],
  });

  let stopped: Promise<void> | null = null;
  return {
    url,
    output,
    stop() {
      stopped ??= stopChild(child).then(() => rm(dir, { recursive: true, force: true }));
      return stopped;
    },
  };
}
