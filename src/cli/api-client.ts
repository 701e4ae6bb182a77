import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readSecret } from '../config/secrets.js';
import { errorMessage, RemediatorError } from '../domain/errors.js';
import { CLI_USER_AGENT } from '../http/request-body.js';

/** Where the CLI finds the daemon unless told otherwise. */
export const DEFAULT_URL = 'http://127.0.0.1:9595';

/**
 * The CLI's side of the HTTP API, for commands that act on a running daemon (pause, resume,
 * circuit). The URL comes from --url or REMEDIATOR_URL; the token only from REMEDIATOR_TOKEN or
 * REMEDIATOR_TOKEN_FILE, never from a flag (flags show in `ps` and shell history).
 */
export class ApiClient {
  constructor(
    readonly url: string,
    private readonly token: string,
    private readonly timeoutMs = 10_000,
  ) {}

  /**
   * Builds a client from the --url flag and the environment; fails early without a token. On a
   * laptop, with no token set and the daemon on this machine, the token `npm start` generated
   * (data/api.token in the working directory) is used, and `notice` says so. Never for a daemon
   * elsewhere: that would send this machine's token to it.
   */
  static fromEnv(flagUrl: string | undefined, env: NodeJS.ProcessEnv, local: { cwd?: string; notice?: (text: string) => void } = {}): ApiClient {
    const url = (flagUrl ?? env['REMEDIATOR_URL'] ?? DEFAULT_URL).replace(/\/+$/, '');
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new RemediatorError('bad_request', `${url} is not an http(s) URL: give --url http://host:port or set REMEDIATOR_URL`);
    }
    let token = readSecret(env, 'REMEDIATOR_TOKEN');
    if (token === undefined && local.cwd !== undefined && isLoopback(new URL(url).hostname)) {
      const file = path.join(local.cwd, 'data', 'api.token');
      token = readTokenFile(file);
      if (token !== undefined) local.notice?.(`no REMEDIATOR_TOKEN set: using the token in ${path.relative(local.cwd, file)} (generated at the first start)`);
    }
    if (token === undefined) {
      throw new RemediatorError(
        'unauthorized',
        'no API token: set REMEDIATOR_TOKEN (or REMEDIATOR_TOKEN_FILE) to a token of the daemon\'s REMEDIATOR_API_TOKENS, e.g. REMEDIATOR_TOKEN="$(cat data/api.token)"',
      );
    }
    return new ApiClient(url, token);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** POSTs JSON; `accept` lists statuses other than 2xx whose JSON body is the answer (a refused reload's 422). */
  post<T>(path: string, body: unknown = {}, accept: readonly number[] = []): Promise<T> {
    return this.request<T>('POST', path, body, accept);
  }

  private async request<T>(method: string, path: string, body?: unknown, accept: readonly number[] = []): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          'user-agent': `${CLI_USER_AGENT}/1`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
        // The daemon never redirects; following one could carry the token somewhere else.
        redirect: 'error',
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? errorMessage(err);
      throw new RemediatorError('store_unavailable', `cannot reach the daemon at ${this.url} (${cause}): is it running? Point --url or REMEDIATOR_URL at it`, {
        retryable: true,
        cause: err,
      });
    }
    const text = await res.text();
    if (res.status === 401) {
      throw new RemediatorError(
        'unauthorized',
        `the daemon at ${this.url} refused the API token (401): set REMEDIATOR_TOKEN to a token listed in its REMEDIATOR_API_TOKENS (identity=token), e.g. REMEDIATOR_TOKEN="$(cat data/api.token)"`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new RemediatorError(
        'internal',
        `${method} ${this.url}${path} answered ${res.status} with something that is not JSON: is ${this.url} a remediator daemon?`,
      );
    }
    if (!res.ok && !accept.includes(res.status)) {
      const message = (json as { error?: { message?: string } }).error?.message ?? text;
      const code =
        res.status === 404
          ? 'not_found'
          : res.status === 403
            ? 'forbidden'
            : res.status === 409
              ? 'conflict'
              : res.status < 500
                ? 'bad_request'
                : 'store_unavailable';
      throw new RemediatorError(code, `${method} ${path}: ${res.status}: ${message}`, { retryable: res.status >= 500 });
    }
    return json as T;
  }
}

/** This machine: a daemon the generated token may be sent to. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function readTokenFile(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}
