import { errorMessage, RemediatorError } from '../../domain/errors.js';

/** Where a message was posted: what chat.update needs to change it later. */
export interface SlackMessageRef {
  readonly channel: string;
  readonly ts: string;
}

/** A message: `text` is the fallback (notifications, old clients), `blocks` the Block Kit layout. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly unknown[];
}

/** How the client reaches Slack, and how hard it tries. */
export interface SlackClientOptions {
  /** A bot token (xoxb-…): Web API, one message per run updated in place. */
  readonly botToken?: string;
  /** An incoming webhook URL: post only, one channel, no updates. The URL is itself a secret. */
  readonly webhookUrl?: string;
  readonly apiUrl?: string;
  readonly attempts?: number;
  readonly timeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * A call to Slack that failed. `slackError` is Slack's own error code (`channel_not_found`,
 * `ratelimited`…) or ours for what Slack never answered (`http_503`, `network`); `retryable` says
 * whether the same call could work later.
 */
export class SlackApiError extends RemediatorError {
  readonly slackError: string;

  constructor(slackError: string, message: string, retryable: boolean) {
    super('internal', message, { retryable });
    this.name = 'SlackApiError';
    this.slackError = slackError;
  }
}

/** Web API error codes that say "try again later" rather than "this request is wrong". */
const RETRYABLE_API_ERRORS = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/** The longest Retry-After we wait; past it, the next attempt (or the caller) decides. */
const MAX_RETRY_AFTER_MS = 30_000;

/** Where one request goes, and how errors name it without quoting a secret. */
interface Target {
  readonly url: string;
  /** E.g. "Slack chat.update" or "Slack webhook at hooks.example": never the full URL. */
  readonly what: string;
  /** Web API methods answer `{ ok, error }` JSON; webhooks and response_urls answer "ok". */
  readonly api: boolean;
}

/**
 * Talks to Slack: with a bot token through the Web API (post, then update in place), or through
 * an incoming webhook (post only). Retries 429 (honouring Retry-After), 5xx, network errors and
 * Slack's transient error codes; errors name the method or host and never carry the token or a
 * webhook or response URL, which are secrets as good as a password.
 */
export class SlackClient {
  /** True with a bot token: messages can be updated in place and post returns where they went. */
  readonly canUpdate: boolean;

  private readonly botToken: string | null;
  private readonly webhookUrl: string | null;
  private readonly apiUrl: string;
  private readonly attempts: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Every secret string a low-level error could quote (nock and undici quote URLs). */
  private readonly secrets: string[] = [];

  constructor(options: SlackClientOptions) {
    const hasToken = options.botToken !== undefined && options.botToken !== '';
    const hasWebhook = options.webhookUrl !== undefined && options.webhookUrl !== '';
    if (hasToken === hasWebhook) {
      throw new RemediatorError(
        'invalid_config',
        'Slack needs exactly one of a bot token (to post and update one message per run) or an incoming webhook URL (post only)',
      );
    }
    this.botToken = hasToken ? (options.botToken ?? null) : null;
    this.webhookUrl = hasWebhook ? (options.webhookUrl ?? null) : null;
    if (this.webhookUrl !== null) {
      const parsed = parseHttpUrl(this.webhookUrl);
      if (parsed === null)
        throw new RemediatorError('invalid_config', 'the Slack webhook URL is not an http(s) URL: copy it from the Slack app\'s "Incoming Webhooks" page');
      this.secrets.push(this.webhookUrl, parsed.href, parsed.pathname + parsed.search);
    }
    if (this.botToken !== null) this.secrets.push(this.botToken);
    this.canUpdate = this.botToken !== null;
    this.apiUrl = (options.apiUrl ?? 'https://slack.com/api').replace(/\/+$/, '');
    this.attempts = Math.max(1, options.attempts ?? 4);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * Posts a message. With a bot token it goes to `channel` (a name or id) and the answer says
   * where it landed; through a webhook it goes to the webhook's channel and the answer is null.
   */
  async postMessage(m: SlackMessage & { channel?: string; threadTs?: string }): Promise<SlackMessageRef | null> {
    // Links in alert text must not unfurl into previews of whatever they point at.
    const body: Record<string, unknown> = { text: m.text, blocks: m.blocks, unfurl_links: false, unfurl_media: false };
    if (this.webhookUrl !== null) {
      await this.post({ url: this.webhookUrl, what: `Slack webhook at ${hostOf(this.webhookUrl)}`, api: false }, body);
      return null;
    }
    if (m.channel === undefined || m.channel === '') {
      throw new SlackApiError('channel_not_set', 'Slack chat.postMessage needs a channel: set a default Slack channel or name one in the notify step', false);
    }
    if (m.threadTs !== undefined) body['thread_ts'] = m.threadTs;
    const answer = await this.post(this.method('chat.postMessage'), { channel: m.channel, ...body });
    const channel = answer['channel'];
    const ts = answer['ts'];
    if (typeof channel !== 'string' || typeof ts !== 'string') {
      throw new SlackApiError('invalid_response', 'Slack chat.postMessage answered ok without a channel and ts', false);
    }
    return { channel, ts };
  }

  /** Replaces a message posted with the bot token (chat.update); webhooks cannot. */
  async updateMessage(m: SlackMessage & SlackMessageRef): Promise<void> {
    if (!this.canUpdate) throw new SlackApiError('not_supported', 'a Slack incoming webhook cannot update messages: configure a bot token instead', false);
    await this.post(this.method('chat.update'), { channel: m.channel, ts: m.ts, text: m.text, blocks: m.blocks });
  }

  /** Answers an interaction through its response_url (an ephemeral note, or a replaced message). */
  async respond(responseUrl: string, body: Record<string, unknown>): Promise<void> {
    const parsed = parseHttpUrl(responseUrl);
    if (parsed === null) throw new SlackApiError('invalid_response_url', 'the Slack response_url is not an http(s) URL', false);
    // A response_url lets anyone holding it post into the conversation for 30 minutes.
    await this.post({ url: responseUrl, what: `Slack response_url at ${parsed.host}`, api: false }, body, [
      responseUrl,
      parsed.href,
      parsed.pathname + parsed.search,
    ]);
  }

  private method(name: string): Target {
    return { url: `${this.apiUrl}/${name}`, what: `Slack ${name}`, api: true };
  }

  /** One call, retried while Slack says it could work later; the Web API's JSON answer, or {}. */
  private async post(target: Target, body: Record<string, unknown>, secrets: readonly string[] = []): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (target.api && this.botToken !== null) headers['authorization'] = `Bearer ${this.botToken}`;
    const payload = JSON.stringify(body);
    let last: SlackApiError | null = null;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      let waitMs = Math.min(500 * 2 ** (attempt - 1), MAX_RETRY_AFTER_MS);
      let res: Response;
      let text: string;
      try {
        res = await fetch(target.url, { method: 'POST', headers, body: payload, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' });
        text = await res.text();
      } catch (err) {
        last = new SlackApiError('network', `${target.what} failed: ${this.redact(networkMessage(err), secrets)}`, true);
        if (attempt < this.attempts) await this.sleep(waitMs);
        continue;
      }
      const outcome = this.judge(target, res, text);
      if (outcome.ok) return outcome.answer;
      last = outcome.error;
      if (!last.retryable) throw last;
      if (res.status === 429) waitMs = retryAfterMs(res.headers.get('retry-after')) ?? waitMs;
      if (attempt < this.attempts) await this.sleep(waitMs);
    }
    const error = last ?? new SlackApiError('network', `${target.what} failed`, true);
    throw new SlackApiError(error.slackError, `${error.message} (gave up after ${this.attempts} attempt${this.attempts === 1 ? '' : 's'})`, true);
  }

  /** Reads one answer: success with the Web API's JSON, or the error it amounts to. */
  private judge(target: Target, res: Response, text: string): { ok: true; answer: Record<string, unknown> } | { ok: false; error: SlackApiError } {
    const json = parseObject(text);
    const code = slackCode(json, text);
    if (res.status === 429) return { ok: false, error: new SlackApiError('ratelimited', `${target.what} was rate limited (HTTP 429)`, true) };
    if (res.status >= 500)
      return { ok: false, error: new SlackApiError(`http_${res.status}`, `${target.what} failed: HTTP ${res.status}${code ? ` ${code}` : ''}`, true) };
    if (res.status < 200 || res.status >= 300) {
      return {
        ok: false,
        error: new SlackApiError(code ?? `http_${res.status}`, `${target.what} was refused: HTTP ${res.status}${code ? ` ${code}` : ''}${hint(code)}`, false),
      };
    }
    if (!target.api) {
      // response_url answers JSON, webhooks answer "ok"; either may say ok:false in JSON.
      if (json !== null && json['ok'] === false) return { ok: false, error: apiError(target, code ?? 'unknown_error') };
      return { ok: true, answer: {} };
    }
    if (json === null)
      return { ok: false, error: new SlackApiError('invalid_response', `${target.what} answered HTTP ${res.status} with a body that is not JSON`, false) };
    if (json['ok'] !== true) return { ok: false, error: apiError(target, code ?? 'unknown_error') };
    return { ok: true, answer: json };
  }

  /** Removes any secret a lower layer quoted (nock and undici quote URLs, even headers). */
  private redact(message: string, extra: readonly string[]): string {
    let out = message;
    for (const secret of [...this.secrets, ...extra]) if (secret.length >= 8) out = out.split(secret).join('[redacted]');
    return out.replace(/xox[a-z]-[A-Za-z0-9-]+/g, '[redacted]');
  }
}

function apiError(target: Target, code: string): SlackApiError {
  return new SlackApiError(code, `${target.what} failed: Slack error ${code}${hint(code)}`, RETRYABLE_API_ERRORS.has(code));
}

/** What to do about the errors people hit while setting Slack up. */
function hint(code: string | null): string {
  switch (code) {
    case 'not_in_channel':
      return ': invite the bot to the channel (/invite @the-bot)';
    case 'channel_not_found':
      return ': check the channel name or id, and that the bot can see it';
    case 'invalid_auth':
    case 'not_authed':
    case 'token_revoked':
    case 'account_inactive':
      return ': check the bot token';
    case 'missing_scope':
      return ': add the chat:write scope to the Slack app and reinstall it';
    case 'no_service':
    case 'invalid_token':
      return ': the webhook was removed or is wrong; create a new one';
    default:
      return '';
  }
}

/** Slack's error code from an answer, only when it looks like one: never echo an arbitrary body. */
function slackCode(json: Record<string, unknown> | null, text: string): string | null {
  const candidate = json !== null ? json['error'] : text.trim();
  return typeof candidate === 'string' && /^[a-z][a-z0-9_.]{0,63}$/.test(candidate) && candidate !== 'ok' ? candidate : null;
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Retry-After in seconds (Slack sends whole seconds), capped; null when absent or odd. */
function retryAfterMs(header: string | null): number | null {
  if (header === null || !/^\d+$/.test(header.trim())) return null;
  return Math.min(Number(header.trim()) * 1000, MAX_RETRY_AFTER_MS);
}

/** fetch says "fetch failed" and hides the reason in its cause. */
function networkMessage(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return `${errorMessage(err)} (${cause.code})`;
  return errorMessage(err);
}

function parseHttpUrl(url: string): URL | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed : null;
  } catch {
    return null;
  }
}

function hostOf(url: string): string {
  return parseHttpUrl(url)?.host ?? 'an invalid URL';
}
