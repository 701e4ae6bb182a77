import type { Approval } from '../domain/approval.js';
import type { Notifier } from '../domain/notifier.js';
import type { Playbook, Step } from '../domain/playbook.js';
import type { Run } from '../domain/run.js';
import type { ApprovalStore, AuditLog, Lease, RunStore } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Progress } from './approval-gate.js';
import type { RunNotices } from './run-notices.js';
import type { RunSlots } from './run-slots.js';
import type { SecretStore } from './secrets.js';
import type { StepSettings } from './steps/step-kind.js';

/** What the executor needs; wired once in the pipeline. */
export interface ExecutorDeps {
  readonly store: RunStore & ApprovalStore & AuditLog;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: () => Date;
  readonly notifiers: readonly Notifier[];
  readonly secrets: SecretStore;
  readonly settings: StepSettings & { readonly maxConcurrent: number; readonly secretsDir: string | null };
  /** Told after every change of a run's state (Slack keeps one message per run up to date). */
  readonly onRunChanged?: (runId: string) => void;
  /** Told when a run is held, so the expiry timer can be set for it. */
  readonly onHold?: (approval: Approval) => void;
  /** The lease a run this executor starts is taken with (renewed by the LeaseKeeper while it runs). */
  readonly lease?: () => Lease;
  /**
   * Why a live run may not act now, or null: the daemon runs with `execution: dry-run` (it may
   * have been restarted so since the run was decided or approved).
   */
  readonly liveRefused?: () => string | null;
  /**
   * Told before each step that changes something (planned, in a dry run), so the first one can be
   * marked outside (a silence in Alertmanager, an annotation in Grafana). Must not throw.
   */
  readonly onActing?: (run: Run, playbook: Playbook) => Promise<void>;
}

/** What the parts of the executor share: its dependencies, its slots and its notices. */
export interface Execution {
  readonly deps: ExecutorDeps;
  readonly slots: RunSlots;
  readonly notices: RunNotices;
}

/** Now, as stored. */
export function nowText(ex: Execution): string {
  return ex.deps.clock().toISOString();
}

/** Tells whoever watches runs that this one changed. */
export function changed(ex: Execution, runId: string): void {
  ex.deps.onRunChanged?.(runId);
}

/** One step of one run, as the run's walk hands it over. */
export interface StepTurn {
  readonly run: Run;
  readonly playbook: Playbook;
  readonly step: Step;
  readonly phase: 'main' | 'onFailure';
  readonly index: number;
  /** Where the run stands; the step's outcome is added to it. */
  readonly progress: Progress;
  /** An earlier step failed the run: steps without `when` are skipped (a live run). */
  readonly runFailing: boolean;
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/** "step 2 undo" or "onFailure step 1 notify", for logs. */
export function turnLabel(turn: Pick<StepTurn, 'phase' | 'index' | 'step'>): string {
  return `${turn.phase === 'main' ? 'step' : 'onFailure step'} ${turn.index + 1} ${turn.step.name}`;
}
