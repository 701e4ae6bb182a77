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

/** What every step kind receives besides its rendered body. */
export interface StepContext {
  /** Aborted when the run is cancelled, the step times out, or the daemon shuts down. */
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly outputCapBytes: number;
}
