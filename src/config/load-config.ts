import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { RemediatorError } from '../domain/errors.js';
import { configSchema, ENV_KEYS, type Config } from './config-schema.js';

/** Flags that override configuration (the common keys). */
export interface ConfigFlags {
  readonly config?: string;
  readonly listen?: string;
  readonly playbooks?: string;
  readonly db?: string;
  readonly execution?: string;
  readonly logLevel?: string;
  readonly logFormat?: string;
}

/**
 * Builds the configuration: flag > environment > file > default. Paths in the file are relative
 * to the file (as in Prometheus); paths from flags and the environment to the working directory.
 * A bad value stops start-up with a message naming the key and where it came from.
 */
export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  const merged: Record<string, unknown> = {};
  const origin = new Map<string, string>();
  let baseDir = process.cwd();
  const file = flags.config ?? env['REMEDIATOR_CONFIG'];
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new RemediatorError('invalid_config', `cannot read config file ${file}: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text) ?? {};
    } catch (err) {
      throw new RemediatorError('invalid_config', `config file ${file} is not valid YAML: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new RemediatorError('invalid_config', `config file ${file} must be a mapping of keys to values`);
    }
    Object.assign(merged, parsed);
    for (const key of Object.keys(parsed)) origin.set(key, `config file ${file}`);
    baseDir = path.dirname(path.resolve(file));
    for (const key of ['playbooks', 'db', 'secretsDir'] as const) {
      const v = merged[key];
      if (typeof v === 'string' && !isUrl(v)) merged[key] = path.resolve(baseDir, v);
    }
    const checkpoints = (merged['audit'] as { checkpoints?: { file?: unknown } } | undefined)?.checkpoints;
    if (typeof checkpoints?.file === 'string') checkpoints.file = path.resolve(baseDir, checkpoints.file);
    resolveSecretFiles(merged, baseDir);
  }
  // A PostgreSQL URL carries a password: like the secrets, it may come from a file (a mounted Secret).
  const dbFile = env['REMEDIATOR_DB_FILE'];
  if (dbFile) {
    if (env['REMEDIATOR_DB']) throw new RemediatorError('invalid_config', 'REMEDIATOR_DB and REMEDIATOR_DB_FILE are both set: keep one');
    try {
      merged['db'] = readFileSync(dbFile, 'utf8').trim();
    } catch (err) {
      throw new RemediatorError('invalid_config', `REMEDIATOR_DB_FILE: cannot read ${dbFile}: ${(err as Error).message}`);
    }
    origin.set('db', `the file named by REMEDIATOR_DB_FILE`);
  }
  for (const [name, keyPath] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(merged, keyPath, value);
    origin.set(keyPath[0] as string, `environment variable ${name}`);
  }
  for (const key of ['listen', 'playbooks', 'db', 'execution', 'logLevel', 'logFormat'] as const) {
    const value = flags[key];
    if (value === undefined) continue;
    merged[key] = value;
    origin.set(key, `flag --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.');
      const from = origin.get(String(issue.path[0])) ?? 'configuration';
      if (issue.code !== 'unrecognized_keys') return `${key} (from ${from}): ${issue.message}`;
      const where = issue.path.length === 0 ? '' : `${key}.`;
      const origins = issue.path.length === 0 ? (issue.keys.map((k) => origin.get(k)).find((o) => o !== undefined) ?? from) : from;
      return `${origins}: unknown key(s) ${issue.keys.map((k) => where + k).join(', ')}; known keys${where ? ` of ${key}` : ''} are ${knownKeys(issue.path.map(String)).join(', ')}`;
    });
    throw new RemediatorError('invalid_config', `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

/** The keys the schema allows at a path, for "did you mean" messages. */
function knownKeys(keyPath: readonly string[]): string[] {
  let shape: Record<string, unknown> = configSchema.shape;
  for (const key of keyPath) {
    let node = shape[key] as { unwrap?: () => unknown; shape?: Record<string, unknown>; def?: { innerType?: unknown } } | undefined;
    // Defaults wrap the object schema; unwrap until the object with a shape is reached.
    while (node && !node.shape && node.def?.innerType) node = node.def.innerType;
    if (!node?.shape) return [];
    shape = node.shape;
  }
  return Object.keys(shape);
}

/** REMEDIATOR_ variables that nothing reads: most likely misspelt, so start-up warns about them. */
export function unknownEnvVars(env: NodeJS.ProcessEnv): string[] {
  const known = new Set([
    ...Object.keys(ENV_KEYS),
    'REMEDIATOR_CONFIG',
    'REMEDIATOR_URL',
    'REMEDIATOR_TOKEN',
    'REMEDIATOR_TOKEN_FILE',
    'REMEDIATOR_DB_FILE',
    ...['WEBHOOK_TOKENS', 'WEBHOOK_BASIC_AUTH', 'API_TOKENS', 'NOTIFY_WEBHOOK_URL', 'SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_WEBHOOK_URL'].flatMap(
      (n) => [`REMEDIATOR_${n}`, `REMEDIATOR_${n}_FILE`],
    ),
  ]);
  return Object.keys(env).filter((k) => k.startsWith('REMEDIATOR_') && !known.has(k) && !k.startsWith('REMEDIATOR_SECRET_'));
}

function isUrl(v: string): boolean {
  return /^[a-z]+:\/\//i.test(v);
}

function setPath(target: Record<string, unknown>, keyPath: readonly string[], value: string): void {
  let node = target;
  for (const key of keyPath.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keyPath[keyPath.length - 1] as string] = value;
}

/** Splits "host:port" for net.listen. */
export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host === '' ? '0.0.0.0' : host, port: Number(listen.slice(i + 1)) };
}

/** The files secrets are read from, in the file: relative to it, as every other path there is. */
function resolveSecretFiles(merged: Record<string, unknown>, baseDir: string): void {
  const at = (o: unknown, key: string): void => {
    if (typeof o !== 'object' || o === null) return;
    const r = o as Record<string, unknown>;
    if (typeof r[key] === 'string' && r[key] !== '') r[key] = path.resolve(baseDir, r[key]);
  };
  const alertmanager = merged['alertmanager'];
  at(alertmanager, 'tokenFile');
  if (typeof alertmanager === 'object' && alertmanager !== null) at((alertmanager as Record<string, unknown>)['basicAuth'], 'passwordFile');
  at(merged['grafana'], 'tokenFile');
  const notifiers = merged['notifiers'];
  if (typeof notifiers === 'object' && notifiers !== null) {
    for (const n of Object.values(notifiers)) {
      at(n, 'routingKeyFile');
      at(n, 'urlFile');
    }
  }
}
