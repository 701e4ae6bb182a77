import type { RenderedStep, StepState } from '../domain/run.js';
import type { ReportStep } from '../report/report.js';
import type { Row } from './rows.js';

/** A step row as the report reads it (both dialects: flags are 0/1 or booleans). */
export function toReportStep(s: Row): ReportStep {
  return {
    kind: s['kind'] as RenderedStep['kind'],
    readOnly: s['read_only'] === 1 || s['read_only'] === true,
    startedAt: typeof s['started_at'] === 'string' ? s['started_at'] : null,
    name: String(s['name']),
    phase: s['phase'] === 'onFailure' ? 'onFailure' : 'main',
    state: s['state'] as StepState,
    variant: s['variant'] === 1 || s['variant'] === true,
    error: typeof s['error'] === 'string' ? s['error'] : null,
  };
}
