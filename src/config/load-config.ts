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
    for (const key of ['playbooks', 'db'] as const) {
      const v = merged[key];
      if (typeof v === 'string' && !isUrl(v)) merged[key] = path.resolve(baseDir, v);
    }
  }
  for (const [name, keyPath] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(merged, keyPath, value);
    origin.set(keyPath[0] as string, `environment variable ${name}`);
  }
  for (const key of ['listen', 'playbooks', 'db', 'execution', 'logLevel'] as const) {
    const value = flags[key];
    if (value === undefined) continue;
    merged[key] = value;
    origin.set(key, `flag --${key === 'logLevel' ? 'log-level' : key}`);
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.');
      const from = origin.get(String(issue.path[0])) ?? 'configuration';
      return issue.code === 'unrecognized_keys'
        ? `${from}: unknown key(s) ${issue.keys.join(', ')}; known keys are ${Object.keys(configSchema.shape).join(', ')}`
        : `${key} (from ${from}): ${issue.message}`;
    });
    throw new RemediatorError('invalid_config', `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
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
