import type { NewEvent } from '../../src/domain/run.js';

/** N decision events a second apart: a large, realistic-looking audit history for tests and benchmarks. */
export function syntheticDecisions(n: number, start = Date.parse('2026-01-01T00:00:00Z')): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    kind: 'decision' as const,
    at: new Date(start + i * 1000).toISOString(),
    runId: `r_${i}`,
    playbook: 'rollback-on-error-burst',
    fingerprint: (i % 4096).toString(16).padStart(16, '0'),
    data: { action: 'suppress', reason: 'cooldown', detail: `last run ${i} ago`, keys: { target: `shop/checkout-${i % 97}` } },
  }));
}
