import type { Playbook } from '../domain/playbook.js';
import type { Run } from '../domain/run.js';

/** Carries a created run through its steps. Implementations record every transition in the store. */
export interface RunExecutor {
  /** Starts a run; resolves when it reaches a terminal or waiting state. */
  execute(run: Run, playbook: Playbook): Promise<void>;
}
