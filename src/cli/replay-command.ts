import { stormRule } from '../config/config-schema.js';
import type { Writable } from 'node:stream';
import type { HistoryReader } from '../domain/history.js';
import { errorMessage, RemediatorError } from '../domain/errors.js';
import { compileWindows } from '../decide/maintenance.js';
import { formatLoadError, loadPlaybookSources } from '../playbook/loader.js';
import { formatReplay } from '../prove/format-replay.js';
import { replay, type ReplayResult } from '../prove/replay.js';
import { describeStore, isPostgresUrl } from '../record/open-store.js';
import { PgHistoryReader } from '../record/postgres/pg-history-reader.js';
import { SqliteHistoryReader } from '../record/sqlite/history-reader.js';
import { timeBound } from './audit-commands.js';
import { loadCliConfig } from './cli-config.js';
import { inCwd, type CliContext } from './io.js';

/** remediator replay [--db f|url] [--playbooks dir] [--config f] [--execution m] [--since t] [--until t] [--json] */
export interface ReplayCliOptions {
  readonly db?: string;
  readonly playbooks?: string;
  readonly config?: string;
  readonly execution?: string;
  readonly since?: string;
  readonly until?: string;
  readonly json?: boolean;
}

/** What replay printed and its exit code: 0 nothing would change, 1 something would, 2 bad input. */
export interface ReplayOutcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: 0 | 1 | 2;
}

/**
 * `remediator replay`: the recorded history of a database (an SQLite file or a PostgreSQL URL,
 * read-only, beside a running daemon) replayed through a playbook set (default: the
 * configuration's), with the configuration's guards, and compared. Progress goes to `progress`
 * (stderr) for a long history; every bad input exits 2 before anything is read.
 */
export async function replayCommand(
  opts: ReplayCliOptions,
  context: CliContext,
  progress: Writable,
  { now = new Date(), progressAfterMs = 2000 }: { now?: Date; progressAfterMs?: number } = {},
): Promise<ReplayOutcome> {
  const bad = (message: string): ReplayOutcome => ({ stdout: '', stderr: `remediator replay: ${message}\n`, code: 2 });
  let reader: HistoryReader | null = null;
  try {
    const flags = { ...(opts.config === undefined ? {} : { config: opts.config }), ...(opts.db === undefined ? {} : { db: opts.db }) };
    const config = loadCliConfig(
      {
        ...flags,
        ...(opts.playbooks === undefined ? {} : { playbooks: opts.playbooks }),
        ...(opts.execution === undefined ? {} : { execution: opts.execution }),
      },
      context,
    );
    const since = opts.since === undefined ? null : new Date(timeBound('--since', opts.since, now));
    const until = new Date(opts.until === undefined ? now.toISOString() : timeBound('--until', opts.until, now));
    if (since !== null && since >= until) return bad(`--since ${opts.since} is not before --until ${opts.until ?? 'now'}: nothing to replay`);
    const shown = opts.playbooks ?? config.playbooks;
    const loaded = await loadPlaybookSources([{ path: inCwd(context.cwd, config.playbooks), shown }]);
    if (loaded.errors.length > 0) return bad(`the playbooks in ${shown} are not valid:\n  ${loaded.errors.map(formatLoadError).join('\n  ')}`);
    reader = isPostgresUrl(config.db) ? await PgHistoryReader.open(config.db) : SqliteHistoryReader.open(config.db);
    const started = Date.now();
    let lastShown = 0;
    const tty = (progress as { isTTY?: boolean }).isTTY === true;
    const result: ReplayResult = await replay(reader, {
      playbooks: loaded.playbooks,
      settings: {
        execution: config.execution,
        budget: { count: config.guards.budget.count, perMs: config.guards.budget.per },
        maintenance: compileWindows(config.guards.maintenance),
        storm: stormRule(config),
      },
      since,
      until,
      progress: (done, total) => {
        const elapsed = Date.now() - started;
        // A line for a long history only: at most one a second on a terminal, one in five elsewhere.
        if (elapsed < progressAfterMs || (lastShown > 0 && elapsed - lastShown < (tty ? 1000 : 5000))) return;
        lastShown = Math.max(elapsed, 1);
        const line = `replay: ${done}/${total} batch(es) of ${describeStore(config.db)} (${total === 0 ? 100 : Math.floor((100 * done) / total)}%), ${(elapsed / 1000).toFixed(0)}s`;
        progress.write(tty ? `\r${line}` : `${line}\n`);
      },
    });
    if (tty && lastShown > 0) progress.write('\n');
    const changed = result.changes.length > 0;
    return { stdout: opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatReplay(result), stderr: '', code: changed ? 1 : 0 };
  } catch (err) {
    // Exit 1 means "something would change": a replay that could not be made must not say so.
    return bad(err instanceof RemediatorError ? errorMessage(err) : `failed: ${errorMessage(err)}`);
  } finally {
    await reader?.close();
  }
}
