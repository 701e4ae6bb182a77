import type { AlertStatus, LabelSet } from './alert.js';

/**
 * A playbook after loading and checking: matchers compiled, durations in milliseconds, names
 * defaulted. Step bodies keep their template text; they are rendered per alert.
 */

/** What the matching stage needs from a label matcher. */
export interface LabelMatcher {
  readonly name: string;
  matches(labels: LabelSet): boolean;
  toString(): string;
}

/** Where a param's value comes from, and what it must look like. */
export interface ParamSpec {
  readonly name: string;
  readonly source: 'labels' | 'annotations';
  readonly key: string;
  readonly type: 'string' | 'integer';
  readonly pattern: RegExp | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly clamp: boolean;
  readonly default: string | null;
}

/** How a playbook is allowed to act. */
export type PlaybookMode = 'live' | 'approve' | 'dry-run';

/** Retry policy of a step. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

/** Fields every step kind shares. */
interface StepCommon {
  readonly name: string;
  readonly readOnly: boolean;
  readonly timeoutMs: number | null;
  readonly retry: RetryPolicy | null;
  readonly when: string | null;
  readonly continueOnError: boolean;
}

/** An HTTP request made by a step or a check. */
export interface HttpRequestSpec {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** One step of a playbook, by kind. */
export type Step =
  | (StepCommon & {
      readonly kind: 'run';
      readonly argv: readonly string[];
      readonly dryRunArgv: readonly string[] | null;
      readonly env: Readonly<Record<string, string>>;
      readonly cwd: string | null;
    })
  | (StepCommon & { readonly kind: 'http'; readonly request: HttpRequestSpec; readonly expectStatus: readonly number[] })
  | (StepCommon & { readonly kind: 'verify'; readonly check: VerifyCheck; readonly withinMs: number; readonly everyMs: number })
  | (StepCommon & { readonly kind: 'wait'; readonly durationMs: number })
  | (StepCommon & { readonly kind: 'notify'; readonly text: string; readonly channel: string | null })
  | (StepCommon & {
      readonly kind: 'approval';
      readonly message: string | null;
      readonly approvalTimeoutMs: number | null;
      readonly approvers: readonly string[] | null;
    });

/** What a verify step polls. */
export type VerifyCheck =
  | { readonly kind: 'prometheus'; readonly query: string; readonly url: string | null }
  | {
      readonly kind: 'http';
      readonly request: HttpRequestSpec;
      readonly status: readonly number[];
      readonly json: { readonly path: string; readonly equals: string | number | boolean } | null;
      readonly contains: string | null;
      readonly tryTimeoutMs: number;
    }
  | { readonly kind: 'resolved' };

/** A loaded, checked playbook. */
export interface Playbook {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  /** File it came from, relative to the playbooks directory. */
  readonly file: string;
  /** sha256 of the file's bytes: which version of the playbook a run used. */
  readonly hash: string;
  readonly match: {
    /** null: any alertname (then matchers decide). */
    readonly alertnames: readonly string[] | null;
    readonly matchers: readonly LabelMatcher[];
    readonly status: AlertStatus;
  };
  readonly params: readonly ParamSpec[];
  readonly mode: PlaybookMode;
  readonly approval: { readonly timeoutMs: number; readonly approvers: readonly string[] };
  readonly guards: {
    readonly key: string | null;
    readonly cooldownMs: number | null;
    readonly maxRuns: { readonly count: number; readonly perMs: number } | null;
    readonly lock: string | null;
    /** guards.group: at most `max` live runs (a count, or a percentage of the targets seen firing) per group key per window. */
    readonly group: { readonly key: string; readonly max: { readonly count: number } | { readonly percent: number }; readonly perMs: number } | null;
  };
  /** Hand the target to a person after `after` live runs within `withinMs` did not fix it (null: never). */
  readonly escalate: { readonly after: number; readonly withinMs: number; readonly notify: readonly string[] } | null;
  readonly steps: readonly Step[];
  readonly onFailure: readonly Step[];
  /** Do not act while any of these alerts fire (absent or null: no precondition). */
  readonly unless?: PlaybookUnless | null;
  /** Silence the alert in Alertmanager while the run acts (absent or null: no silence). */
  readonly silence?: PlaybookSilence | null;
}

/** A playbook's precondition on the wider picture: no run while an alert matching one entry fires. */
export interface PlaybookUnless {
  /** Each entry is a set of matchers that must all hold for one active alert. */
  readonly firing: readonly (readonly LabelMatcher[])[];
  /** The entries as written, for messages. */
  readonly sources: readonly string[];
  /** Alertmanager could not be asked: hold the run for approval, or proceed. */
  readonly onUnknown: 'hold' | 'proceed';
}

/** A playbook's silence: from the run's first acting step to its end (and `extendMs` more after a success). */
export interface PlaybookSilence {
  readonly extendMs: number;
  readonly keepOnFailure: boolean;
  /** null: equal to every label of the alert. */
  readonly matchers: readonly SilenceMatcherSpec[] | null;
}

/** One matcher of a silence, as Alertmanager's API takes it. */
export interface SilenceMatcherSpec {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  readonly isEqual: boolean;
}
