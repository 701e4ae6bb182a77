import type { DurationSummary } from './report.js';

/**
 * The p-th percentile of `sorted` (ascending) by the nearest-rank method: the smallest value with
 * at least p% of the values at or below it, i.e. the value of rank ⌈p·n/100⌉. Exact, and always a
 * value observed — "90% of the alerts resolved within this" — rather than one interpolated between
 * two runs. For an even count the median is the lower of the two middle values. Null when empty.
 * `p` is a whole percentage (1–100), so that the rank is computed without rounding error.
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (!Number.isInteger(p) || p < 1 || p > 100) throw new RangeError(`percentile ${p}: give a whole number from 1 to 100`);
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p * sorted.length) / 100);
  return sorted[rank - 1] as number;
}

/** Durations summarized: how many, the median and the p90 (nearest-rank; null when there is none). */
export function summarize(ms: readonly number[]): DurationSummary {
  const sorted = [...ms].sort((a, b) => a - b);
  return { count: sorted.length, medianMs: percentile(sorted, 50), p90Ms: percentile(sorted, 90) };
}
