/**
 * Records refused requests without letting a stranger grow the append-only audit trail at will:
 * at most one record per source per window, carrying how many refusals it stands for. Memory is
 * bounded by forgetting the oldest sources first.
 */
export class FailureThrottle {
  private readonly seen = new Map<string, { until: number; suppressed: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly maxSources = 10_000,
  ) {}

  /** null: already recorded in this window; otherwise how many earlier refusals went unrecorded. */
  admit(source: string, now: number): { unrecorded: number } | null {
    const entry = this.seen.get(source);
    if (entry && now < entry.until) {
      entry.suppressed++;
      return null;
    }
    const unrecorded = entry?.suppressed ?? 0;
    this.seen.delete(source);
    this.seen.set(source, { until: now + this.windowMs, suppressed: 0 });
    if (this.seen.size > this.maxSources) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return { unrecorded };
  }
}
