import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { GENESIS_HASH, type AuditHead, type ChainVerdict } from '../domain/audit-chain.js';
import { CheckpointCheck, checkCheckpointFile, readCheckpointKey, type AuditCheckpoint } from '../domain/audit-checkpoint.js';
import { readCheckpointFile } from '../record/audit-checkpoints.js';
import { parseDuration } from '../domain/duration.js';
import { RemediatorError } from '../domain/errors.js';
import { writeJsonLines, type ExportSummary } from '../record/audit-export.js';
import { verifyExportFile } from '../record/audit-file.js';
import { storeChainEntries, verifyStoreChain } from '../record/audit-verify.js';
import { describeStore, isPostgresUrl, openStore } from '../record/open-store.js';
import { AuditReader } from '../record/sqlite/audit-reader.js';
import { loadCliConfig } from './cli-config.js';
import { inCwd, processContext, type CliContext } from './io.js';

/**
 * `remediator audit verify` and `audit export`: they read the SQLite file directly, read-only and
 * without the daemon's lock, so they work while the daemon runs and need no token: whoever can
 * read the file can read the trail anyway.
 */

/** Where the database is: --db, else the configuration (--config, REMEDIATOR_DB, the file, the default). */
export interface DatabaseOptions {
  readonly db?: string;
  readonly config?: string;
}

/** The database to read, by the same precedence as serve. */
export function configuredDatabase(opts: DatabaseOptions, context: CliContext = processContext()): string {
  return loadCliConfig({ ...(opts.config === undefined ? {} : { config: opts.config }), ...(opts.db === undefined ? {} : { db: opts.db }) }, context).db;
}

/** The SQLite file to read, by the same precedence as serve (export and report read SQLite files). */
export function auditDatabase(opts: DatabaseOptions, context: CliContext = processContext()): string {
  const db = configuredDatabase(opts, context);
  if (isPostgresUrl(db)) {
    throw new RemediatorError('bad_request', `--db ${describeStore(db)}: this command reads an SQLite file here`);
  }
  return db;
}

/** The outcome of a verify: what to print, and whether the trail is intact (exit 0) or not (exit 1). */
export interface VerifyOutcome {
  readonly ok: boolean;
  readonly text: string;
}

/** remediator audit verify [--db f | --config f] [--checkpoints FILE --key KEY] */
export interface VerifyOptions extends DatabaseOptions {
  /** The checkpoint file the daemon wrote (audit.checkpoints.file), or a copy of it. */
  readonly checkpoints?: string;
  /** The Ed25519 key they were signed with: the public key (PEM), or the private one. */
  readonly key?: string;
}

/**
 * Walks the chain; with --checkpoints, first checks every checkpoint (signed by --key, unbroken,
 * in order), then holds the chain to them: each event a checkpoint names must carry its hash, and
 * the chain must reach the last one. That finds what the chain alone cannot: a chain rehashed
 * from an edited event, a tail cut off with the head rewritten to match.
 */
export async function auditVerifyDatabase(opts: VerifyOptions, context: CliContext = processContext()): Promise<VerifyOutcome> {
  const check = opts.checkpoints === undefined && opts.key === undefined ? null : loadCheckpoints(opts, context);
  if (check !== null && check.problem !== null) return { ok: false, text: `audit checkpoints REFUSED: ${check.problem}\n` };
  const observe = check?.check ? (e: { id: number; hash: string }) => check.check?.see(e) : undefined;
  const db = configuredDatabase(opts, context);
  let verdict: ChainVerdict;
  let head: AuditHead | null;
  if (isPostgresUrl(db)) {
    // Replicas share it: the walk pages by id up to the head read first, while they append on.
    const store = await openStore(db, () => new Date());
    try {
      head = await store.auditHead();
      verdict = await verifyStoreChain(store, 1000, observe);
    } finally {
      await store.close();
    }
  } else {
    const reader = AuditReader.open(auditDatabase(opts, context));
    try {
      ({ verdict, head } = await reader.verify(observe));
    } finally {
      reader.close();
    }
  }
  const outcome = formatDatabaseVerdict(verdict, head);
  if (check?.check === undefined || check.check === null || !outcome.ok) return outcome;
  const against = check.check.end(head, (head?.baseId ?? 0) + 1);
  if (against.problem !== null) return { ok: false, text: `audit trail BROKEN (against the checkpoints): ${against.problem}\n` };
  const skipped = against.skipped > 0 ? `; ${against.skipped} checkpoint(s) name events retention has removed` : '';
  return { ok: true, text: `${outcome.text}checkpoints: ${check.count} signed by key ${check.keyId}, ${against.matched} matched the chain${skipped}\n` };
}

/** Reads --checkpoints with --key and checks the file itself; a problem refuses the verify. */
function loadCheckpoints(opts: VerifyOptions, context: CliContext): { problem: string | null; check: CheckpointCheck | null; count: number; keyId: string } {
  const refuse = (problem: string) => ({ problem, check: null, count: 0, keyId: '' });
  if (opts.checkpoints === undefined || opts.key === undefined)
    return refuse('give both --checkpoints FILE and --key KEY (the public key they were signed with)');
  const checkpointFile = inCwd(context.cwd, opts.checkpoints);
  const keyFile = inCwd(context.cwd, opts.key);
  if (!existsSync(checkpointFile)) return refuse(`--checkpoints ${opts.checkpoints}: no such file`);
  if (!existsSync(keyFile)) return refuse(`--key ${opts.key}: no such file`);
  let key: ReturnType<typeof readCheckpointKey>;
  try {
    key = readCheckpointKey(readFileSync(keyFile, 'utf8'), opts.key);
  } catch (err) {
    return refuse(`--key: ${(err as Error).message}`);
  }
  const lines = readCheckpointFile(checkpointFile);
  if (lines.length === 0) return refuse(`${opts.checkpoints} holds no checkpoints`);
  const problem = checkCheckpointFile(lines, key);
  if (problem !== null) return refuse(`${opts.checkpoints}: ${problem}`);
  const checkpoints = lines as AuditCheckpoint[];
  return { problem: null, check: new CheckpointCheck(checkpoints), count: checkpoints.length, keyId: key.keyId };
}

function formatDatabaseVerdict(v: ChainVerdict, head: AuditHead | null): VerifyOutcome {
  if (v.problem) {
    const before = v.last ? `the ${v.count} event(s) before it, through event ${v.last.id}, are intact` : 'no event before it could be checked';
    return { ok: false, text: `audit trail BROKEN: ${v.problem.message}\n${before}\n` };
  }
  const lines = [
    v.last
      ? `audit trail intact: ${v.count} events, last hash ${v.last.hash} (event ${v.last.id}, ${v.last.at})`
      : 'audit trail intact: 0 events (nothing recorded yet)',
  ];
  if (head && head.baseId > 0)
    lines.push(`the chain starts after event ${head.baseId}: older events were removed, and the hash at the cut (${head.baseHash}) anchors what is left`);
  return { ok: true, text: `${lines.join('\n')}\n` };
}

/** remediator audit verify --file export.jsonl */
export async function auditVerifyFile(file: string, context: CliContext = processContext()): Promise<VerifyOutcome> {
  if (!existsSync(inCwd(context.cwd, file))) throw new RemediatorError('bad_request', `--file ${file}: no such file`);
  const v = await verifyExportFile(inCwd(context.cwd, file));
  if (v.problem) {
    const before = v.last ? `the ${v.count} event(s) before it, through event ${v.last.id}, are intact` : 'no line before it could be checked';
    return { ok: false, text: `audit file BROKEN: ${v.problem.message}\n${before}\n` };
  }
  if (v.first === null || v.last === null) return { ok: true, text: `audit file intact: ${file} holds no events\n` };
  const anchor =
    v.first.id === 1 && v.first.prevHash === GENESIS_HASH
      ? 'anchor: the file starts at the beginning of the chain (event 1, genesis)'
      : `anchor: the first line's prev_hash ${v.first.prevHash} is trusted, not checked: it must be the hash of event ${v.first.id - 1}; ` +
        'compare it with the database (remediator audit verify) or the export before this one';
  return {
    ok: true,
    text:
      `audit file intact: ${v.count} events (ids ${v.first.id}–${v.last.id}), last hash ${v.last.hash}\n${anchor}\n` +
      `a file cannot show events missing after its last line: compare its last hash with event ${v.last.id} in the database\n`,
  };
}

/** remediator audit export [--since t] [--until t] [--out f] */
export interface ExportOptions extends DatabaseOptions {
  readonly since?: string;
  readonly until?: string;
  readonly out?: string;
}

/**
 * Writes the events as JSON Lines to `--out` or stdout and returns a summary for stderr. A range
 * exports one contiguous stretch of the chain, so that the file verifies on its own: from the
 * first event (in chain order) recorded at or after --since, up to the first one at or after
 * --until. Events are ordered by the chain, not by clock: near the edges an event may carry a time
 * a few milliseconds outside the range (concurrent runs stamp their own times).
 */
export async function auditExport(opts: ExportOptions, stdout: Writable, now: Date = new Date(), context: CliContext = processContext()): Promise<string> {
  const since = opts.since === undefined ? null : timeBound('--since', opts.since, now);
  const until = opts.until === undefined ? null : timeBound('--until', opts.until, now);
  if (since !== null && until !== null && since >= until) throw new RemediatorError('bad_request', `--since ${opts.since} is not before --until ${opts.until}`);
  const stop = until === null ? undefined : (e: { at: string }) => e.at >= until;
  const db = configuredDatabase(opts, context);
  let write: (out: Writable) => Promise<ExportSummary>;
  let close: () => Promise<void>;
  if (isPostgresUrl(db)) {
    // Replicas share it: pages by id up to the head read first, while they append on.
    const store = await openStore(db, () => new Date());
    close = () => store.close();
    write = async (out) => {
      const head = await store.auditHead();
      const start = since === null ? (head?.baseId ?? 0) + 1 : ((await store.listEvents({ since, limit: 1 }))[0]?.id ?? null);
      if (start === null) return { count: 0, first: null, last: null };
      return writeJsonLines(storeChainEntries(store, start - 1, head?.lastId ?? Number.MAX_SAFE_INTEGER), out, stop);
    };
  } else {
    const reader = AuditReader.open(auditDatabase(opts, context));
    close = () => Promise.resolve(reader.close());
    write = (out) =>
      reader.snapshot(() => {
        const head = reader.head();
        const start = since === null ? (head?.baseId ?? 0) + 1 : reader.firstIdAtOrAfter(since);
        if (start === null) return Promise.resolve({ count: 0, first: null, last: null });
        return writeJsonLines(reader.events(start), out, stop);
      });
  }
  const out = opts.out === undefined ? stdout : createWriteStream(inCwd(context.cwd, opts.out), { mode: 0o600 });
  let summary: ExportSummary;
  try {
    summary = await write(out);
  } catch (err) {
    if (out !== stdout) out.destroy();
    // The reader of stdout went away (`| head`): what it wanted was written.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return '';
    throw err;
  } finally {
    await close();
  }
  if (out !== stdout) {
    out.end();
    // Rejects when the last bytes cannot be written (a full disk): the export is then incomplete.
    await finished(out);
  }
  const where = opts.out ?? 'stdout';
  if (summary.first === null || summary.last === null) return `exported 0 events to ${where}: none in the range\n`;
  return (
    `exported ${summary.count} events (ids ${summary.first.id}–${summary.last.id}) to ${where}; last hash ${summary.last.hash}\n` +
    `check it on its own with: remediator audit verify --file ${opts.out ?? 'FILE'}\n`
  );
}

/** An ISO 8601 date or time with a zone, or a duration meaning that long ago ("24h", "7d"). */
export function timeBound(flag: string, text: string, now: Date): string {
  const ago = parseDuration(text);
  if (ago !== undefined) return new Date(now.getTime() - ago).toISOString();
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const withZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text);
  const ms = Date.parse(text);
  if ((!dateOnly && !withZone) || Number.isNaN(ms)) {
    throw new RemediatorError(
      'bad_request',
      `${flag} ${text}: give a time such as 2026-11-28T21:00:00Z (with its zone), a date (UTC), or a duration ago such as 24h`,
    );
  }
  return new Date(ms).toISOString();
}
