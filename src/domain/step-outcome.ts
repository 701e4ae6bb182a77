/** What one attempt of a step produced. */
export interface StepOutcome {
  readonly ok: boolean;
  readonly exitCode: number | null;
  /** The record of what happened: capped output, response body, measured values. */
  readonly output: string;
  readonly error: string | null;
  /** Values later steps can use as {{ steps.NAME.* }}. */
  readonly vars: StepVars;
}

/** What {{ steps.NAME.x }} resolves to. */
export interface StepVars {
  readonly stdout?: string;
  readonly stderr?: string;
  readonly exitCode?: number;
  readonly json?: unknown;
}

/** How an earlier step ended, for conditions and templates. "planned" is a dry run's stand-in for success. */
export type StepStatus = 'succeeded' | 'failed' | 'skipped' | 'planned';
