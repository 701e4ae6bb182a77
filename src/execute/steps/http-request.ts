import { withDeadline } from '../deadline.js';
import type { StepOutcome } from '../../domain/step-outcome.js';
import type { StepContext } from './step-context.js';

/** A request as rendered. */
export interface HttpCall {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** A response, read up to the cap. */
export interface HttpResponse {
  readonly status: number;
  readonly body: string;
  readonly truncated: boolean;
  readonly json: unknown;
}

/**
 * Sends one request with a timeout and the run's cancel signal, and reads at most the cap of the
 * body (the rest is not downloaded). A JSON response is parsed for later steps when it fits.
 */
export async function sendHttp(call: HttpCall, ctx: StepContext): Promise<HttpResponse> {
  const headers: Record<string, string> = { 'user-agent': 'remediator', ...call.headers };
  let body: string | undefined;
  if (call.body !== null && call.body !== undefined) {
    body = typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
    if (typeof call.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const deadline = withDeadline(ctx.signal, ctx.timeoutMs, () => new DOMException(`no answer within ${ctx.timeoutMs} ms`, 'TimeoutError'));
  let res: Response;
  let read: { text: string; truncated: boolean };
  try {
    res = await fetch(call.url, { method: call.method, headers, ...(body === undefined ? {} : { body }), signal: deadline.signal, redirect: 'manual' });
    read = await readCapped(res, ctx);
  } finally {
    deadline.clear();
  }
  const { text, truncated } = read;
  let json: unknown;
  if (!truncated && (res.headers.get('content-type') ?? '').includes('json')) {
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, body: text, truncated, json };
}

/** The body up to the cap, redacted; a cut body's last characters are hidden by position (see OutputRedactor). */
async function readCapped(res: Response, ctx: StepContext): Promise<{ text: string; truncated: boolean }> {
  const cap = ctx.outputCapBytes;
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: ctx.redactor.redact(Buffer.concat(chunks).toString('utf8')), truncated: false };
    chunks.push(value);
    size += value.length;
    if (size > cap) {
      await reader.cancel();
      const { head } = ctx.redactor.redactCut(Buffer.concat(chunks).subarray(0, cap).toString('utf8'), null);
      return { text: `${head}\n[… response cut at ${cap} bytes …]`, truncated: true };
    }
  }
}

/** Why a request failed, in words: timeouts and refused connections read differently. */
export function describeFetchError(err: unknown, ctx: StepContext): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (ctx.signal.aborted) return 'cancelled';
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${ctx.timeoutMs} ms`;
  return e.cause?.code ? `${e.cause.code}: ${e.cause.message ?? e.message ?? ''}`.trim() : (e.message ?? String(err));
}

/** Runs an http step: success when the status is one of the expected ones. */
export async function runHttpStep(call: HttpCall, expectStatus: readonly number[], ctx: StepContext): Promise<StepOutcome> {
  let res: HttpResponse;
  try {
    res = await sendHttp(call, ctx);
  } catch (err) {
    return { ok: false, exitCode: null, output: '', error: `${call.method} ${call.url}: ${describeFetchError(err, ctx)}`, vars: {} };
  }
  const ok = expectStatus.includes(res.status);
  return {
    ok,
    exitCode: null,
    output: `HTTP ${res.status}\n${res.body}`,
    error: ok ? null : `${call.method} ${call.url} answered ${res.status}, expected ${expectStatus.join(' or ')}`,
    vars: { stdout: res.body, ...(res.json === undefined ? {} : { json: res.json }) },
  };
}
