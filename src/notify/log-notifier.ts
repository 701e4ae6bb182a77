import type { Notification, Notifier } from '../domain/notifier.js';
import type { Logger } from '../observability/logger.js';

/** Writes notifications to the log: always on, so every notification leaves a trace. */
export class LogNotifier implements Notifier {
  readonly name = 'log';

  constructor(private readonly logger: Logger) {}

  send(n: Notification): Promise<void> {
    this.logger.info(`notify: ${n.text}`, { notification: n.kind, channel: n.channel ?? undefined, runId: n.runId, playbook: n.playbook });
    return Promise.resolve();
  }
}
