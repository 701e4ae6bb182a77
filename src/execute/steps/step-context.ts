import type { OutputRedactor } from '../output-cap.js';

/** The limits one attempt of a step body runs under: its abort signal, its time, its output cap. */
export interface StepContext {
  /** Aborted when the run is cancelled, the step times out, or the daemon shuts down. */
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly outputCapBytes: number;
  /** Hides secrets in what the cap keeps, by position at a cut (a cut value is in neither piece). */
  readonly redactor: OutputRedactor;
}
