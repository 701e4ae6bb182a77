import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { stopChild } from './daemon-process.js';
import { findExecutable, startServiceBinary } from './service-binary.js';

export { freePort } from './service-binary.js';

const execFileAsync = promisify(execFile);

/** The two binaries of the Debian package prometheus-alertmanager. */
export interface AlertmanagerBinaries {
  readonly alertmanager: string;
  readonly amtool: string;
}

/** A real Alertmanager on 127.0.0.1, clustering off, posting to one webhook receiver. */
export interface Alertmanager {
  readonly url: string;
  /** What Alertmanager logged so far (stderr and stdout), for failure messages. */
  output(): string;
  /** `amtool alert add`: labels as key=value arguments, annotations as --annotation=k=v. */
  addAlert(labels: Readonly<Record<string, string>>, annotations?: Readonly<Record<string, string>>, options?: AddAlertOptions): Promise<void>;
  /** Re-adds the alert with an end in the past, which is how amtool resolves an alert. */
  resolveAlert(labels: Readonly<Record<string, string>>, end?: Date): Promise<void>;
  /** SIGTERM (SIGKILL after a grace period); removes the storage and config. Safe to call twice. */
  stop(): Promise<void>;
}

/** Optional times of an added alert. */
export interface AddAlertOptions {
  readonly start?: Date;
  readonly end?: Date;
}

/** Where the webhook receiver is and the bearer token to send it. */
export interface AlertmanagerOptions {
  readonly binaries: AlertmanagerBinaries;
  readonly webhookUrl: string;
  readonly webhookToken: string;
  /**
   * How many identical webhook_configs the receiver has: with 2, every notification is posted
   * twice, as an HA pair of Alertmanagers would, to check that the receiver is idempotent.
   */
  readonly deliveries?: number;
  readonly startTimeoutMs?: number;
}

/** Finds prometheus-alertmanager and amtool on PATH or in /usr/bin; null if either is missing. */
export function findAlertmanagerBinaries(): AlertmanagerBinaries | null {
  const alertmanager = findExecutable('prometheus-alertmanager');
  const amtool = findExecutable('amtool');
  return alertmanager && amtool ? { alertmanager, amtool } : null;
}

/**
 * The Alertmanager configuration: one route to the remediator receiver, grouped by alertname, with
 * intervals short enough for tests; the webhook sends resolves and a bearer token, as users are
 * told to configure it.
 */
export function alertmanagerConfig(webhookUrl: string, webhookToken: string, deliveries = 1): string {
  const webhook = { url: webhookUrl, send_resolved: true, http_config: { authorization: { type: 'Bearer', credentials: webhookToken } } };
  return stringify(
    {
      route: { receiver: 'remediator', group_by: ['alertname'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
      receivers: [{ name: 'remediator', webhook_configs: Array.from({ length: deliveries }, () => webhook) }],
    },
    { aliasDuplicateObjects: false },
  );
}

/** Starts Alertmanager on a free port and resolves once /-/ready answers 200. */
export async function startAlertmanager(options: AlertmanagerOptions): Promise<Alertmanager> {
  const { binaries } = options;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'remediator-alertmanager-'));
  const configFile = path.join(dir, 'alertmanager.yml');
  await writeFile(configFile, alertmanagerConfig(options.webhookUrl, options.webhookToken, options.deliveries), { mode: 0o600 });
  try {
    // The same check users are told to run: a config Alertmanager rejects fails here, readably.
    await execFileAsync(binaries.amtool, ['check-config', configFile], { timeout: 10_000 });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`amtool check-config refused the generated configuration: ${(err as { stdout?: string }).stdout ?? String(err)}`);
  }

  const { url, child, output } = await startServiceBinary({
    name: 'Alertmanager',
    binary: binaries.alertmanager,
    dir,
    startTimeoutMs: options.startTimeoutMs,
    args: (port) => [
      `--config.file=${configFile}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=info',
    ],
  });

  const amtool = async (args: string[]) => {
    try {
      await execFileAsync(options.binaries.amtool, ['alert', 'add', `--alertmanager.url=${url}`, '--timeout=10s', ...args], { timeout: 15_000 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`amtool alert add ${args.join(' ')} failed: ${e.stderr || e.message}`);
    }
  };
  const addAlert = async (labels: Readonly<Record<string, string>>, annotations: Readonly<Record<string, string>> = {}, times: AddAlertOptions = {}) => {
    await amtool([
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
      ...Object.entries(annotations).map(([k, v]) => `--annotation=${k}=${v}`),
      ...(times.start ? [`--start=${times.start.toISOString()}`] : []),
      ...(times.end ? [`--end=${times.end.toISOString()}`] : []),
    ]);
  };
  let stopped: Promise<void> | null = null;
  return {
    url,
    output,
    addAlert,
    resolveAlert: (labels, end = new Date(Date.now() - 100)) => addAlert(labels, {}, { end }),
    stop() {
      stopped ??= stopChild(child).then(() => rm(dir, { recursive: true, force: true }));
      return stopped;
    },
  };
}

const IN_CI = !['', '0', 'false'].includes((process.env['CI'] ?? '').toLowerCase());

/**
 * The skip of a test that needs Alertmanager: a reason (printed once) when it is not installed,
 * except with CI set, where the test must run and fails instead (.ci/run installs it).
 */
export function alertmanagerSkip(binaries: AlertmanagerBinaries | null): string | false {
  if (binaries !== null || IN_CI) return false;
  const why = 'skipped: prometheus-alertmanager/amtool not installed (apt-get install -y prometheus-alertmanager)';
  process.stdout.write(`${why}\n`);
  return why;
}

/** The binaries, or the error a CI run gets when they are missing. */
export function requireAlertmanager(binaries: AlertmanagerBinaries | null): AlertmanagerBinaries {
  if (binaries === null) throw new Error('CI is set and prometheus-alertmanager/amtool are not installed: apt-get install -y prometheus-alertmanager');
  return binaries;
}
