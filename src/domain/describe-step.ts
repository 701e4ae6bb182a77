import type { RenderedStep } from './run.js';

/**
 * One line a person can read for a rendered step: the argv joined with shell-style quoting, or
 * "POST url". For logs, events, the CLI and notifications alike; nothing ever executes it.
 */
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

/** Quotes an argv element for display only. */
export function quoteArg(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
