/** Hides secrets in captured text: whole values anywhere, and by position where a cap cut the text. */
export interface OutputRedactor {
  redact(text: string): string;
  /** The kept sides of a cut, redacted; `tail` null when only the head was kept. */
  redactCut(head: string, tail: string | null): { head: string; tail: string | null };
}

/** A redactor that hides nothing (tests, and callers that redact later). */
export const NO_REDACTION: OutputRedactor = { redact: (t) => t, redactCut: (head, tail) => ({ head, tail }) };

/**
 * Keeps the head and the tail of a stream up to a byte cap and counts what was cut, so a command
 * that prints 10 MB costs a few kilobytes of memory and the record still shows how it started and
 * how it ended (where the error usually is).
 */
export class CappedOutput {
  private readonly headCap: number;
  private readonly tailCap: number;
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer = Buffer.alloc(0);
  private total = 0;

  constructor(cap: number) {
    this.headCap = Math.floor((cap * 3) / 4);
    this.tailCap = cap - this.headCap;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.headBytes < this.headCap) {
      const take = chunk.subarray(0, this.headCap - this.headBytes);
      this.head.push(take);
      this.headBytes += take.length;
      chunk = chunk.subarray(take.length);
      if (chunk.length === 0) return;
    }
    const joined = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    this.tail = joined.length > this.tailCap ? Buffer.from(joined.subarray(joined.length - this.tailCap)) : joined;
  }

  /** Bytes seen in total. */
  get bytes(): number {
    return this.total;
  }

  /** True when something was cut. */
  get truncated(): boolean {
    return this.total > this.headBytes + this.tail.length;
  }

  /**
   * The kept text, redacted, with a marker where bytes were cut. A secret the cut went through is
   * in neither piece whole: the redactor hides the characters next to the cut by position.
   */
  text(redactor: OutputRedactor): string {
    const head = Buffer.concat(this.head).toString('utf8');
    if (!this.truncated) return redactor.redact(head + this.tail.toString('utf8'));
    const cut = this.total - this.headBytes - this.tail.length;
    const kept = redactor.redactCut(head, this.tail.toString('utf8'));
    return `${kept.head}\n[… ${cut} bytes cut: output is capped at ${this.headCap + this.tailCap} bytes …]\n${kept.tail ?? ''}`;
  }
}
