import type { Alert } from '../../src/domain/alert.js';
import { NOTHING_STORED, type DecideSettings, type GuardState } from '../../src/domain/decision.js';

/** Nothing stored for the playbook and key: no run, no pause, no circuit, nothing spent. */
export const EMPTY: GuardState = NOTHING_STORED;

/** A live daemon with no budget and no maintenance windows. */
export const LIVE: DecideSettings = { execution: 'live', budget: null, maintenance: [] };

/** A firing Burst alert for shop/api at 11:55, the decide tables' usual input. */
export function firingAlert(over: Partial<Alert> = {}): Alert {
  return {
    status: 'firing',
    labels: { alertname: 'Burst', namespace: 'shop', deployment: 'api' },
    annotations: {},
    startsAt: '2024-05-01T11:55:00Z',
    endsAt: null,
    generatorURL: '',
    fingerprint: 'fp1',
    ...over,
  };
}
