import type { Alert } from './alert.js';
import type { Approval } from './approval.js';

/**
 * Glossary: the project's terms, as the code uses them (docs/design.md has the same list).
 *
 * - batch: one webhook delivery from Alertmanager (a notification group), stored before the answer.
 * - alert: one entry of a batch. An alert instance is (fingerprint, startsAt): Alertmanager re-sends
 *   the same instance on every group_interval, and again on retries.
 * - claim: a replica's hold on stored batches while it processes them (owner and expiry); a claim
 *   that runs out is taken by another replica.
 * - decision: what decide concluded for one (alert, playbook): run, dry run, held for approval,
 *   suppressed with a reason, or refused (the alert's data failed its params). Always recorded.
 * - instance key: "fingerprint@startsAt" — at most one run per playbook per alert instance, ever.
 * - target key: the playbook's guards.key rendered (default: the instance key); one active run per
 *   playbook and target key, and cooldown and maxRuns count per target key.
 * - lock key: the playbook's guards.lock rendered; one active run per lock key across playbooks.
 * - run: one execution (or dry run) of one playbook for one alert instance.
 * - plan: the playbook's steps rendered with the alert's values, stored when the run is created.
 * - step kind: run, http, verify, wait, notify or approval (src/execute/steps/).
 * - gate: a step a run must not pass without a person: an approval step, or in a run that needs
 *   approval the first step that changes something.
 * - hold: a run waiting at a gate (state awaiting_approval), with an approval request that says who
 *   may decide and until when; it leaves its executing slot while it waits.
 * - lease: a replica's claim on executing a run, renewed while it runs; a run whose lease runs out
 *   is marked interrupted by another replica (its step may or may not have acted).
 * - budget and circuit: at most N live runs per window across playbooks; the run that would exceed
 *   it opens the circuit, and while it is open every live run needs a person's approval.
 * - pause, maintenance window: a person's switch, and a configured schedule, that suppress runs
 *   (or force them to dry-run).
 * - chain and head: every event carries the hash of the one before it; the head is the stored
 *   first and last link, moved with every append, so a cut tail shows.
 */

/** Where a run is in its life. */
export type RunState = 'pending' | 'awaiting_approval' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'rejected' | 'expired' | 'interrupted';

/** States a run never leaves. */
export const TERMINAL_STATES: readonly RunState[] = ['succeeded', 'failed', 'cancelled', 'rejected', 'expired', 'interrupted'];

/** True when a run in this state is over. */
export function isTerminal(state: RunState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** A step rendered with the alert's values: what would run, exactly as it would run. */
export type RenderedStep =
  | { kind: 'run'; argv: string[]; dryRunArgv: string[] | null; env: Record<string, string>; cwd: string | null }
  | { kind: 'http'; method: string; url: string; headers: Record<string, string>; body: unknown; expectStatus: number[] }
  | { kind: 'verify'; check: RenderedCheck; withinMs: number; everyMs: number }
  | { kind: 'wait'; durationMs: number }
  | { kind: 'notify'; text: string; channel: string | null }
  | { kind: 'approval'; message: string | null };

/** A verify step's condition, rendered. */
export type RenderedCheck =
  | { kind: 'prometheus'; query: string; url: string | null }
  | {
      kind: 'http';
      method: string;
      url: string;
      headers: Record<string, string>;
      status: number[];
      json: { path: string; equals: string | number | boolean } | null;
      contains: string | null;
    }
  | { kind: 'resolved' };

/** What happened, or will happen, to one step of a run. */
export type StepState = 'planned' | 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'interrupted';

/** One step of a run as stored. */
export interface RunStep {
  readonly index: number;
  readonly name: string;
  readonly kind: RenderedStep['kind'];
  readonly phase: 'main' | 'onFailure';
  readonly readOnly: boolean;
  readonly rendered: RenderedStep;
  /** Some values are only known when earlier steps have run (e.g. steps.x.stdout). */
  readonly deferred: boolean;
  readonly state: StepState;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly exitCode: number | null;
  readonly output: string | null;
  readonly error: string | null;
  /** What {{ steps.NAME.* }} reads from this step, once it ran. */
  readonly vars?: Record<string, unknown> | null;
}

/** A run as stored. */
export interface Run {
  readonly id: string;
  readonly playbook: string;
  readonly playbookHash: string;
  readonly batchId: string | null;
  readonly alertname: string;
  readonly fingerprint: string;
  readonly startsAt: string;
  readonly instanceKey: string;
  readonly targetKey: string;
  /** The playbook's guards.lock rendered: no two unfinished runs of any playbooks share it. */
  readonly lockKey: string | null;
  readonly dryRun: boolean;
  /**
   * The run holds for a person's approval before its first step that changes something (mode
   * approve, or the circuit was open). Approval steps hold every live run, whatever this says.
   */
  readonly needsApproval: boolean;
  readonly state: RunState;
  /** Why the run is in its state (e.g. the param that failed its pattern). */
  readonly reason: string;
  readonly params: Record<string, string>;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  /** The alert's link back to its source (Prometheus graph), for people reading about the run. */
  readonly generatorUrl: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  /** When the alert was reported resolved after this run was created. */
  readonly resolvedAt: string | null;
  /** The replica executing (or that last executed) the run, and its lease. */
  readonly owner?: string | null;
  readonly leaseUntil?: string | null;
  /** The Alertmanager silence made for the run (playbook `silence`), while or after it acted. */
  readonly silenceId?: string | null;
  /** The storm (guards.storm) the run's alert was part of when it was decided. */
  readonly stormId?: string | null;
}

/** A run with its steps, approval requests and events, as the API shows it. */
export interface RunDetail extends Run {
  readonly steps: RunStep[];
  readonly approvals: Approval[];
  readonly events: AuditEvent[];
}

/** Kinds of recorded event. */
export type EventKind =
  | 'batch.received'
  | 'batch.processed'
  | 'alert.received'
  | 'alert.resolved'
  | 'alert.matched'
  | 'decision'
  | 'run.created'
  | 'run.state'
  | 'step.planned'
  | 'step.started'
  | 'step.process'
  | 'step.leftovers'
  | 'audit.broken'
  | 'step.retry'
  | 'step.finished'
  | 'approval.requested'
  | 'approval.granted'
  | 'approval.rejected'
  | 'approval.expired'
  | 'approval.cancelled'
  | 'approval.refused'
  | 'notification.sent'
  | 'notification.failed'
  | 'retention.pruned'
  | 'playbooks.loaded'
  | 'playbooks.reload_failed'
  | 'auth.failed'
  | 'auth.forbidden'
  | 'session.started'
  | 'session.ended'
  | 'paused'
  | 'resumed'
  | 'circuit.opened'
  | 'escalation.opened'
  | 'escalation.cleared'
  | 'storm.opened'
  | 'storm.ended'
  | 'circuit.closed'
  | 'silence.created'
  | 'silence.planned'
  | 'silence.extended'
  | 'silence.expired'
  | 'silence.kept'
  | 'silence.failed'
  | 'annotation.created'
  | 'annotation.updated'
  | 'annotation.failed';

/** One row of the append-only event log. */
export interface AuditEvent {
  readonly id: number;
  readonly at: string;
  readonly kind: EventKind;
  readonly runId: string | null;
  readonly batchId: string | null;
  readonly playbook: string | null;
  readonly fingerprint: string | null;
  readonly data: Record<string, unknown>;
}

/** An event before the store gives it an id. */
export type NewEvent = Omit<AuditEvent, 'id' | 'at' | 'runId' | 'batchId' | 'playbook' | 'fingerprint'> &
  Partial<Pick<AuditEvent, 'runId' | 'batchId' | 'playbook' | 'fingerprint'>> & { at?: string };

/** The alert a run was made for, as the run stored it (always the firing alert that decided it). */
export function alertOfRun(run: Run): Alert {
  return {
    status: 'firing',
    labels: run.labels,
    annotations: run.annotations,
    startsAt: run.startsAt,
    endsAt: null,
    generatorURL: run.generatorUrl ?? '',
    fingerprint: run.fingerprint,
  };
}
