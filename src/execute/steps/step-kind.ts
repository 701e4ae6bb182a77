import type { Step } from '../../domain/playbook.js';
import type { RenderedStep } from '../../domain/run.js';
import type { StepOutcome } from '../../domain/step-outcome.js';
import type { OutputRedactor } from '../output-cap.js';
import type { StepProcess } from '../process-tree.js';
import type { StepCgroups } from '../step-cgroup.js';

/** The kinds of step a playbook can have. */
export type StepKindName = Step['kind'];
/** The compiled step of one kind. */
export type StepOf<K extends StepKindName> = Extract<Step, { kind: K }>;
/** The rendered step of one kind. */
export type RenderedOf<K extends StepKindName> = Extract<RenderedStep, { kind: K }>;

/** Where a dry run's walk stands, for the kinds whose dry-run policy depends on it. */
export interface DryRunWalk {
  /** The main step that failed the dry run, or null while none has. */
  readonly failedAt: string | null;
  readonly phase: 'main' | 'onFailure';
  /**
   * Whether a live run would take this step too: false only for a step the dry run reaches by
   * walking on after a failure (a main step without `when: failed`, `always` or `steps.X.failed`).
   */
  readonly liveReaches: boolean;
}

/** Renders template text; each call turns one templated string into exactly one string. */
export interface TemplateText {
  text(source: string): string;
  /** A URL: each value percent-encoded for the component it stands in (src/playbook/url-template.ts). */
  url(source: string): string;
  /** Every value of a string map. */
  record(source: Readonly<Record<string, string>>): Record<string, string>;
  /** Every string inside a JSON-like value (an http body). */
  deep(source: unknown): unknown;
}

/** Daemon-wide settings for steps. */
export interface StepSettings {
  readonly outputCapBytes: number;
  readonly killGraceMs: number;
  /** For run steps without a timeout of their own. */
  readonly defaultTimeoutMs: number;
  /** Names of the daemon's environment variables that commands may see. */
  readonly envAllow: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly prometheusUrl: string;
  /** Where each command gets a cgroup of its own (runs.cgroup); absent or null: /proc only. */
  readonly cgroups?: StepCgroups | null;
}

/** What executing one step body needs besides the rendered step. */
export interface StepBodyContext {
  readonly settings: StepSettings;
  /** Aborted when the run is cancelled or the daemon shuts down. */
  readonly signal: AbortSignal;
  readonly dryRun: boolean;
  /** Hides secrets in captured output; where a cap cut it, by position. */
  readonly redactor: OutputRedactor;
  /** Variables every command of the run sees (REMEDIATOR_RUN_ID, …). */
  readonly runEnv: Readonly<Record<string, string>>;
  /** Whether the run's alert has resolved since (verify: { resolved: true }). */
  isResolved(): Promise<boolean>;
  /** Sends a notification about the run through every notifier; the lines say how each went. */
  announce(text: string, channel: string | null): Promise<string[]>;
  /** Told what a command started, as soon as it is (recorded, so a restart can stop it). */
  onSpawn?(started: StepProcess): void;
}

/**
 * One kind of step, as the executor sees it: every kind has this shape, so a new kind (a
 * silence, an annotation) is one more module here and one more entry in step-kinds.ts, beside its
 * schema and compile entry in src/playbook/.
 */
export interface StepKind<K extends StepKindName> {
  readonly kind: K;
  /** The step with the run's values in place: what would run, exactly as it would run. */
  render(step: StepOf<K>, t: TemplateText): RenderedOf<K>;
  /**
   * Whether the step can change something (for a step not marked readOnly): an approval is about
   * these, so a run that needs one holds before the first of them.
   */
  changesSomething(step: StepOf<K>): boolean;
  /**
   * What a dry run does with the step: execute it (it is safe, or has a dry-run variant) or only
   * plan it. `walk.failedAt` names the main step that failed the dry run so far, if one has: a dry
   * run walks on to show the whole plan, but a live run would not have got here.
   */
  inDryRun(step: StepOf<K>, rendered: RenderedOf<K>, walk: DryRunWalk): 'execute' | 'plan';
  /** Executes the rendered step once (retries are the executor's). */
  execute(step: StepOf<K>, rendered: RenderedOf<K>, ctx: StepBodyContext): Promise<StepOutcome>;
}
