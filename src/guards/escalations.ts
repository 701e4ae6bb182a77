import { errorMessage, RemediatorError } from '../domain/errors.js';
import type { Notification, Notifier } from '../domain/notifier.js';
import type { Playbook } from '../domain/playbook.js';
import type { AuditLog, EscalationRecord, EscalationStore } from '../domain/store.js';
import { deliver } from '../notify/deliver.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** What escalations need; wired once in serve. */
export interface EscalationsDeps {
  readonly store: EscalationStore & AuditLog;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Every notifier by name (built-in and configured): a playbook's escalate.notify picks among them. */
  readonly notifiers: ReadonlyMap<string, Notifier>;
  /** The playbooks as loaded now, to find who to tell when one is cleared. */
  readonly playbook: (name: string) => Playbook | undefined;
  /** Where people reach the daemon, for links in the notification. */
  readonly publicUrl?: string;
}

/**
 * Targets handed to a person. Opening is decide's (under the decision lock, a conditional
 * insert); here the people named by the playbook's `escalate.notify` are told, once, with the runs
 * that did not fix it, and a person clears it (recorded, then they are told again: PagerDuty
 * resolves its incident). Notifying never holds up the caller and never throws.
 */
export class Escalations {
  private readonly sending = new Set<Promise<void>>();

  constructor(private readonly deps: EscalationsDeps) {}

  /** Tells the playbook's escalate.notify notifiers that the escalation opened. */
  opened(e: EscalationRecord, playbook: Playbook): void {
    const runs = e.runs.map((r) => `${r.id} ${r.state}${r.reason ? ` (${r.reason})` : ''}`).join('; ');
    this.notify(playbook.escalate?.notify ?? [], {
      kind: 'escalation.opened',
      text: `Escalated: ${e.playbook} did not fix "${e.targetKey}" after ${e.runs.length} run(s); automation is off for it until a person clears escalation ${e.id}. Runs: ${runs}`,
      playbook: e.playbook,
      data: this.details(e),
    });
  }

  async list(query: { all?: boolean; limit: number }): Promise<EscalationRecord[]> {
    return this.deps.store.listEscalations(query);
  }

  async get(id: string): Promise<EscalationRecord> {
    const e = await this.deps.store.getEscalation(id);
    if (e === null) throw new RemediatorError('not_found', `no escalation with id ${id}`);
    return e;
  }

  /** A person clears an escalation: automation may act on the target again. Null when it was not open. */
  async clear(input: { id: string; by: string; via: string; note: string }): Promise<EscalationRecord | null> {
    await this.get(input.id);
    const cleared = await this.deps.store.clearEscalation({ ...input, at: this.deps.clock().toISOString() });
    if (cleared === null) return null;
    const note = input.note ? `: ${input.note}` : '';
    this.deps.logger.warn(`escalation ${cleared.id} of ${cleared.playbook} for "${cleared.targetKey}" cleared by ${input.by}${note}`, {
      by: input.by,
      via: input.via,
      playbook: cleared.playbook,
    });
    this.notify(this.deps.playbook(cleared.playbook)?.escalate?.notify ?? [], {
      kind: 'escalation.cleared',
      text: `Escalation ${cleared.id} of ${cleared.playbook} for "${cleared.targetKey}" cleared by ${input.by}${note}: automation may act on it again`,
      playbook: cleared.playbook,
      data: { ...this.details(cleared), clearedBy: input.by },
    });
    return cleared;
  }

  /** Resolves when every notification started so far has been sent or has failed. */
  async idle(): Promise<void> {
    while (this.sending.size > 0) await Promise.all([...this.sending]);
  }

  private details(e: EscalationRecord): Record<string, unknown> {
    return {
      escalationId: e.id,
      playbook: e.playbook,
      targetKey: e.targetKey,
      openedAt: e.openedAt,
      reason: e.reason,
      runs: e.runs,
      clear: `remediator escalations clear ${e.id}`,
      ...(this.deps.publicUrl ? { console: new URL(`/console/guards`, this.deps.publicUrl).toString() } : {}),
    };
  }

  private notify(names: readonly string[], n: Notification): void {
    for (const name of names) {
      const notifier = this.deps.notifiers.get(name);
      if (notifier === undefined) {
        this.deps.logger.error(`escalation notifier "${name}" is not configured: nobody was told of ${n.kind}`, { notifier: name });
        continue;
      }
      // Named explicitly: a notifier that filters kinds (Slack takes only run messages) takes this one.
      const explicit: Notifier = { name, send: (x) => notifier.send(x) };
      const p = this.send(explicit, n).finally(() => this.sending.delete(p));
      this.sending.add(p);
    }
  }

  private async send(notifier: Notifier, n: Notification): Promise<void> {
    const outcome = await deliver(notifier, n, this.deps);
    if (outcome === null) return;
    try {
      await this.deps.store.appendEvents([{ ...outcome.event, playbook: n.playbook ?? null }]);
    } catch (err) {
      this.deps.logger.warn(`recording a notification outcome failed: ${errorMessage(err)}`);
    }
  }
}
