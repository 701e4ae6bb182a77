import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { OutputRedactor } from './output-cap.js';

/**
 * Secrets that steps may use as {{ secrets.NAME }}: from REMEDIATOR_SECRET_<NAME> variables, or
 * from files named NAME in a directory (a mounted Kubernetes Secret). Values are read once at
 * start and kept only here, so the redactor knows every value to hide.
 *
 * Redaction hides whole values only — each secret as written and as URL, JSON and base64 encoders
 * write it — and never fragments found by searching: text reaching the redactor can be chosen by
 * whoever sets an alert's labels, and hiding "any 8 characters a secret starts with" told them,
 * one notification at a time, whether a guess was right. The one place a fragment is expected is
 * where an output cap cut a value in two; there the characters next to the cut are hidden by
 * position, whatever they are (see redactCut), so nothing about their content shows.
 */
export class SecretStore implements OutputRedactor {
  private readonly values = new Map<string, string>();

  /** Values to hide that steps cannot use (e.g. the notification webhook URL). */
  private readonly hidden: string[] = [];

  private pattern: RegExp | null | undefined;
  private window = 0;

  /** `skip`: file names in `dir` that are not step secrets (the audit checkpoint key); still hidden. */
  constructor(env: NodeJS.ProcessEnv, dir: string | null, hidden: readonly string[] = [], skip: readonly string[] = []) {
    this.hidden.push(...hidden);
    if (dir) {
      for (const name of readdirSync(dir)) {
        const file = path.join(dir, name);
        if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) || !statSync(file).isFile()) continue;
        const value = readFileSync(file, 'utf8').trim();
        if (skip.includes(name)) this.hidden.push(value);
        else this.values.set(name, value);
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
   * Replaces every whole secret value, and every encoded form of it, by "***" — longest first, so
   * a secret that contains another is not half-hidden. Values shorter than 4 characters would
   * mangle ordinary text and are not hidden. Nothing shorter than a whole value is ever hidden.
   */
  redact(text: string): string {
    const pattern = this.compiled();
    return pattern === null ? text : text.replace(pattern, '***');
  }

  /**
   * How many characters either side of a cut may hold part of a secret (the longest form, less
   * one), rounded up to a multiple of 16 so that the figure does not tell a secret's length.
   */
  get cutWindow(): number {
    this.compiled();
    return this.window;
  }

  /**
   * The two sides of a cut (an output cap kept `head` and `tail` of a longer text; `tail` null
   * when only the head was kept), redacted: whole values first, then the `cutWindow` characters
   * at the cut replaced by "***" whatever they hold, since a value cut in two is in neither piece.
   */
  redactCut(head: string, tail: string | null): { head: string; tail: string | null } {
    const w = this.cutWindow;
    const h = this.redact(head);
    const t = tail === null ? null : this.redact(tail);
    if (w === 0) return { head: h, tail: t };
    return { head: h.length > w ? `${h.slice(0, h.length - w)}***` : '***', tail: t === null ? null : t.length > w ? `***${t.slice(w)}` : '***' };
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

  /** One alternation of every form of every value, longest first; built once. */
  private compiled(): RegExp | null {
    if (this.pattern !== undefined) return this.pattern;
    const forms = new Set<string>();
    for (const value of [...this.values.values(), ...this.hidden]) {
      if (value.length < 4) continue;
      for (const form of encodedForms(value)) if (form.length >= 4) forms.add(form);
    }
    const sorted = [...forms].sort((a, b) => b.length - a.length);
    const longest = sorted[0]?.length ?? 0;
    this.window = longest === 0 ? 0 : Math.ceil((longest - 1) / 16) * 16;
    this.pattern = sorted.length === 0 ? null : new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
    return this.pattern;
  }
}

/**
 * The ways a value is commonly written into text: as is; percent-encoded (both hex cases, and
 * form encoding with "+"); as the inside of a JSON string (also with every non-ASCII character and
 * "/" escaped, as some encoders write it); and base64 (standard and URL-safe) at each of the three
 * alignments it can take inside a longer encoded text, e.g. "user:secret" in a Basic header —
 * there only the characters that depend on the value alone.
 */
export function encodedForms(value: string): string[] {
  const forms = [value];
  const percent = encodeURIComponent(value);
  forms.push(
    percent,
    percent.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    new URLSearchParams({ v: value }).toString().slice(2),
    encodeURI(value),
  );
  const json = JSON.stringify(value).slice(1, -1);
  forms.push(json, json.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/\//g, '\\/'));
  const bytes = Buffer.from(value, 'utf8');
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const inner = encoded.slice(Math.ceil((offset * 8) / 6), Math.floor(((offset + bytes.length) * 8) / 6));
    if (inner.length >= 8) forms.push(inner, inner.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...new Set(forms)];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
