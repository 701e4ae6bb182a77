import type { Notifier } from '../../domain/notifier.js';
import type { AuditLog, MessageRef, MessageStore, RunStore, StormStore } from '../../domain/store.js';
import { errorMessage } from '../../domain/errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { onlyKinds } from '../only-kinds.js';
import { SlackRunMessages } from './run-messages.js';
import { SlackClient } from './slack-client.js';
import { SlackNotifier } from './slack-notifier.js';
import { SlackStormMessages } from './storm-message.js';

/** What Slack needs from the configuration and the secrets. */
export interface SlackSettings {
  readonly botToken?: string | undefined;
  readonly webhookUrl?: string | undefined;
  /** slack.channel */
  readonly channel: string | null;
  readonly publicUrl: string | null;
}

/** Slack, wired: the client, the notifier for daemon notices and notify steps, and one message per run. */
export interface Slack {
  readonly client: SlackClient;
  readonly notifier: Notifier;
  readonly runMessages: SlackRunMessages;
  /** The one message of a storm, updated as it grows and ends. */
  readonly stormMessages: SlackStormMessages;
}

/**
 * Builds Slack's parts from the settings, or null when no Slack credential is set. Runs have a
 * message of their own, kept up to date by SlackRunMessages (whoever changes a run calls
 * `runChanged`); the notifier carries notify steps and daemon notices only, so a run's progress is
 * not said twice. Each posted or failed run message is counted and recorded on the run.
 */
export function wireSlack(
  settings: SlackSettings,
  deps: { readonly store: RunStore & MessageStore & StormStore & AuditLog; readonly metrics: Metrics; readonly logger: Logger },
): Slack | null {
  const { store, metrics, logger } = deps;
  if (!settings.botToken && !settings.webhookUrl) return null;
  const client = new SlackClient(settings.botToken ? { botToken: settings.botToken } : { webhookUrl: settings.webhookUrl ?? '' });
  const notifier = onlyKinds(new SlackNotifier({ client, defaultChannel: settings.channel }), [
    'step',
    'circuit.opened',
    'circuit.closed',
    'paused',
    'resumed',
  ]);
  const runMessages = new SlackRunMessages({
    client,
    channel: settings.channel,
    loadRun: (id) => store.getRun(id),
    refs: { get: (id) => store.runMessage(id, 'slack'), set: (id, ref) => store.setRunMessage(id, 'slack', ref) },
    publicUrl: settings.publicUrl,
    threadOf: (run) => stormMessage(store, run.stormId ?? ''),
    onResult: (runId, result) => {
      metrics.notifications.inc({ notifier: 'slack', outcome: result.ok ? 'sent' : 'failed' });
      if (result.ok && result.action === 'updated') return;
      if (!result.ok) logger.warn(`Slack message of run ${runId} failed: ${result.error}`, { runId });
      const event = result.ok
        ? { kind: 'notification.sent' as const, data: { notifier: 'slack', kind: 'run.message' } }
        : { kind: 'notification.failed' as const, data: { notifier: 'slack', kind: 'run.message', error: result.error } };
      void store.appendEvents([{ ...event, runId }]).catch((err: unknown) => logger.error(`recording a Slack notification failed: ${errorMessage(err)}`));
    },
  });
  return { client, notifier, runMessages, stormMessages: new SlackStormMessages(client, settings.channel) };
}

/** Where a storm's message is, for its runs' replies; null until it is posted (they are posted once it is). */
async function stormMessage(store: StormStore, stormId: string): Promise<MessageRef | null> {
  return (await store.getStorm(stormId))?.message ?? null;
}
