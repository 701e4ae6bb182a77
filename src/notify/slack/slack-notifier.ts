import type { Notification, Notifier } from '../../domain/notifier.js';
import { escapeMrkdwn, literal, truncate, untrusted } from './escape.js';
import { SlackApiError, type SlackClient } from './slack-client.js';

/** What each kind of notification is, in the words of its context line; other kinds read as their name. */
const KIND_WORDS: Readonly<Partial<Record<Notification['kind'], string>>> = {
  step: 'notify step',
  'run.finished': 'run finished',
  'circuit.opened': 'circuit opened',
  'circuit.closed': 'circuit closed',
};

function kindWords(kind: Notification['kind']): string {
  return KIND_WORDS[kind] ?? kind.replace(/[._]/g, ' ');
}

/**
 * Sends notify steps and daemon notices (circuit, pause) to Slack: the channel a notify step names,
 * else the default one (bot token), or the webhook's channel. The text is rendered with alert
 * values, so it is shown as untrusted text: it can neither ping nor link.
 */
export class SlackNotifier implements Notifier {
  readonly name = 'slack';

  constructor(private readonly options: { client: SlackClient; defaultChannel: string | null }) {}

  async send(n: Notification): Promise<void> {
    const channel = n.channel ?? this.options.defaultChannel;
    if (this.options.client.canUpdate && (channel === null || channel === '')) {
      throw new SlackApiError(
        'channel_not_set',
        `no Slack channel for this ${kindWords(n.kind)}: name one in the notify step or set a default Slack channel`,
        false,
      );
    }
    const about = [`remediator · ${kindWords(n.kind)}`];
    if (n.playbook !== undefined) about.push(`playbook ${literal(n.playbook, 100)}`);
    if (n.runId !== undefined) about.push(`run ${literal(n.runId, 100)}`);
    await this.options.client.postMessage({
      ...(channel === null ? {} : { channel }),
      text: truncate(escapeMrkdwn(n.text), 1000),
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: n.text.trim() === '' ? '_(no text)_' : untrusted(n.text, 2900), verbatim: true } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: about.join(' · '), verbatim: true }] },
      ],
    });
  }
}
