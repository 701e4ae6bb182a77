import { readFileSync } from 'node:fs';
import { RemediatorError, errorMessage } from '../domain/errors.js';

/** One matcher of a silence, as Alertmanager's v2 API writes it. */
export interface SilenceMatcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  readonly isEqual: boolean;
}

/** A silence to create (or, with an id, to update: Alertmanager may answer with a new id). */
export interface SilenceSpec {
  readonly id?: string;
  readonly matchers: readonly SilenceMatcher[];
  readonly startsAt: string;
  readonly endsAt: string;
  readonly createdBy: string;
  readonly comment: string;
}

/** An alert as `GET /api/v2/alerts` lists it (the fields used here). */
export interface ActiveAlert {
  readonly fingerprint: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly status: { readonly state: 'active' | 'suppressed' | 'unprocessed'; readonly silencedBy: readonly string[] };
}

/** How to reach Alertmanager: the configuration's alertmanager block, secrets read from their files. */
export interface AlertmanagerOptions {
  readonly urls: readonly string[];
  readonly tokenFile?: string | undefined;
  readonly basicAuth?: { readonly username: string; readonly passwordFile: string } | undefined;
  readonly timeoutMs: number;
}

/**
 * A small client of Alertmanager's v2 API: create, update and expire silences, list alerts. With
 * several URLs (an HA pair) each request goes to the first that answers: a network error, a
 * timeout or a 5xx moves on to the next; a 4xx is an answer (the request is wrong) and is not
 * tried elsewhere. Errors are RemediatorErrors naming the URL and what Alertmanager said.
 */
export class AlertmanagerClient {
  private readonly headers: Record<string, string>;

  constructor(private readonly options: AlertmanagerOptions) {
    this.headers = { accept: 'application/json' };
    if (options.tokenFile !== undefined) this.headers['authorization'] = `Bearer ${readCredential(options.tokenFile, 'alertmanager.tokenFile')}`;
    if (options.basicAuth !== undefined) {
      const password = readCredential(options.basicAuth.passwordFile, 'alertmanager.basicAuth.passwordFile');
      this.headers['authorization'] = `Basic ${Buffer.from(`${options.basicAuth.username}:${password}`).toString('base64')}`;
    }
  }

  /** Creates (or updates) a silence; returns its id. */
  async createSilence(silence: SilenceSpec): Promise<string> {
    const body = (await this.request('POST', '/api/v2/silences', silence)) as { silenceID?: unknown } | null;
    if (typeof body?.silenceID !== 'string') throw new RemediatorError('internal', 'Alertmanager answered a silence without a silenceID', { retryable: true });
    return body.silenceID;
  }

  /** A silence by id, or null when this Alertmanager does not know it. */
  async getSilence(id: string): Promise<(SilenceSpec & { id: string; status: { state: 'active' | 'pending' | 'expired' } }) | null> {
    return (await this.request('GET', `/api/v2/silence/${encodeURIComponent(id)}`, undefined, [404])) as
      (SilenceSpec & { id: string; status: { state: 'active' | 'pending' | 'expired' } }) | null;
  }

  /** Expires a silence at once; one already expired (or unknown to this Alertmanager) is left as it is. */
  async expireSilence(id: string): Promise<void> {
    await this.request('DELETE', `/api/v2/silence/${encodeURIComponent(id)}`, undefined, [404]);
  }

  /** Alerts Alertmanager holds now, silenced and inhibited ones included, matching all filters (matcher text). */
  async listAlerts(filters: readonly string[] = [], options: { active?: boolean } = {}): Promise<ActiveAlert[]> {
    const q = new URLSearchParams({ active: String(options.active ?? true), silenced: 'true', inhibited: 'true', unprocessed: 'true' });
    for (const f of filters) q.append('filter', f);
    const body = await this.request('GET', `/api/v2/alerts?${q.toString()}`);
    if (!Array.isArray(body)) throw new RemediatorError('internal', 'Alertmanager answered the alerts with something other than a list', { retryable: true });
    return body as ActiveAlert[];
  }

  private async request(method: string, path: string, body?: unknown, alsoOk: readonly number[] = []): Promise<unknown> {
    const failures: string[] = [];
    for (const base of this.options.urls) {
      const url = `${base.replace(/\/+$/, '')}${path}`;
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.options.timeoutMs),
          redirect: 'error',
        });
      } catch (err) {
        failures.push(`${hostOf(url)}: ${describeFetchError(err, this.options.timeoutMs)}`);
        continue;
      }
      const text = await res.text();
      if (res.ok || alsoOk.includes(res.status)) return text === '' || !res.ok ? null : parseJson(text);
      const said = `${hostOf(url)}: HTTP ${res.status}${text.trim() === '' ? '' : ` ${JSON.stringify(text.trim().slice(0, 300))}`}`;
      if (res.status < 500) {
        throw new RemediatorError('bad_request', `Alertmanager refused ${method} ${path.split('?')[0]} (${said})`, { retryable: res.status === 429 });
      }
      failures.push(said);
    }
    throw new RemediatorError('internal', `no Alertmanager answered ${method} ${path.split('?')[0]}: ${failures.join('; ')}`, { retryable: true });
  }
}

/** A credential from its file (trimmed); an unreadable file is a configuration error naming the key. */
export function readCredential(file: string, key: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new RemediatorError('invalid_config', `${key}: cannot read ${file}: ${errorMessage(err)}`);
  }
}

function hostOf(url: string): string {
  return new URL(url).host;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RemediatorError('internal', `Alertmanager answered something other than JSON: ${JSON.stringify(text.slice(0, 200))}`, { retryable: true });
  }
}

/** "timed out after 5000 ms" or the network error's own words (ECONNREFUSED, …). */
export function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : null;
  return cause ?? errorMessage(err);
}
