import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Secrets that steps may use as {{ secrets.NAME }}: from REMEDIATOR_SECRET_<NAME> variables, or
 * from files named NAME in a directory (a mounted Kubernetes Secret). Values are read once at
 * start and kept only here, so the redactor knows every value to hide.
 */
export class SecretStore {
  private readonly values = new Map<string, string>();

  constructor(env: NodeJS.ProcessEnv, dir: string | null) {
    if (dir) {
      for (const name of readdirSync(dir)) {
        const file = path.join(dir, name);
        if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) && statSync(file).isFile()) this.values.set(name, readFileSync(file, 'utf8').trim());
      }
    }
    for (const [key, value] of Object.entries(env)) {
      if (key.startsWith('REMEDIATOR_SECRET_') && value) this.values.set(key.slice('REMEDIATOR_SECRET_'.length), value);
    }
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  /** How to provide a missing secret. */
  static howToSet(name: string, dir: string | null): string {
    return `secret ${name} is not set: set REMEDIATOR_SECRET_${name}${dir ? ` or put a file ${name} in ${dir}` : ' (or configure secretsDir)'}`;
  }

  /** Replaces every secret value in a text by "***". Values shorter than 4 characters are not secrets worth the name and would mangle text. */
  redact(text: string): string {
    let out = text;
    for (const value of this.values.values()) {
      if (value.length >= 4) out = out.split(value).join('***');
    }
    return out;
  }

  /** Redacts every string inside a JSON-like value. */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => this.redactDeep(v)) as T;
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redactDeep(v as unknown)])) as T;
    }
    return value;
  }
}
