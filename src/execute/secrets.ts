import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Secrets that steps may use as {{ secrets.NAME }}: from REMEDIATOR_SECRET_<NAME> variables, or
 * from files named NAME in a directory (a mounted Kubernetes Secret). Values are read once at
 * start and kept only here, so the redactor knows every value to hide.
 */
export class SecretStore {
  private readonly values = new Map<string, string>();

  /** Values to hide that steps cannot use (e.g. the notification webhook URL). */
  private readonly hidden: string[] = [];

  constructor(env: NodeJS.ProcessEnv, dir: string | null, hidden: readonly string[] = []) {
    this.hidden.push(...hidden.filter((h) => h.length >= 4));
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

  /**
   * Replaces every secret value in a text by "***", longest first (a secret that contains another
   * must not be half-hidden). Output is capped and summarised before it gets here, so a secret cut
   * at a boundary survives only as a prefix or a suffix: those pieces are hidden too, from 8
   * characters up. Values shorter than 4 characters would mangle ordinary text and are not hidden.
   */
  redact(text: string): string {
    const secrets = [...this.values.values(), ...this.hidden].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
    let out = text;
    for (const value of secrets) {
      out = out.split(value).join('***');
      for (let k = value.length - 1; k >= 8; k--) {
        out = out
          .split(value.slice(0, k))
          .join('***')
          .split(value.slice(value.length - k))
          .join('***');
      }
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
