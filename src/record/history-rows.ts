import type { RecordedRun, RecordedSwitch } from '../domain/history.js';
import type { RunState, RunStep } from '../domain/run.js';
import type { Row } from './rows.js';

/**
 * Rows of a recorded history mapped to what replay reads, for both dialects (the same columns,
 * the same text; see rows.ts).
 */

/** The event kinds that are switches people (or the budget) threw. */
export const SWITCH_KINDS: readonly RecordedSwitch['kind'][] = ['paused', 'resumed', 'circuit.opened', 'circuit.closed'];

/** A run row and its steps as a RecordedRun. */
export function recordedRun(row: Row, steps: readonly RunStep[]): RecordedRun {
  return {
    id: String(row['id']),
    playbook: String(row['playbook']),
    instanceKey: String(row['instance_key']),
    batchId: typeof row['batch_id'] === 'string' ? row['batch_id'] : null,
    state: row['state'] as RunState,
    dryRun: row['dry_run'] === true || row['dry_run'] === 1,
    createdAt: String(row['created_at']),
    finishedAt: typeof row['finished_at'] === 'string' ? row['finished_at'] : null,
    // As the budget counts: a run or http step not marked read-only that started.
    acted: steps.some((s) => s.startedAt !== null && !s.readOnly && (s.kind === 'run' || s.kind === 'http')),
    steps: [...steps].sort((a, b) => (a.phase === b.phase ? a.index - b.index : a.phase === 'main' ? -1 : 1)),
  };
}

/** A switch event row. */
export function recordedSwitch(row: Row): RecordedSwitch {
  const data = typeof row['data'] === 'string' ? (JSON.parse(row['data']) as Record<string, unknown>) : {};
  return { kind: row['kind'] as RecordedSwitch['kind'], at: String(row['at']), data };
}
