import { jsonPath } from '../../domain/json-path.js';
import type { OutputRedactor } from '../output-cap.js';
import { sleep } from '../retry.js';
import { describeFetchError, sendHttp, type HttpCall } from './http-request.js';
import type { StepOutcome } from '../../domain/step-outcome.js';
import type { StepContext } from './step-context.js';

/** One look at the condition. `error` means we could not tell (inconclusive), not "false". */
export interface CheckResult {
  readonly holds: boolean;
  readonly measured: string;
  readonly error?: string;
}

/** A condition to poll. */
export type Check = (signal: AbortSignal) => Promise<CheckResult>;

/**
 * Polls a check every `everyMs` until it holds or `withinMs` runs out. Each measurement is
 * recorded. Running out of time is a failure; so is ending on errors or missing data, which is
 * reported as inconclusive — a check that could not be made never counts as success.
 */
export async function pollUntil(check: Check, opts: { withinMs: number; everyMs: number; now?: () => number }, ctx: StepContext): Promise<StepOutcome> {
  const now = opts.now ?? Date.now;
  const start = now();
  const deadline = start + opts.withinMs;
  const lines: string[] = [];
  let last: CheckResult | undefined;
  for (;;) {
    last = await check(ctx.signal);
    lines.push(
      `+${((now() - start) / 1000).toFixed(1)}s ${last.error ? `error: ${last.error}` : last.holds ? `holds: ${last.measured}` : `not yet: ${last.measured}`}`,
    );
    if (last.holds) return { ok: true, exitCode: null, output: lines.join('\n'), error: null, vars: { stdout: last.measured } };
    if (now() + opts.everyMs > deadline || ctx.signal.aborted) break;
    try {
      await sleep(opts.everyMs, ctx.signal);
    } catch {
      break;
    }
  }
  const output = lines.join('\n');
  if (ctx.signal.aborted) return { ok: false, exitCode: null, output, error: 'cancelled', vars: {} };
  const error = last.error
    ? `inconclusive: the last check failed (${last.error}) and ${opts.withinMs / 1000}s are up`
    : `did not hold within ${opts.withinMs / 1000}s (last: ${last.measured})`;
  return { ok: false, exitCode: null, output, error, vars: { stdout: last.measured } };
}

/**
 * A Prometheus instant query through its HTTP API: a non-empty result holds; an empty one is
 * "not yet"; an API error or an unreachable server is inconclusive.
 */
export function prometheusCheck(baseUrl: string, query: string, tryTimeoutMs: number, outputCapBytes: number, redactor: OutputRedactor): Check {
  return async (signal) => {
    const url = `${baseUrl.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
    const ctx = { signal, timeoutMs: tryTimeoutMs, outputCapBytes, redactor };
    try {
      const res = await sendHttp({ method: 'GET', url, headers: { accept: 'application/json' }, body: null }, ctx);
      const body = res.json as { status?: string; error?: string; data?: { resultType?: string; result?: unknown } } | undefined;
      if (res.status !== 200 || body?.status !== 'success') {
        return { holds: false, measured: '', error: `Prometheus answered ${res.status}${body?.error ? `: ${body.error}` : ''}` };
      }
      const result = body.data?.result;
      const resultType = body.data?.resultType;
      // A scalar or string result is [time, value] (an array too): it always has a value, so it holds.
      if ((resultType === 'scalar' || resultType === 'string') && Array.isArray(result)) {
        return { holds: true, measured: `${resultType} ${String(result[1])}` };
      }
      if (Array.isArray(result)) {
        const values = result
          .slice(0, 5)
          .map((r: { metric?: Record<string, string>; value?: [number, string] }) => `${JSON.stringify(r.metric ?? {})} ${r.value?.[1] ?? '?'}`);
        return { holds: result.length > 0, measured: result.length === 0 ? 'empty result' : `${result.length} series: ${values.join(', ')}` };
      }
      // A "success" without a result is no data: inconclusive, never success.
      return { holds: false, measured: '', error: `Prometheus answered ${res.status} without a result` };
    } catch (err) {
      return { holds: false, measured: '', error: describeFetchError(err, ctx) };
    }
  };
}

/** An HTTP check: status in the list, and optionally a JSON field's value or a text in the body. */
export function httpCheck(
  call: HttpCall,
  expect: { status: readonly number[]; json: { path: string; equals: string | number | boolean } | null; contains: string | null },
  tryTimeoutMs: number,
  outputCapBytes: number,
  redactor: OutputRedactor,
): Check {
  return async (signal) => {
    const ctx = { signal, timeoutMs: tryTimeoutMs, outputCapBytes, redactor };
    try {
      const res = await sendHttp(call, ctx);
      if (!expect.status.includes(res.status)) return { holds: false, measured: `HTTP ${res.status}` };
      if (expect.json) {
        const value = jsonPath(res.json, expect.json.path);
        const holds = value === expect.json.equals;
        return { holds, measured: `HTTP ${res.status}, ${expect.json.path} = ${JSON.stringify(value)}` };
      }
      if (expect.contains !== null) {
        return {
          holds: res.body.includes(expect.contains),
          measured: `HTTP ${res.status}, body ${res.body.includes(expect.contains) ? 'contains' : 'lacks'} ${JSON.stringify(expect.contains)}`,
        };
      }
      return { holds: true, measured: `HTTP ${res.status}` };
    } catch (err) {
      return { holds: false, measured: '', error: describeFetchError(err, ctx) };
    }
  };
}
