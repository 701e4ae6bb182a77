import { createHash } from 'node:crypto';
import type { Notification, Notifier } from '../domain/notifier.js';

/** PagerDuty's Events API v2 endpoint. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** What one PagerDuty notifier is configured with. */
export interface PagerDutyOptions {
  readonly routingKey: string;
  readonly severity?: 'critical' | 'error' | 'warning' | 'info';
  readonly url?: string;
  readonly attempts?: number;
  readonly timeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const KINDS: readonly Notification['kind'][] = ['escalation.opened', 'escalation.cleared'];

/**
 * Sends escalations to PagerDuty's Events API v2: a `trigger` when a target is handed to a person,
 * a `resolve` with the same `dedup_key` when someone clears it. Takes no other kind: a page per
 * run step is not what anyone wants. Retries network errors, 429 and 5xx (PagerDuty's advice),
 * not 400 (the event is wrong, sending it again will not help).
 */
export class PagerDutyNotifier implements Notifier {
  constructor(
    readonly name: string,
    private readonly options: PagerDutyOptions,
  ) {}

  accepts(kind: Notification['kind']): boolean {
    return KINDS.includes(kind);
  }

  async send(n: Notification): Promise<void> {
    const body = pagerDutyEvent(n, this.options.routingKey, this.options.severity ?? 'critical');
    const url = this.options.url ?? PAGERDUTY_EVENTS_URL;
    const attempts = this.options.attempts ?? 3;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let last = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        });
        const text = await res.text();
        if (res.status === 202 || res.ok) return;
        last = `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
        if (res.status !== 429 && res.status < 500) break;
      } catch (err) {
        last = (err as Error).message;
      }
      if (attempt < attempts) await sleep(1000 * 2 ** (attempt - 1));
    }
    throw new Error(`PagerDuty event to ${new URL(url).host} failed: ${last}`);
  }
}

/** The dedup_key of a target's escalations: at most 255 characters, the same for trigger and resolve. */
export function escalationDedupKey(playbook: string, targetKey: string): string {
  const key = `remediator/${playbook}/${targetKey}`;
  return key.length <= 255 ? key : `remediator/${createHash('sha256').update(key).digest('hex')}`;
}

/** The Events API v2 body for an escalation notification. */
export function pagerDutyEvent(n: Notification, routingKey: string, severity: string): Record<string, unknown> {
  const data = n.data ?? {};
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const playbook = str(data['playbook']) || (n.playbook ?? '');
  const targetKey = str(data['targetKey']);
  const dedupKey = escalationDedupKey(playbook, targetKey);
  if (n.kind === 'escalation.cleared') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    client: 'remediator',
    payload: {
      summary: n.text.slice(0, 1024),
      source: targetKey.slice(0, 255) || playbook,
      severity,
      ...(typeof data['openedAt'] === 'string' ? { timestamp: data['openedAt'] } : {}),
      component: playbook,
      class: 'remediation escalated',
      custom_details: data,
    },
  };
}
