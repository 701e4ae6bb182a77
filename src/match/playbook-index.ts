import { alertName, type Alert } from '../domain/alert.js';
import type { Playbook } from '../domain/playbook.js';
import { matchPlaybook, playbookMatches, type MatchOutcome } from './match-playbook.js';

/**
 * Playbooks indexed by alertname, so an alert is only checked against the playbooks that name it
 * (plus the few that match on labels alone): cheap with thousands of playbooks.
 */
export class PlaybookIndex {
  private readonly byAlertname = new Map<string, Playbook[]>();
  private readonly anyAlertname: Playbook[] = [];

  constructor(readonly playbooks: readonly Playbook[]) {
    for (const playbook of playbooks) {
      const names = playbook.match.alertnames;
      if (names === null) {
        this.anyAlertname.push(playbook);
        continue;
      }
      for (const name of new Set(names)) {
        const list = this.byAlertname.get(name) ?? [];
        list.push(playbook);
        this.byAlertname.set(name, list);
      }
    }
  }

  /** Every playbook whose match holds for the alert: those naming its alertname first. */
  match(alert: Alert): Playbook[] {
    const named = this.byAlertname.get(alertName(alert)) ?? [];
    const candidates = this.anyAlertname.length === 0 ? named : [...named, ...this.anyAlertname];
    return candidates.filter((p) => playbookMatches(p, alert));
  }

  /** Every playbook with its outcome, for `simulate`: why each one did or did not match. */
  explain(alert: Alert): { playbook: Playbook; outcome: MatchOutcome }[] {
    return this.playbooks.map((playbook) => ({ playbook, outcome: matchPlaybook(playbook, alert) }));
  }
}
