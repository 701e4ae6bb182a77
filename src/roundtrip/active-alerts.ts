import type { FiringAlerts } from '../domain/decision.js';
import { errorMessage } from '../domain/errors.js';
import type { AlertmanagerClient } from './alertmanager-client.js';

/**
 * Alertmanager's active alerts (silenced and inhibited ones included: a silenced upgrade is still
 * an upgrade), for playbooks' `unless.firing`. Read once per `cacheMs` however many alerts are
 * decided meanwhile (a storm decides hundreds at once), and never inside decide: decide gets the
 * answer, or why there is none, as an input.
 */
export class ActiveAlerts {
  private cached: { at: number; answer: Promise<FiringAlerts> } | null = null;

  constructor(
    private readonly client: Pick<AlertmanagerClient, 'listAlerts'> | null,
    private readonly cacheMs: number,
    private readonly clock: () => Date,
  ) {}

  /** The active alerts now (or at most cacheMs ago). Never throws. */
  read(): Promise<FiringAlerts> {
    const now = this.clock().getTime();
    if (this.cached !== null && now - this.cached.at < this.cacheMs) return this.cached.answer;
    const answer = this.fetch();
    this.cached = { at: now, answer };
    return answer;
  }

  private async fetch(): Promise<FiringAlerts> {
    if (this.client === null) return { known: false, error: 'no alertmanager in the configuration: add alertmanager.url' };
    try {
      const alerts = await this.client.listAlerts([], { active: true });
      return { known: true, alerts: alerts.map((a) => ({ fingerprint: a.fingerprint, labels: a.labels })) };
    } catch (err) {
      // An error is not cached: the next decision asks again.
      this.cached = null;
      return { known: false, error: errorMessage(err) };
    }
  }
}
