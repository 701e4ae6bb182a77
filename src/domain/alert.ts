/** Alerts as Alertmanager sends them (the glossary of batch, alert and alert instance: run.ts). */

/** Label or annotation set. */
export type LabelSet = Readonly<Record<string, string>>;

/** Firing or resolved, as Alertmanager says. */
export type AlertStatus = 'firing' | 'resolved';

/** One alert as the pipeline sees it, normalised from the webhook payload. */
export interface Alert {
  readonly status: AlertStatus;
  readonly labels: LabelSet;
  readonly annotations: LabelSet;
  /** Canonical RFC 3339 UTC text; part of the instance identity. */
  readonly startsAt: string;
  /** Canonical text, or null while firing (Alertmanager sends year 1). */
  readonly endsAt: string | null;
  readonly generatorURL: string;
  readonly fingerprint: string;
}

/** The name Alertmanager gives an alert. */
export function alertName(alert: Alert): string {
  return alert.labels['alertname'] ?? '';
}

/** A short human label for logs: "HighErrorRate{service=checkout} 7d2d332f". */
export function describeAlert(alert: Alert): string {
  const labels = Object.entries(alert.labels)
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return `${alertName(alert)}{${labels}} ${alert.fingerprint}`;
}

/** A label's (or annotation's) own value: an absent label "constructor" must not find Object.prototype.constructor. */
export function ownValue(set: LabelSet, key: string): string | undefined {
  return Object.hasOwn(set, key) ? set[key] : undefined;
}
