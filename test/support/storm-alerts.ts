import { fixture } from './fixtures.js';

/** A rollback per deployment: forty deployments are forty target keys. */
export const ROLLBACK = `name: rollback
match: { alertname: HighErrorRate }
mode: live
params:
  namespace: { from: labels.namespace, pattern: '[a-z]+' }
  deployment: { from: labels.deployment, pattern: '[a-z0-9]+' }
guards: { key: '{{ params.namespace }}/{{ params.deployment }}' }
steps:
  - name: undo
    run: [${JSON.stringify(process.execPath)}, -e, '']
`;

/** One delivery of alerts for deployments [from, to), as a platform upgrade breaks them (they share cluster and gateway). */
export function wave(from: number, to: number, startsAt = '2026-12-02T03:12:00Z'): Record<string, unknown> {
  const p = fixture('amtool-firing.json') as { alerts: Record<string, unknown>[]; status: string; groupKey: string };
  const template = p.alerts[0] as Record<string, unknown>;
  p.alerts = Array.from({ length: to - from }, (_, i) => ({
    ...template,
    labels: { alertname: 'HighErrorRate', cluster: 'eu1', gateway: 'v2.3', namespace: 'shop', deployment: `svc${from + i}` },
    fingerprint: `5${(from + i).toString(16).padStart(15, '0')}`,
    startsAt,
    generatorURL: 'http://prometheus:9090/graph?g0.expr=errors',
  }));
  p.status = 'firing';
  p.groupKey = `{}:{alertname="HighErrorRate", from="${from}"}`;
  return p;
}
