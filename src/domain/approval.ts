/**
 * Glossary
 * - hold: a run stops before a step and waits (`awaiting_approval`) for a person's decision.
 * - gate: the step a run holds before: an `approval` step, or in a run that needs approval the
 *   first step that changes something (a run or http step not marked readOnly).
 * - approver: an identity allowed to decide: an API token's identity ("alice"), a Slack user id
 *   ("U012ABC"), or a group from the configuration naming several of them.
 */

/** How an approval request ended. */
export type ApprovalDecision = 'approved' | 'rejected' | 'expired' | 'cancelled';

/** Through which channel a person (or the daemon itself) acted. */
export type Channel = 'api' | 'cli' | 'slack' | 'console' | 'system';

/** Who is acting, as authenticated by a channel. */
export interface Identity {
  /** API token identity, or Slack user id. */
  readonly id: string;
  readonly via: Channel;
  /** A readable name when the channel gives one (Slack username). */
  readonly name?: string;
}

/** One approval request of a run, as stored: a run may hold more than once (several approval steps). */
export interface Approval {
  readonly runId: string;
  /** 1 for the run's first request, 2 for its second… */
  readonly seq: number;
  readonly phase: 'main' | 'onFailure';
  /** The gate step's index in its phase, and its name. */
  readonly stepIndex: number;
  readonly stepName: string;
  readonly requestedAt: string;
  readonly expiresAt: string;
  /** Who may decide, as written in the playbook (identities or group names); empty: any authenticated identity. */
  readonly approvers: readonly string[];
  /** What the approval step says to the approver, rendered. */
  readonly message: string | null;
  readonly decision: ApprovalDecision | null;
  readonly decidedBy: string | null;
  readonly decidedVia: Channel | null;
  readonly decidedAt: string | null;
  readonly comment: string | null;
}

/** A person's verdict on a held run. */
export type Verdict = 'approve' | 'reject';

/** A run's request still waiting for a decision (its last one, undecided), if any. */
export function openRequest(run: { readonly approvals: readonly Approval[] }): Approval | null {
  const last = run.approvals[run.approvals.length - 1];
  return last && last.decision === null ? last : null;
}
