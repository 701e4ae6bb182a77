import { errorMessage, RemediatorError } from '../domain/errors.js';
import { formatDuration } from '../domain/duration.js';
import type { Notification, Notifier } from '../domain/notifier.js';
import type { AuditLog, CircuitRecord, GuardStore, PauseRecord } from '../domain/store.js';
import { deliver } from '../notify/deliver.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** The longest pause a person may set; anything longer is a configuration change (execution: dry-run). */
export const MAX_PAUSE_MS = 7 * 86_400_000;

/** What the switches need; wired once in serve. */
export interface GuardSwitchesDeps {
  readonly store: GuardStore & AuditLog;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Told of every pause, resume and circuit change (none: only the log and the events say it). */
  readonly notifiers?: readonly Notifier[];
  readonly budget: { readonly count: number; readonly perMs: number } | null;
}

/** The daemon-wide guards as the API and the CLI show them. */
export interface GuardStatus {
  readonly now: string;
  /** A pause is in force now. */
  readonly paused: boolean;
  /** The last pause set, in force or not. */
  readonly pause: PauseRecord | null;
  readonly circuitOpen: boolean;
  /** The last opening of the circuit, closed or not. */
  readonly circuit: CircuitRecord | null;
  readonly budget: { readonly count: number; readonly per: string; readonly liveRuns: number } | null;
}

/**
 * The switches people and the budget throw: pause and resume, open and close the circuit. Each
 * change is one store transaction with its event; then the notifiers are told, without holding up
 * the caller, and a failed notification is recorded and logged, never thrown.
 */
export class GuardSwitches {
  private readonly sending = new Set<Promise<void>>();

  constructor(private readonly deps: GuardSwitchesDeps) {}

  async status(): Promise<GuardStatus> {
    const now = this.deps.clock();
    const budget = this.deps.budget;
    const state = await this.deps.store.globalState({ budgetSince: budget === null ? null : new Date(now.getTime() - budget.perMs) });
    return {
      now: now.toISOString(),
      paused: isPaused(state.pause, now),
      pause: state.pause,
      circuitOpen: state.circuit !== null && state.circuit.closedAt === null,
      circuit: state.circuit,
      budget: budget === null ? null : { count: budget.count, per: formatDuration(budget.perMs), liveRuns: state.liveRunsInWindow },
    };
  }

  /** Pauses every would-be run for `forMs`, replacing any pause in force. */
  async pause(input: { by: string; forMs: number; reason: string; via: string }): Promise<PauseRecord> {
    const reason = input.reason.trim();
    if (reason === '') throw new RemediatorError('bad_request', 'a pause needs a reason: say why, for whoever wonders why nothing ran');
    if (!Number.isFinite(input.forMs) || input.forMs <= 0) throw new RemediatorError('bad_request', 'a pause needs a duration above zero, such as 30m or 2h');
    if (input.forMs > MAX_PAUSE_MS) {
      throw new RemediatorError(
        'bad_request',
        `a pause lasts at most ${MAX_PAUSE_MS / 86_400_000}d; to stop acting for longer, set execution: dry-run in the configuration`,
      );
    }
    const now = this.deps.clock();
    const until = new Date(now.getTime() + input.forMs).toISOString();
    const pause = await this.deps.store.setPause({ at: now.toISOString(), until, reason, by: input.by, via: input.via });
    this.deps.metrics.paused.set(1);
    this.deps.logger.warn(`paused by ${input.by} until ${until}: ${reason}`, { by: input.by, until, via: input.via });
    this.notify({ kind: 'paused', text: `Remediation paused by ${input.by} until ${until}: ${reason}`, data: { by: input.by, until, reason } });
    return pause;
  }

  /** Lifts the pause in force; null when there was none (it may have expired by itself). */
  async resume(input: { by: string; via: string }): Promise<PauseRecord | null> {
    const pause = await this.deps.store.endPause({ at: this.deps.clock().toISOString(), by: input.by, via: input.via });
    this.deps.metrics.paused.set(0);
    if (pause === null) return null;
    this.deps.logger.warn(`resumed by ${input.by} (paused by ${pause.by}: ${pause.reason})`, { by: input.by, via: input.via });
    this.notify({
      kind: 'resumed',
      text: `Remediation resumed by ${input.by} (paused by ${pause.by} until ${pause.until}: ${pause.reason})`,
      data: { by: input.by },
    });
    return pause;
  }

  /** Opens the circuit (the budget is spent); null when it was open already. */
  async openCircuit(input: { reason: string }): Promise<CircuitRecord | null> {
    const circuit = await this.deps.store.openCircuit({ at: this.deps.clock().toISOString(), reason: input.reason, by: 'remediator' });
    this.deps.metrics.circuitOpen.set(1);
    if (circuit === null) return null;
    this.deps.logger.error(
      `circuit opened: ${input.reason}; every further live run waits for a person's approval until a person closes it (remediator circuit close)`,
      { reason: input.reason },
    );
    this.notify({
      kind: 'circuit.opened',
      text: `Circuit opened: ${input.reason}. Every further live run waits for a person's approval until a person closes it (remediator circuit close).`,
      data: { reason: input.reason },
    });
    return circuit;
  }

  /** Closes the open circuit; null when it was not open. */
  async closeCircuit(input: { by: string; via: string; note: string }): Promise<CircuitRecord | null> {
    const circuit = await this.deps.store.closeCircuit({ at: this.deps.clock().toISOString(), by: input.by, via: input.via, note: input.note.trim() });
    this.deps.metrics.circuitOpen.set(0);
    if (circuit === null) return null;
    const note = circuit.closeNote ? `: ${circuit.closeNote}` : '';
    this.deps.logger.warn(`circuit closed by ${input.by}${note}`, { by: input.by, via: input.via });
    this.notify({
      kind: 'circuit.closed',
      text: `Circuit closed by ${input.by}${note} (opened ${circuit.openedAt}: ${circuit.reason})`,
      data: { by: input.by },
    });
    return circuit;
  }

  /** Resolves when every notification started so far has been sent or has failed. */
  async idle(): Promise<void> {
    while (this.sending.size > 0) await Promise.all([...this.sending]);
  }

  private notify(n: Notification): void {
    for (const notifier of this.deps.notifiers ?? []) {
      const p = this.send(notifier, n).finally(() => this.sending.delete(p));
      this.sending.add(p);
    }
  }

  private async send(notifier: Notifier, n: Notification): Promise<void> {
    const outcome = await deliver(notifier, n, this.deps);
    if (outcome === null) return;
    try {
      await this.deps.store.appendEvents([outcome.event]);
    } catch (err) {
      this.deps.logger.warn(`recording a notification outcome failed: ${errorMessage(err)}`);
    }
  }
}

/** True when the pause is in force at `now`: set, not lifted by a person, not expired. */
export function isPaused(pause: PauseRecord | null, now: Date): boolean {
  return pause !== null && pause.resumedAt === null && now.getTime() < new Date(pause.until).getTime();
}
