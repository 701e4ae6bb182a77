import type { Playbook } from '../domain/playbook.js';
import type { Run } from '../domain/run.js';
import { sleep } from './retry.js';

/** Why a run stopped early, set by whoever stopped it. */
export interface StopReason {
  readonly to: 'cancelled' | 'interrupted';
  readonly reason: string;
}

/** A run taking a slot: its abort switch, and why it was stopped (if it was). */
export interface Slot {
  readonly controller: AbortController;
  stop?: StopReason;
}

/** A run waiting for a slot. */
export interface Queued {
  readonly run: Run;
  readonly playbook: Playbook;
  /** An approved run going on at its gate, rather than a new one starting. */
  readonly resume: boolean;
  readonly done: () => void;
}

/**
 * The executing slots: at most `max` runs at once, the rest waiting in order. A run leaves its
 * slot when it finishes or is held for approval. Knows nothing of what a run does: `perform`
 * carries it, `abandon` handles a run that threw.
 */
export class RunSlots {
  private readonly queue: Queued[] = [];
  private readonly active = new Map<string, Slot>();
  private accepting = true;

  constructor(
    private readonly max: number,
    private readonly perform: (item: Queued, signal: AbortSignal) => Promise<void>,
    private readonly abandon: (run: Run, err: unknown, signal: AbortSignal) => Promise<void>,
  ) {}

  /** Queues a run; resolves when it has left its slot, or at once when shutdown has begun. */
  enqueue(run: Run, playbook: Playbook, resume: boolean): Promise<void> {
    // After shutdown began, a pending run stays pending in the store and is resumed at the next
    // start; an approved one stays running and is interrupted then (it is never run twice).
    if (!this.accepting) return Promise.resolve();
    return new Promise((resolve) => {
      this.queue.push({ run, playbook, resume, done: resolve });
      this.pump();
    });
  }

  /** The slot a run holds, if it is executing here. */
  slot(runId: string): Slot | undefined {
    return this.active.get(runId);
  }

  /** Takes a run out of the queue (it never starts); null when it is not queued here. */
  unqueue(runId: string): Queued | null {
    const at = this.queue.findIndex((item) => item.run.id === runId);
    if (at < 0) return null;
    return this.queue.splice(at, 1)[0] ?? null;
  }

  /** Runs executing now. */
  get activeCount(): number {
    return this.active.size;
  }

  /** The runs this process drives: executing, or approved and waiting for a slot (already `running` in the store). */
  driving(): string[] {
    return [...this.active.keys(), ...this.queue.filter((item) => item.resume).map((item) => item.run.id)];
  }

  /**
   * Starts nothing new (queued runs are released, and stay as the store has them), lets running
   * runs finish within the grace period, then stops them with `stop` and waits until they have.
   */
  async shutdown(graceMs: number, stop: StopReason, onStopped: (runId: string) => void): Promise<void> {
    this.accepting = false;
    for (const item of this.queue.splice(0)) item.done();
    const deadline = Date.now() + graceMs;
    while (this.active.size > 0 && Date.now() < deadline) await sleep(50);
    for (const [id, slot] of this.active) {
      slot.stop ??= stop;
      slot.controller.abort(new Error('shutdown'));
      onStopped(id);
    }
    while (this.active.size > 0) await sleep(20);
  }

  private pump(): void {
    while (this.accepting && this.active.size < this.max) {
      // A run approved the moment it was held may be queued again before its held turn has quite
      // ended: it waits for that turn, so one run never has two.
      const next = this.queue.findIndex((item) => !this.active.has(item.run.id));
      if (next < 0) break;
      const [item] = this.queue.splice(next, 1);
      if (!item) break;
      const slot: Slot = { controller: new AbortController() };
      this.active.set(item.run.id, slot);
      this.perform(item, slot.controller.signal)
        .catch((err: unknown) => this.abandon(item.run, err, slot.controller.signal))
        .finally(() => {
          if (this.active.get(item.run.id) === slot) this.active.delete(item.run.id);
          item.done();
          this.pump();
        });
    }
  }
}
