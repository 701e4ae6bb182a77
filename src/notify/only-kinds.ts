import type { Notification, Notifier } from '../domain/notifier.js';

/**
 * A notifier that takes only some kinds of notification: Slack shows a run's progress in the
 * run's own message, so the run notifications sent to every notifier would say it twice there.
 */
export function onlyKinds(notifier: Notifier, kinds: readonly Notification['kind'][]): Notifier {
  return {
    name: notifier.name,
    send: (n) => notifier.send(n),
    accepts: (kind) => kinds.includes(kind),
  };
}
