import type { Approval, ApprovalDecision, Channel } from '../../domain/approval.js';
import type { AuditEvent, Run, RunState, RunStep } from '../../domain/run.js';

/** A row as better-sqlite3 returns it. */
export type Row = Record<string, unknown>;

/** A stored run (rows of every table are mapped here, in one place). */
export function toRun(row: Row): Run {
  return {
    id: String(row['id']),
    playbook: String(row['playbook']),
    playbookHash: String(row['playbook_hash']),
    batchId: (row['batch_id'] as string | null) ?? null,
    alertname: String(row['alertname']),
    fingerprint: String(row['fingerprint']),
    startsAt: String(row['starts_at']),
    instanceKey: String(row['instance_key']),
    targetKey: String(row['target_key']),
    lockKey: (row['lock_key'] as string | null) ?? null,
    dryRun: row['dry_run'] === 1,
    state: row['state'] as RunState,
    reason: String(row['reason']),
    params: JSON.parse(String(row['params'])) as Record<string, string>,
    labels: JSON.parse(String(row['labels'])) as Record<string, string>,
    annotations: JSON.parse(String(row['annotations'])) as Record<string, string>,
    createdAt: String(row['created_at']),
    updatedAt: String(row['updated_at']),
    finishedAt: (row['finished_at'] as string | null) ?? null,
    resolvedAt: (row['resolved_at'] as string | null) ?? null,
    needsApproval: row['needs_approval'] === 1,
    generatorUrl: (row['generator_url'] as string | null) ?? null,
    owner: (row['owner'] as string | null) ?? null,
    leaseUntil: (row['lease_until'] as string | null) ?? null,
  };
}

/** A stored step. */
export function toStep(row: Row): RunStep {
  return {
    index: Number(row['idx']),
    name: String(row['name']),
    kind: row['kind'] as RunStep['kind'],
    phase: row['phase'] as RunStep['phase'],
    readOnly: row['read_only'] === 1,
    rendered: JSON.parse(String(row['rendered'])) as RunStep['rendered'],
    deferred: row['deferred'] === 1,
    state: row['state'] as RunStep['state'],
    startedAt: (row['started_at'] as string | null) ?? null,
    finishedAt: (row['finished_at'] as string | null) ?? null,
    exitCode: (row['exit_code'] as number | null) ?? null,
    output: (row['output'] as string | null) ?? null,
    error: (row['error'] as string | null) ?? null,
    vars: typeof row['vars'] === 'string' ? (JSON.parse(row['vars']) as Record<string, unknown>) : null,
  };
}

/** A stored event (without its chain hashes). */
export function toEvent(row: Row): AuditEvent {
  return {
    id: Number(row['id']),
    at: String(row['at']),
    kind: row['kind'] as AuditEvent['kind'],
    runId: (row['run_id'] as string | null) ?? null,
    batchId: (row['batch_id'] as string | null) ?? null,
    playbook: (row['playbook'] as string | null) ?? null,
    fingerprint: (row['fingerprint'] as string | null) ?? null,
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
    message: (row['message'] as string | null) ?? null,
    decision: (row['decision'] as ApprovalDecision | null) ?? null,
    decidedBy: (row['decided_by'] as string | null) ?? null,
    decidedVia: (row['decided_via'] as Channel | null) ?? null,
    decidedAt: (row['decided_at'] as string | null) ?? null,
    comment: (row['comment'] as string | null) ?? null,
  };
}
