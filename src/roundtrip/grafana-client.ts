import { RemediatorError } from '../domain/errors.js';
import { describeFetchError, readCredential } from './alertmanager-client.js';

/** An annotation as Grafana's HTTP API takes it: times in milliseconds since the epoch; with timeEnd, a region. */
export interface AnnotationSpec {
  readonly dashboardUID?: string;
  readonly time: number;
  readonly timeEnd?: number;
  readonly tags: readonly string[];
  readonly text: string;
}

/** How to reach Grafana: the configuration's grafana block, the token read from its file. */
export interface GrafanaOptions {
  readonly url: string;
  readonly tokenFile: string;
  readonly timeoutMs: number;
}

/**
 * What went wrong talking to Grafana: `status` is Grafana's HTTP status, or null when none came
 * back (a timeout, a refused connection). A 4xx is not worth retrying; the rest may be.
 */
export class GrafanaError extends RemediatorError {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(status !== null && status < 500 ? 'bad_request' : 'internal', message, { retryable: status === null || status >= 500 || status === 429 });
  }
}

/**
 * A small client of Grafana's annotations API (`POST /api/annotations`, `PATCH
 * /api/annotations/:id`) with a service account token. One request, one timeout: nothing is
 * retried here, the caller decides.
 */
export class GrafanaClient {
  private readonly headers: Record<string, string>;

  constructor(private readonly options: GrafanaOptions) {
    this.headers = {
      accept: 'application/json',
      'content-type': 'application/json',
      authorization: `Bearer ${readCredential(options.tokenFile, 'grafana.tokenFile')}`,
    };
  }

  /** Creates an annotation; returns its id. */
  async createAnnotation(annotation: AnnotationSpec): Promise<number> {
    const body = (await this.request('POST', '/api/annotations', annotation)) as { id?: unknown } | null;
    if (typeof body?.id !== 'number') throw new GrafanaError('Grafana answered the new annotation without an id', 200);
    return body.id;
  }

  /** Changes an annotation's times, tags or text (PATCH replaces the tags given, it does not add to them). */
  async patchAnnotation(id: number, patch: Partial<Pick<AnnotationSpec, 'time' | 'timeEnd' | 'tags' | 'text'>>): Promise<void> {
    await this.request('PATCH', `/api/annotations/${id}`, patch);
  }

  private async request(method: string, path: string, body: unknown): Promise<unknown> {
    const url = `${this.options.url.replace(/\/+$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: this.headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      throw new GrafanaError(`Grafana did not answer ${method} ${path}: ${describeFetchError(err, this.options.timeoutMs)}`, null);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new GrafanaError(`Grafana's answer to ${method} ${path} was cut: ${describeFetchError(err, this.options.timeoutMs)}`, null);
    }
    if (!res.ok) {
      const said = text.trim() === '' ? '' : ` ${JSON.stringify(text.trim().slice(0, 300))}`;
      throw new GrafanaError(`Grafana refused ${method} ${path} (HTTP ${res.status}${said})`, res.status);
    }
    try {
      return text === '' ? null : (JSON.parse(text) as unknown);
    } catch {
      throw new GrafanaError(`Grafana answered ${method} ${path} with something other than JSON: ${JSON.stringify(text.slice(0, 200))}`, res.status);
    }
  }
}
