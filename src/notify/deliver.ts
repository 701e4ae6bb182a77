import { errorMessage } from '../domain/errors.js';
import type { Notification, Notifier } from '../domain/notifier.js';
import type { NewEvent } from '../domain/run.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/**
 * Sends one notification through one notifier. It never throws: a failed notification must not
 * fail what it reports on. The outcome is counted and returned as the event to record (the caller
 * adds what it belongs to) and as a line for a step's output.
 */
export async function deliver(
  notifier: Notifier,
  n: Notification,
  deps: { metrics: Metrics; logger: Logger },
): Promise<{ line: string; event: NewEvent } | null> {
  if (notifier.accepts && !notifier.accepts(n.kind)) return null;
  try {
    await notifier.send(n);
    deps.metrics.notifications.inc({ notifier: notifier.name, outcome: 'sent' });
    return { line: `sent via ${notifier.name}`, event: { kind: 'notification.sent', data: { notifier: notifier.name, kind: n.kind } } };
  } catch (err) {
    deps.metrics.notifications.inc({ notifier: notifier.name, outcome: 'failed' });
    deps.logger.warn(`notification ${n.kind} via ${notifier.name} failed: ${errorMessage(err)}`, { notifier: notifier.name });
    return {
      line: `${notifier.name} failed: ${errorMessage(err)}`,
      event: { kind: 'notification.failed', data: { notifier: notifier.name, kind: n.kind, error: errorMessage(err) } },
    };
  }
}
