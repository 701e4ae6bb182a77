import type { Notification, Notifier } from '../domain/notifier.js';

/**
 * Posts each notification as JSON to a configured URL (a chat bridge, an incident tool). Retries
 * a few times on network errors, 429 and 5xx, honouring Retry-After, then gives up with an error
 * the caller records.
 */
export class WebhookNotifier implements Notifier {
  readonly name = 'webhook';

  private readonly url: string;
  private readonly headers: Record<string, string>;

  constructor(
    url: string,
    private readonly options: { headers?: Record<string, string>; attempts?: number; timeoutMs?: number; sleep?: (ms: number) => Promise<void> } = {},
  ) {
    // fetch refuses credentials in a URL and quotes the whole URL, password included, in its
    // error: move them into a header, so no error can carry them.
    const parsed = new URL(url);
    this.headers = { ...options.headers };
    if (parsed.username || parsed.password) {
      const pair = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
      this.headers['authorization'] = `Basic ${Buffer.from(pair).toString('base64')}`;
      parsed.username = '';
      parsed.password = '';
    }
    this.url = parsed.toString();
  }

  async send(n: Notification): Promise<void> {
    const attempts = this.options.attempts ?? 3;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let last = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let retryAfterMs = 500 * 2 ** (attempt - 1);
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.headers },
          body: JSON.stringify({
            kind: n.kind,
            text: n.text,
            channel: n.channel ?? null,
            runId: n.runId ?? null,
            playbook: n.playbook ?? null,
            data: n.data ?? {},
          }),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
        });
        await res.arrayBuffer();
        if (res.ok) return;
        last = `HTTP ${res.status}`;
        if (res.status !== 429 && res.status < 500) break;
        const header = Number(res.headers.get('retry-after'));
        if (Number.isFinite(header) && header > 0) retryAfterMs = Math.min(header * 1000, 30_000);
      } catch (err) {
        last = (err as Error).message;
      }
      if (attempt < attempts) await sleep(retryAfterMs);
    }
    throw new Error(`webhook notification to ${new URL(this.url).host} failed: ${last}`);
  }
}
