import type { MessageRef } from '../../domain/store.js';
import type { StormMessages, StormView } from '../../domain/storm-view.js';
import { context, section } from './blocks.js';
import { link, literal, truncate } from './escape.js';
import type { SlackClient } from './slack-client.js';

const MAX_LABELS = 12;
const MAX_PLAYBOOKS = 10;

/**
 * The one Slack message of a storm, as it stands: how many alerts and targets, the labels they
 * share (the likely cause), the playbooks involved, what became of the runs, and while runs wait,
 * buttons to approve or reject them together. Pure: every redraw draws it from the view alone.
 */
export function stormMessage(view: StormView): { text: string; blocks: unknown[] } {
  const { storm } = view;
  const over = storm.endedAt !== null;
  const title = `${over ? 'Storm ended' : 'Storm'}: ${storm.alerts} alerts across ${storm.targets} targets`;
  const labels = Object.entries(storm.commonLabels)
    .sort(([a], [b]) => a.localeCompare(b))
    .slice(0, MAX_LABELS)
    .map(([k, v]) => literal(`${k}=${v}`, 150));
  const playbooks = storm.playbooks.slice(0, MAX_PLAYBOOKS).map((p) => literal(p, 100));
  const more = storm.playbooks.length > MAX_PLAYBOOKS ? ` _and ${storm.playbooks.length - MAX_PLAYBOOKS} more_` : '';
  const lines = [
    `*Shared labels* ${labels.length > 0 ? labels.join(' ') : '_none: the alerts have no label in common_'}`,
    `*Playbooks* ${playbooks.join(' ')}${more}`,
    `*Runs* ${view.runs} created, ${view.held} waiting for a person`,
    over
      ? `Ended ${storm.endedAt ?? ''}: live runs are decided as usual again.`
      : `Since ${storm.openedAt}, the last new alert at ${storm.lastAlertAt}: further live runs wait for a person until it has been quiet for the cooldown.`,
  ];
  const links = [storm.generatorUrl === null ? null : link(storm.generatorUrl, 'Alert rule'), view.url === null ? null : link(view.url, 'Storm in the API')]
    .filter((l): l is string => l !== null)
    .join(' · ');
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, 150), emoji: false } },
    section(lines.join('\n')),
    context(`Storm ${literal(storm.id, 100)} · remediator storms show ${literal(storm.id, 100)}${links ? ` · ${links}` : ''}`),
  ];
  if (view.held > 0) {
    blocks.push({
      type: 'actions',
      block_id: `storm:${storm.id}`,
      elements: [
        {
          type: 'button',
          action_id: 'storm_approve',
          style: 'primary',
          value: stormButtonValue(storm.id, view.upTo),
          text: { type: 'plain_text', text: `Approve ${view.held} held run(s)`, emoji: false },
          confirm: confirm(`Approve all ${view.held} held runs of this storm?`, 'Each run goes on, recorded as approved by you.', 'Approve all'),
        },
        {
          type: 'button',
          action_id: 'storm_reject',
          style: 'danger',
          value: stormButtonValue(storm.id, view.upTo),
          text: { type: 'plain_text', text: 'Reject all', emoji: false },
          confirm: confirm(`Reject all ${view.held} held runs of this storm?`, 'None of them acts; each is recorded as rejected by you.', 'Reject all'),
        },
      ],
    });
  }
  return { text: truncate(title, 300), blocks };
}

function confirm(title: string, text: string, yes: string): unknown {
  return {
    title: { type: 'plain_text', text: truncate(title, 100) },
    text: { type: 'plain_text', text },
    confirm: { type: 'plain_text', text: yes },
    deny: { type: 'plain_text', text: 'Cancel' },
  };
}

/** Storm messages through Slack: posted to the channel, updated in place (a webhook posts the opening only). */
export class SlackStormMessages implements StormMessages {
  constructor(
    private readonly client: SlackClient,
    private readonly channel: string | null,
  ) {}

  async post(view: StormView): Promise<MessageRef | null> {
    return this.client.postMessage({ ...stormMessage(view), ...(this.channel ? { channel: this.channel } : {}) });
  }

  async update(ref: MessageRef, view: StormView): Promise<void> {
    if (!this.client.canUpdate) return;
    await this.client.updateMessage({ ...stormMessage(view), ...ref });
  }
}

/** A storm button's value: the storm, and the newest held run the message showed ("id upTo"). */
export function stormButtonValue(stormId: string, upTo: string | null): string {
  return upTo === null ? stormId : `${stormId} ${upTo}`;
}

/** The storm and the bound a storm button carries (see stormButtonValue). */
export function parseStormButton(value: string): { stormId: string; upTo?: string } {
  const [stormId = '', upTo] = value.split(' ');
  return upTo === undefined ? { stormId } : { stormId, upTo };
}
