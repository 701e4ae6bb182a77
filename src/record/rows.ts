import type { Approval, ApprovalDecision, Channel } from '../domain/approval.js';
import type { AuditEvent, Run, RunState, RunStep } from '../domain/run.js';
import type { CircuitRecord, EscalationRecord, PauseRecord, StormRecord } from '../domain/store.js';
import type { UnfixedRun } from '../domain/decision.js';

/**
 * Rows mapped to domain values, in one place for both stores: they hold the same columns with the
 * same text (ISO times, JSON as text). Only flags differ (SQLite 0/1, PostgreSQL BOOLEAN), and
 * PostgreSQL's BIGINT ids arrive as strings, hence `flag` and Number().
 */
export type Row = Record<string, unknown>;

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const flag = (v: unknown): boolean => v === true || v === 1;

/** A stored run. */
export function toRun(row: Row): Run {
  return {
    id: String(row['id']),
    playbook: String(row['playbook']),
    playbookHash: String(row['playbook_hash']),
    batchId: text(row['batch_id']),
    alertname: String(row['alertname']),
    fingerprint: String(row['fingerprint']),
    startsAt: String(row['starts_at']),
    instanceKey: String(row['instance_key']),
    targetKey: String(row['target_key']),
    lockKey: text(row['lock_key']),
    dryRun: flag(row['dry_run']),
    state: row['state'] as RunState,
    reason: String(row['reason']),
    params: JSON.parse(String(row['params'])) as Record<string, string>,
    labels: JSON.parse(String(row['labels'])) as Record<string, string>,
    annotations: JSON.parse(String(row['annotations'])) as Record<string, string>,
    createdAt: String(row['created_at']),
    updatedAt: String(row['updated_at']),
    finishedAt: text(row['finished_at']),
    resolvedAt: text(row['resolved_at']),
    needsApproval: flag(row['needs_approval']),
    generatorUrl: text(row['generator_url']),
    owner: text(row['owner']),
    leaseUntil: text(row['lease_until']),
    silenceId: text(row['silence_id']),
    stormId: text(row['storm_id']),
  };
}

/** A stored step. */
export function toStep(row: Row): RunStep {
  return {
    index: Number(row['idx']),
    name: String(row['name']),
    kind: row['kind'] as RunStep['kind'],
    phase: row['phase'] as RunStep['phase'],
    readOnly: flag(row['read_only']),
    rendered: JSON.parse(String(row['rendered'])) as RunStep['rendered'],
    deferred: flag(row['deferred']),
    state: row['state'] as RunStep['state'],
    startedAt: text(row['started_at']),
    finishedAt: text(row['finished_at']),
    exitCode: row['exit_code'] === null || row['exit_code'] === undefined ? null : Number(row['exit_code']),
    output: text(row['output']),
    error: text(row['error']),
    vars: typeof row['vars'] === 'string' ? (JSON.parse(row['vars']) as Record<string, unknown>) : null,
  };
}

/** A stored event (without its chain hashes). */
export function toEvent(row: Row): AuditEvent {
  return {
    id: Number(row['id']),
    at: String(row['at']),
    kind: row['kind'] as AuditEvent['kind'],
    runId: text(row['run_id']),
    batchId: text(row['batch_id']),
    playbook: text(row['playbook']),
    fingerprint: text(row['fingerprint']),
    data: JSON.parse(String(row['data'])) as Record<string, unknown>,
  };
}

/** A stored approval request. */
export function toApproval(row: Row): Approval {
  return {
    runId: String(row['run_id']),
    seq: Number(row['seq']),
    phase: row['phase'] as Approval['phase'],
    stepIndex: Number(row['step_idx']),
    stepName: String(row['step_name']),
    requestedAt: String(row['requested_at']),
    expiresAt: String(row['expires_at']),
    approvers: JSON.parse(String(row['approvers'])) as string[],
    message: text(row['message']),
    decision: text(row['decision']) as ApprovalDecision | null,
    decidedBy: text(row['decided_by']),
    decidedVia: text(row['decided_via']) as Channel | null,
    decidedAt: text(row['decided_at']),
    comment: text(row['comment']),
  };
}

/** The pause row, or null when none was ever set. */
export function toPause(row: Row | undefined): PauseRecord | null {
  if (!row) return null;
  return {
    pausedAt: String(row['paused_at']),
    until: String(row['until']),
    reason: String(row['reason']),
    by: String(row['paused_by']),
    resumedAt: text(row['resumed_at']),
    resumedBy: text(row['resumed_by']),
  };
}

/** The circuit row, or null when it never opened. */
export function toCircuit(row: Row | undefined): CircuitRecord | null {
  if (!row) return null;
  return {
    openedAt: String(row['opened_at']),
    reason: String(row['reason']),
    openedBy: String(row['opened_by']),
    closedAt: text(row['closed_at']),
    closedBy: text(row['closed_by']),
    closeNote: text(row['close_note']),
  };
}

/** A stored escalation (runs is JSON text). */
export function toEscalation(row: Row | undefined): EscalationRecord | null {
  if (!row) return null;
  return {
    id: String(row['id']),
    playbook: String(row['playbook']),
    targetKey: String(row['target_key']),
    openedAt: String(row['opened_at']),
    reason: String(row['reason']),
    runs: JSON.parse(String(row['runs'])) as EscalationRecord['runs'],
    clearedAt: text(row['cleared_at']),
    clearedBy: text(row['cleared_by']),
    clearNote: text(row['clear_note']),
  };
}

/** A run that did not fix its target, as escalationState reads it. */
export function toUnfixedRun(row: Row): UnfixedRun {
  return {
    id: String(row['id']),
    state: String(row['state']),
    createdAt: String(row['created_at']),
    finishedAt: text(row['finished_at']),
    reason: text(row['reason']),
  };
}

/** A stored storm. */
export function toStorm(row: Row | undefined): StormRecord | null {
  if (!row) return null;
  const channel = text(row['message_channel']);
  const ts = text(row['message_ts']);
  return {
    id: String(row['id']),
    openedAt: String(row['opened_at']),
    lastAlertAt: String(row['last_alert_at']),
    endedAt: text(row['ended_at']),
    alerts: Number(row['alerts']),
    targets: Number(row['targets']),
    playbooks: JSON.parse(String(row['playbooks'])) as string[],
    commonLabels: JSON.parse(String(row['common_labels'])) as Record<string, string>,
    generatorUrl: text(row['generator_url']),
    message: channel !== null && ts !== null ? { channel, ts } : null,
  };
}
