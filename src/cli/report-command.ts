import { RemediatorError } from '../domain/errors.js';
import { isPostgresUrl } from '../record/open-store.js';
import { PgReportReader } from '../record/postgres/pg-report-reader.js';
import { ReportReader } from '../record/sqlite/report-reader.js';
import { formatReport } from '../report/format-report.js';
import { ReportBuilder, type Report, type ReportWindow } from '../report/report.js';
import { configuredDatabase, timeBound } from './audit-commands.js';
import { processContext, type CliContext } from './io.js';

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
 * The report as text or JSON, read straight from the database (read-only, beside a running
 * daemon or its replicas, no token: like the audit commands). Throws a RemediatorError on a bad
 * argument or a missing database, which the CLI prints and exits 1 on.
 */
export async function reportCommand(opts: ReportOptions, now: Date = new Date(), context: CliContext = processContext()): Promise<string> {
  const report = await readReport(opts, now, context);
  return opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report);
}

/** Reads the rows of the window, from the SQLite file or the PostgreSQL URL, and computes the report. */
export async function readReport(opts: ReportOptions, now: Date = new Date(), context: CliContext = processContext()): Promise<Report> {
  const since = timeBound('--since', opts.since ?? DEFAULT_SINCE, now);
  const until = opts.until === undefined ? now.toISOString() : timeBound('--until', opts.until, now);
  if (since >= until) throw new RemediatorError('bad_request', `--since ${opts.since ?? DEFAULT_SINCE} is not before --until ${opts.until ?? 'now'}`);
  if (opts.playbook !== undefined && opts.playbook.trim() === '') throw new RemediatorError('bad_request', '--playbook: give a playbook name');
  const window = { since, until, playbook: opts.playbook ?? null };
  const db = configuredDatabase(opts, context);
  return isPostgresUrl(db) ? readPostgres(db, window) : readSqlite(db, window);
}

function readSqlite(file: string, window: ReportWindow): Report {
  const reader = ReportReader.open(file);
  try {
    return reader.report(window);
  } finally {
    reader.close();
  }
}

async function readPostgres(url: string, window: ReportWindow): Promise<Report> {
  const reader = await PgReportReader.open(url);
  try {
    return await reader.snapshot(async () => {
      const builder = new ReportBuilder();
      for await (const run of reader.runs(window)) builder.addRun(run);
      for (const s of await reader.suppressions(window)) builder.addSuppressions(s);
      return builder.build(window);
    });
  } finally {
    await reader.close();
  }
}
