import type { Step } from '../domain/playbook.js';
import type { RenderedCheck, RenderedStep } from '../domain/run.js';
import { compileTemplate, renderTemplate, type Resolve } from '../playbook/template.js';

/**
 * Renders a step's templates. Each templated string becomes exactly one string: an argv element
 * stays one argv element whatever the value holds (spaces, quotes, ";", "$(…)"), because no shell
 * ever sees it and the rendered text is never parsed again.
 */
export function renderStep(step: Step, resolve: Resolve): { rendered: RenderedStep; deferred: boolean } {
  let deferred = false;
  const text = (source: string): string => {
    const out = renderTemplate(compileTemplate(source), resolve);
    deferred ||= out.deferred;
    return out.text;
  };
  const record = (r: Readonly<Record<string, string>>): Record<string, string> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, text(v)]));
  const deep = (value: unknown): unknown => {
    if (typeof value === 'string') return text(value);
    if (Array.isArray(value)) return value.map(deep);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deep(v)]));
    return value;
  };
  let rendered: RenderedStep;
  switch (step.kind) {
    case 'run':
      rendered = {
        kind: 'run',
        argv: step.argv.map(text),
        dryRunArgv: step.dryRunArgv === null ? null : step.dryRunArgv.map(text),
        env: record(step.env),
        cwd: step.cwd === null ? null : text(step.cwd),
      };
      break;
    case 'http':
      rendered = {
        kind: 'http',
        method: step.request.method,
        url: text(step.request.url),
        headers: record(step.request.headers),
        body: deep(step.request.body),
        expectStatus: [...step.expectStatus],
      };
      break;
    case 'verify': {
      const c = step.check;
      const check: RenderedCheck =
        c.kind === 'prometheus'
          ? { kind: 'prometheus', query: text(c.query), url: c.url === null ? null : text(c.url) }
          : c.kind === 'http'
            ? {
                kind: 'http',
                method: c.request.method,
                url: text(c.request.url),
                headers: record(c.request.headers),
                status: [...c.status],
                // The loader accepts templates in json and contains too, so they are rendered like every other string.
                json: c.json && { path: text(c.json.path), equals: typeof c.json.equals === 'string' ? text(c.json.equals) : c.json.equals },
                contains: c.contains === null ? null : text(c.contains),
              }
            : { kind: 'resolved' };
      rendered = { kind: 'verify', check, withinMs: step.withinMs, everyMs: step.everyMs };
      break;
    }
    case 'wait':
      rendered = { kind: 'wait', durationMs: step.durationMs };
      break;
    case 'notify':
      rendered = { kind: 'notify', text: text(step.text), channel: step.channel };
      break;
    case 'approval':
      rendered = { kind: 'approval', message: step.message === null ? null : text(step.message) };
      break;
  }
  return { rendered, deferred };
}

/** One line a person can read: the argv joined with shell-style quoting, or "POST url". */
export function describeRendered(r: RenderedStep, dryRun: boolean): string {
  switch (r.kind) {
    case 'run':
      return (dryRun && r.dryRunArgv ? r.dryRunArgv : r.argv).map(quoteArg).join(' ');
    case 'http':
      return `${r.method} ${r.url}`;
    case 'verify':
      return r.check.kind === 'prometheus'
        ? `until prometheus query ${JSON.stringify(r.check.query)} returns data (within ${r.withinMs / 1000}s)`
        : r.check.kind === 'http'
          ? `until ${r.check.method} ${r.check.url} answers ${JSON.stringify(r.check.status)}`
          : 'until the alert resolves';
    case 'wait':
      return `wait ${r.durationMs / 1000}s`;
    case 'notify':
      return `notify${r.channel ? ` ${r.channel}` : ''}: ${r.text}`;
    case 'approval':
      return `ask for approval${r.message ? `: ${r.message}` : ''}`;
  }
}

/** Quotes an argv element for display only; nothing ever executes this text. */
function quoteArg(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
