import type { DecideSettings, GuardState } from '../../src/domain/decision.js';

/** Nothing stored for the playbook and key: no run, no pause, no circuit, nothing spent. */
export const EMPTY: GuardState = {
  instanceRun: null,
  activeRun: null,
  lastRunAt: null,
  recentRuns: 0,
  lockedBy: null,
  paused: null,
  circuit: null,
  liveRunsInWindow: 0,
};

/** A live daemon with no budget and no maintenance windows. */
export const LIVE: DecideSettings = { execution: 'live', budget: null, maintenance: [] };
