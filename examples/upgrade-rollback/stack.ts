import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alertmanagerConfig, prometheusConfig } from './configs.js';
import { findExecutable, freePort, pollUntil, startChild, type Child } from './processes.js';
import { startTraffic, type Traffic, type TrafficCounts } from './traffic.js';

// Starts the whole demo on 127.0.0.1, on free ports, in one temporary directory: the service,
// Prometheus, remediator and Alertmanager, each wired to the next, and traffic to the service.

/** This directory: configurations, playbooks, the service and deployctl. */
export const EXAMPLE_DIR = path.dirname(fileURLToPath(import.meta.url));
/** The repository root: remediator runs from here, so `--import tsx` finds node_modules. */
export const PROJECT_ROOT = path.resolve(EXAMPLE_DIR, '..', '..');

/** The service the demo upgrades, as its metrics' labels (and the alert's) name it. */
export const TARGET = { namespace: 'shop', service: 'checkout' } as const;
export const ALERTNAME = 'ServiceUpgradeErrorBurst';
export const GOOD_VERSION = 'v1';
export const BAD_VERSION = 'v2';
/** The recording rule of rules.yml: the 5xx ratio the alert and the verify step read. */
export const RATIO = `service:http_5xx_ratio:rate5s{namespace="${TARGET.namespace}",service="${TARGET.service}"}`;
/** The identity of the demo's API token: what an approval records as its approver. */
export const API_IDENTITY = 'demo';
export const INSTALL_HINT = 'apt-get install -y prometheus prometheus-alertmanager';

/** live: the playbook rolls back at once; approve: it holds for an approval first. */
export type Variant = 'live' | 'approve';
export const VARIANTS: Readonly<Record<Variant, { readonly playbooks: string; readonly playbook: string }>> = {
  live: { playbooks: path.join(EXAMPLE_DIR, 'playbooks'), playbook: 'rollback-on-error-burst' },
  approve: { playbooks: path.join(EXAMPLE_DIR, 'playbooks-approve'), playbook: 'rollback-on-error-burst-approved' },
};

/** Debian's binaries (packages prometheus and prometheus-alertmanager). */
export interface DemoBinaries {
  readonly prometheus: string;
  readonly alertmanager: string;
}

/** The binaries, or the names of those that are not on PATH. */
export function findDemoBinaries(): DemoBinaries | { readonly missing: string[] } {
  const prometheus = findExecutable('prometheus');
  const alertmanager = findExecutable('prometheus-alertmanager');
  if (prometheus && alertmanager) return { prometheus, alertmanager };
  return { missing: [...(prometheus ? [] : ['prometheus']), ...(alertmanager ? [] : ['prometheus-alertmanager'])] };
}

/** What a command the demo ran said. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Everything the demo started, and ways to talk to it. */
export interface Stack {
  readonly variant: Variant;
  /** The name of the playbook the daemon has loaded. */
  readonly playbook: string;
  readonly dir: string;
  readonly dbFile: string;
  readonly urls: { readonly service: string; readonly prometheus: string; readonly alertmanager: string; readonly remediator: string };
  /** A remediator API call with the demo's token; any status, the body parsed when it is JSON. */
  api<T = unknown>(method: 'GET' | 'POST', apiPath: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** A Prometheus HTTP API call (GET); throws unless it answers success. */
  prometheus<T = unknown>(apiPath: string): Promise<T>;
  /** deployctl, with DEPLOYCTL_SERVER set to the demo's deploy API. */
  deployctl(args: readonly string[]): Promise<CommandResult>;
  /** The remediator CLI from source, e.g. ['audit', 'verify', '--db', file]. */
  remediatorCli(args: readonly string[]): Promise<CommandResult>;
  traffic(): TrafficCounts;
  /** The last lines each process wrote, for an error message that explains itself. */
  context(): string;
  /** Stops everything (traffic first) and removes the temporary directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** What to start. */
export interface StackOptions {
  readonly variant: Variant;
  readonly binaries: DemoBinaries;
  /** Told when each part is up, e.g. for a narration. */
  readonly onStarted?: (text: string) => void;
  readonly signal?: AbortSignal;
}

const READY_TIMEOUT_MS = 20_000;

/** Starts the service, Prometheus, remediator, Alertmanager and the traffic, in that order. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const told = options.onStarted ?? (() => undefined);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'remediator-demo-'));
  const children: Child[] = [];
  let traffic: Traffic | null = null;
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      await traffic?.stop();
      // Alertmanager first, so nothing posts to a daemon on its way out.
      const [alertmanager, ...rest] = [...children].reverse();
      await alertmanager?.stop();
      await Promise.allSettled(rest.map((c) => c.stop()));
      await rm(dir, { recursive: true, force: true });
    })());
  const context = () => children.map((c) => `--- ${c.name}${c.exitReason() ? ` (exited: ${c.exitReason()})` : ''}:\n${tail(c.output(), 25)}`).join('\n');

  try {
    const variant = VARIANTS[options.variant];
    const webhookToken = randomBytes(24).toString('hex');
    const apiToken = randomBytes(24).toString('hex');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REMEDIATOR_') && k !== 'DEPLOYCTL_SERVER'));

    // 1. The service, v1, on a port of its choosing.
    const service = startChild(
      'service',
      process.execPath,
      [
        path.join(EXAMPLE_DIR, 'service.mjs'),
        '--listen',
        '127.0.0.1:0',
        '--namespace',
        TARGET.namespace,
        '--service',
        TARGET.service,
        '--version',
        GOOD_VERSION,
      ],
      { cwd: dir, env },
    );
    children.push(service);
    const serviceUrl = await pollUntil('the service to listen', () => Promise.resolve(/listening on (http:\/\/\S+)/.exec(service.output())?.[1]), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 50,
      giveUpIf: () => exited(service),
      ...signal(options),
    });
    told(`service ${TARGET.namespace}/${TARGET.service} ${GOOD_VERSION} on ${serviceUrl} (its deploy API too)`);
    traffic = startTraffic(serviceUrl);

    // 2. Prometheus, told where Alertmanager will be (a port chosen now, bound in step 4).
    let alertmanagerPort = await freePort();
    const promConfig = path.join(dir, 'prometheus.yml');
    const writePromConfig = async () => writeFile(promConfig, await prometheusConfig(EXAMPLE_DIR, serviceUrl, alertmanagerPort), { mode: 0o600 });
    await writePromConfig();
    const prometheus = await startServer(
      'Prometheus',
      options.binaries.prometheus,
      (port) => [
        `--config.file=${promConfig}`,
        `--storage.tsdb.path=${path.join(dir, 'prometheus-data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { cwd: dir, env, children, options },
    );
    told(`Prometheus on ${prometheus.url}: scrapes the service every 1s, evaluates ${ALERTNAME} every 1s`);

    // 3. remediator, live, with its playbooks, tokens from the environment, deployctl on its PATH.
    const bin = path.join(dir, 'bin');
    await mkdir(bin);
    await writeFile(
      path.join(bin, 'deployctl'),
      `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(path.join(EXAMPLE_DIR, 'deployctl.mjs'))} "$@"\n`,
      { mode: 0o755 },
    );
    const dbFile = path.join(dir, 'remediator.db');
    const daemon = startChild(
      'remediator',
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(PROJECT_ROOT, 'src', 'cli', 'main.ts'),
        'serve',
        '--config',
        path.join(EXAMPLE_DIR, 'remediator.yaml'),
        '--listen',
        '127.0.0.1:0',
        '--db',
        dbFile,
        '--playbooks',
        variant.playbooks,
      ],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...env,
          PATH: [bin, env['PATH'] ?? ''].join(path.delimiter),
          DEPLOYCTL_SERVER: serviceUrl,
          REMEDIATOR_WEBHOOK_TOKENS: webhookToken,
          REMEDIATOR_API_TOKENS: `${API_IDENTITY}=${apiToken}`,
          REMEDIATOR_PROMETHEUS_URL: prometheus.url,
        },
      },
    );
    children.push(daemon);
    const remediatorUrl = await pollUntil('remediator to listen', () => Promise.resolve(/remediator: listening on (http:\/\/\S+)/.exec(daemon.output())?.[1]), {
      timeoutMs: 30_000,
      intervalMs: 50,
      giveUpIf: () => exited(daemon),
      ...signal(options),
    });
    told(`remediator on ${remediatorUrl}: execution live, playbook ${variant.playbook}`);

    // 4. Alertmanager, posting to remediator with the webhook token from a file.
    const tokenFile = path.join(dir, 'webhook.token');
    await writeFile(tokenFile, `${webhookToken}\n`, { mode: 0o600 });
    const amConfig = path.join(dir, 'alertmanager.yml');
    await writeFile(amConfig, await alertmanagerConfig(EXAMPLE_DIR, `${remediatorUrl}/webhook`, tokenFile), { mode: 0o600 });
    const amArgs = (port: number) => [
      `--config.file=${amConfig}`,
      `--storage.path=${path.join(dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ];
    const alertmanager = await startServer('Alertmanager', options.binaries.alertmanager, amArgs, { cwd: dir, env, children, options, port: alertmanagerPort });
    if (alertmanager.port !== alertmanagerPort) {
      // The chosen port was taken meanwhile: tell Prometheus the new one (SIGHUP reloads it).
      alertmanagerPort = alertmanager.port;
      await writePromConfig();
      prometheus.child.process.kill('SIGHUP');
    }
    told(`Alertmanager on ${alertmanager.url}: routes ${ALERTNAME} to remediator (bearer token, send_resolved)`);

    const authorization = `Bearer ${apiToken}`;
    return {
      variant: options.variant,
      playbook: variant.playbook,
      dir,
      dbFile,
      urls: { service: serviceUrl, prometheus: prometheus.url, alertmanager: alertmanager.url, remediator: remediatorUrl },
      async api<T>(method: 'GET' | 'POST', apiPath: string, body?: unknown) {
        const res = await fetch(new URL(apiPath, remediatorUrl), {
          method,
          headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(5_000),
        });
        const text = await res.text();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        return { status: res.status, body: parsed as T };
      },
      async prometheus<T>(apiPath: string) {
        const res = await fetch(new URL(apiPath, prometheus.url), { signal: AbortSignal.timeout(5_000) });
        const body = (await res.json()) as { status?: string; error?: string; data?: T };
        if (body.status !== 'success') throw new Error(`Prometheus ${apiPath} answered ${res.status}: ${body.error ?? ''}`);
        return body.data as T;
      },
      deployctl: (args) => run(process.execPath, [path.join(EXAMPLE_DIR, 'deployctl.mjs'), ...args], { ...env, DEPLOYCTL_SERVER: serviceUrl }),
      remediatorCli: (args) => run(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'cli', 'main.ts'), ...args], env),
      traffic: () => traffic?.counts() ?? { requests: 0, errors: 0, failures: 0 },
      context,
      stop,
    };
  } catch (err) {
    const detail = err instanceof Error && !options.signal?.aborted ? `\n${context()}` : '';
    await stop();
    if (err instanceof Error && detail !== '') err.message += detail;
    throw err;
  }
}

/**
 * Starts Prometheus or Alertmanager on 127.0.0.1 and waits for /-/ready. A port can be taken
 * between choosing it and binding it, so a few are tried (the `port` asked for first).
 */
async function startServer(
  name: string,
  binary: string,
  args: (port: number) => string[],
  ctx: { cwd: string; env: NodeJS.ProcessEnv; children: Child[]; options: StackOptions; port?: number },
): Promise<{ url: string; port: number; child: Child }> {
  for (let attempt = 1; ; attempt++) {
    const port = attempt === 1 && ctx.port !== undefined ? ctx.port : await freePort();
    const child = startChild(name, binary, args(port), { cwd: ctx.cwd, env: ctx.env });
    ctx.children.push(child);
    const url = `http://127.0.0.1:${port}`;
    try {
      await pollUntil(`${name} on ${url} to be ready`, async () => ((await fetch(`${url}/-/ready`)).status === 200 ? true : undefined), {
        timeoutMs: READY_TIMEOUT_MS,
        giveUpIf: () => exited(child),
        ...signal(ctx.options),
      });
      return { url, port, child };
    } catch (err) {
      await child.stop();
      ctx.children.splice(ctx.children.indexOf(child), 1);
      if (attempt >= 3 || !/address already in use/i.test(child.output())) throw err;
    }
  }
}

/** Runs a program to its end (at most 30 s); a non-zero exit is a result, not an error. */
function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: PROJECT_ROOT, env, timeout: 30_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr: err !== null && stderr === '' ? err.message : stderr });
    });
  });
}

function exited(child: Child): string | null {
  const reason = child.exitReason();
  return reason === null ? null : `${child.name} exited (${reason}): ${tail(child.output(), 10)}`;
}

function signal(options: StackOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** One word for /bin/sh: single quotes, and each single quote written as '\''. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
