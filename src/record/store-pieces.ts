import type { Approval, Identity } from '../domain/approval.js';
import type { GuardState } from '../domain/decision.js';
import type { NewEvent, RunState } from '../domain/run.js';
import type { CircuitRecord, EventQuery, PauseRecord, Repropose, RunPage, RunQuery } from '../domain/store.js';
import { RUN_SEARCH_WINDOW } from '../domain/store-records.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { toRun, type Row } from './rows.js';

/**
 * What the two stores share besides the row mappers (rows.ts): the pure pieces around their SQL,
 * which stays per dialect. Each takes the rows a store read, or the facts it is about to write.
 */

/** The rows guardState reads, as SQLite and PostgreSQL return them alike. */
export interface GuardRows {
  readonly instance: Row | undefined;
  readonly active: Row | undefined;
  readonly last: Row | undefined;
  readonly locker: Row | undefined;
  readonly pause: PauseRecord | null;
  readonly circuit: CircuitRecord | null;
  readonly recentRuns: number;
  readonly liveRunsInWindow: number;
}

/** GuardState from its rows: a pause lifted by a person and a closed circuit count as none. */
export function guardStateOf(r: GuardRows): GuardState {
  const { instance, active, last, locker, pause, circuit } = r;
  return {
    instanceRun: instance ? { id: String(instance['id']), state: String(instance['state']) } : null,
    activeRun: active ? { id: String(active['id']), state: String(active['state']) } : null,
    lastRunAt: last ? new Date(String(last['created_at'])) : null,
    recentRuns: r.recentRuns,
    lockedBy: locker ? { id: String(locker['id']), playbook: String(locker['playbook']), state: String(locker['state']) } : null,
    paused: pause && pause.resumedAt === null ? { at: new Date(pause.pausedAt), until: new Date(pause.until), reason: pause.reason, by: pause.by } : null,
    circuit: circuit && circuit.closedAt === null ? { openedAt: new Date(circuit.openedAt), reason: circuit.reason } : null,
    liveRunsInWindow: r.liveRunsInWindow,
  };
}

/** One `alert.resolved` event per run a resolve reached (rows: id, playbook, starts_at). */
export function resolvedEvents(rows: readonly Row[], fingerprint: string, startsAt: string, at: string): NewEvent[] {
  return rows.map((r) => ({
    kind: 'alert.resolved',
    at,
    runId: String(r['id']),
    playbook: String(r['playbook']),
    fingerprint,
    data: { startsAt, ...(r['starts_at'] === startsAt ? {} : { runStartsAt: String(r['starts_at']) }) },
  }));
}

/** One `run.state` event per run interrupted (rows: id, playbook, fingerprint, owner). */
export function interruptedEvents(rows: readonly Row[], at: string, reason: string): NewEvent[] {
  return rows.map((r) => ({
    kind: 'run.state',
    at,
    runId: String(r['id']),
    playbook: String(r['playbook']),
    fingerprint: String(r['fingerprint']),
    data: { from: 'running', to: 'interrupted', reason, ...(typeof r['owner'] === 'string' ? { owner: r['owner'] } : {}) },
  }));
}

/** What a step that was running when its run was interrupted says. */
export const INTERRUPTED_STEP_ERROR = 'the daemon stopped while this step ran: it may or may not have completed';

/** The events of a held run re-proposed under a changed playbook: the request the reload ended, and the move back to pending. */
export function reproposeEvents(closed: Approval | null, r: Repropose): NewEvent[] {
  return [
    ...(closed ? [{ kind: 'approval.cancelled' as const, data: { seq: closed.seq, step: closed.stepName, by: r.by.id, via: r.by.via, reason: r.why } }] : []),
    {
      kind: 'run.state',
      data: {
        from: 'awaiting_approval',
        to: 'pending',
        by: r.by.id,
        via: r.by.via,
        reason: r.why,
        fromHash: r.fromHash,
        playbookHash: r.playbookHash,
        ...r.changes,
      },
    },
  ];
}

/** A person's cancel of a pending or held run: its reason, and its events (the request it closed, if any). */
export function cancelChange(
  from: RunState,
  c: { readonly by: Identity; readonly reason: string },
  closed: { readonly seq: number; readonly stepName: string } | null,
): { reason: string; events: NewEvent[] } {
  return {
    reason: `cancelled by ${c.by.id} via ${c.by.via}: ${c.reason}`,
    events: [
      ...(closed
        ? [{ kind: 'approval.cancelled' as const, data: { seq: closed.seq, step: closed.stepName, by: c.by.id, via: c.by.via, reason: c.reason } }]
        : []),
      { kind: 'run.state', data: { from, to: 'cancelled', by: c.by.id, via: c.by.via, reason: c.reason } },
    ],
  };
}

/** WHERE clauses with `?` for each value (PostgreSQL numbers them). */
export interface Clauses {
  readonly clauses: string[];
  readonly args: unknown[];
}

/**
 * The WHERE clauses of a run listing: `indexed` are served by an index (state, playbook, the
 * cursor), `scanned` are checked row by row (mode, text), which is why a page of those looks
 * through a bounded window of runs. `like` is the dialect's case-insensitive LIKE.
 */
export function runFilter(q: RunQuery, like: 'LIKE' | 'ILIKE'): { indexed: Clauses; scanned: Clauses } {
  const indexed: Clauses = { clauses: [], args: [] };
  const scanned: Clauses = { clauses: [], args: [] };
  const add = (to: Clauses, clause: string, ...values: unknown[]) => {
    to.clauses.push(clause);
    to.args.push(...values);
  };
  if (q.state) add(indexed, 'state = ?', q.state);
  if (q.playbook) add(indexed, 'playbook = ?', q.playbook);
  if (q.cursor) add(indexed, 'id < ?', decodeCursor(q.cursor));
  // SQLite stores flags as 0/1, PostgreSQL as BOOLEAN; both compare with a literal.
  if (q.dryRun !== undefined) add(scanned, like === 'LIKE' ? `dry_run = ${q.dryRun ? 1 : 0}` : `dry_run = ${q.dryRun ? 'TRUE' : 'FALSE'}`);
  for (const word of (q.text ?? '').split(/\s+/).filter((w) => w !== '')) {
    const eq = word.indexOf('=');
    if (eq > 0) {
      // Labels are stored as JSON.stringify writes them: "name":"value", exactly.
      add(scanned, `labels ${like} ? ESCAPE '\\'`, `%${likeEscape(`${JSON.stringify(word.slice(0, eq))}:${JSON.stringify(word.slice(eq + 1))}`)}%`);
    } else {
      add(
        scanned,
        `(alertname ${like} ? ESCAPE '\\' OR labels ${like} ? ESCAPE '\\')`,
        `%${likeEscape(word)}%`,
        `%${likeEscape(JSON.stringify(word).slice(1, -1))}%`,
      );
    }
  }
  return { indexed, scanned };
}

/** The offset of a search window's last run (its boundary) in the indexed filters' order. */
export function searchOffset(q: RunQuery): number {
  return Math.max(1, Math.floor(q.window ?? RUN_SEARCH_WINDOW)) - 1;
}

/**
 * A page from the rows a listing read (one more than the page, to know there is a next one), and,
 * for a search, the id where its window ended (null: it reached the oldest run).
 */
export function runPage(rows: readonly Row[], limit: number, windowEnd?: string | null): RunPage {
  const runs = rows.slice(0, limit).map(toRun);
  const last = runs[runs.length - 1];
  if (rows.length > limit && last) return { runs, next: encodeCursor(last.id) };
  if (windowEnd) return { runs, next: encodeCursor(windowEnd), partial: true };
  return { runs, next: null };
}

function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The WHERE clauses of an event listing, with `?` for each value (PostgreSQL numbers them). */
export function eventFilter(q: EventQuery): { clauses: string[]; args: unknown[] } {
  const clauses: string[] = [];
  const args: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    clauses.push(clause);
    args.push(value);
  };
  if (q.runId !== undefined) add('run_id = ?', q.runId);
  if (q.playbook !== undefined) add('playbook = ?', q.playbook);
  if (q.kind !== undefined) add('kind = ?', q.kind);
  if (q.since !== undefined) add('at >= ?', q.since);
  if (q.until !== undefined) add('at < ?', q.until);
  if (q.afterId !== undefined) add('id > ?', q.afterId);
  if (q.beforeId !== undefined) add('id < ?', q.beforeId);
  return { clauses, args };
}
