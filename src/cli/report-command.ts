import { RemediatorError } from '../domain/errors.js';
import { ReportReader } from '../record/sqlite/report-reader.js';
import { formatReport } from '../report/format-report.js';
import { ReportBuilder, type Report } from '../report/report.js';
import { auditDatabase, timeBound } from './audit-commands.js';

/** The window when --since is not given. */
export const DEFAULT_SINCE = '30d';

/** remediator report [--since t] [--until t] [--playbook NAME] [--json] [--db f | --config f] */
export interface ReportOptions {
  readonly db?: string;
  readonly config?: string;
  readonly since?: string;
  readonly until?: string;
  readonly playbook?: string;
  readonly json?: boolean;
}

/**
 * The report as text or JSON, read straight from the SQLite file (read-only, beside a running
 * daemon, no token: like the audit commands). Throws a RemediatorError on a bad argument or a
 * missing file, which the CLI prints and exits 1 on.
 */
export function reportCommand(opts: ReportOptions, now: Date = new Date()): string {
  const report = readReport(opts, now);
  return opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report);
}

/** Reads the rows of the window and computes the report. */
export function readReport(opts: ReportOptions, now: Date = new Date()): Report {
  const since = timeBound('--since', opts.since ?? DEFAULT_SINCE, now);
  const until = opts.until === undefined ? now.toISOString() : timeBound('--until', opts.until, now);
  if (since >= until) throw new RemediatorError('bad_request', `--since ${opts.since ?? DEFAULT_SINCE} is not before --until ${opts.until ?? 'now'}`);
  if (opts.playbook !== undefined && opts.playbook.trim() === '') throw new RemediatorError('bad_request', '--playbook: give a playbook name');
  const window = { since, until, playbook: opts.playbook ?? null };
  const reader = ReportReader.open(auditDatabase(opts));
  try {
    return reader.snapshot(() => {
      const builder = new ReportBuilder();
      for (const run of reader.runs(window)) builder.addRun(run);
      for (const s of reader.suppressions(window)) builder.addSuppressions(s);
      return builder.build(window);
    });
  } finally {
    reader.close();
  }
}

