/** Something worth telling people about: a run's progress, a circuit opening, a pause. */
export interface Notification {
  /** What happened, fixed set: receivers route and format by it. */
  readonly kind:
    | 'step'
    | 'run.finished'
    | 'approval.requested'
    | 'approval.decided'
    | 'approval.expired'
    | 'circuit.opened'
    | 'escalation.opened'
    | 'escalation.cleared'
    | 'storm.opened'
    | 'storm.decided'
    | 'storm.ended'
    | 'circuit.closed'
    | 'paused'
    | 'resumed'
    | 'audit.checkpoint'
    | 'audit.broken';
  readonly text: string;
  /** A channel named by a notify step; receivers that have no channels ignore it. */
  readonly channel?: string | null;
  readonly runId?: string;
  readonly playbook?: string;
  readonly data?: Record<string, unknown>;
}

/**
 * Sends notifications. A notification that fails must never fail or block a remediation: callers
 * record the failure and go on, so implementations throw with a useful message and no more.
 */
export interface Notifier {
  /** A short name for records and metrics ("log", "webhook", "slack"). */
  readonly name: string;
  send(notification: Notification): Promise<void>;
  /** Whether it takes this kind at all (absent: every kind); others are neither sent nor recorded. */
  accepts?(kind: Notification['kind']): boolean;
}
