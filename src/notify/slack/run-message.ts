import type { Approval } from '../../domain/approval.js';
import { isTerminal, type RunDetail, type RunState, type RunStep, type StepState } from '../../domain/run.js';
import { describeRendered } from '../../domain/describe-step.js';
import { context, MAX_SECTION_CHARS, section } from './blocks.js';
import { escapeMrkdwn, isSlackUserId, link, literal, truncate, untrusted } from './escape.js';

/** What the Slack message of a run is drawn from. */
export interface RunMessageView {
  readonly run: RunDetail;
  /** The daemon's external base URL, for a link to the run in the API; null: no link. */
  readonly publicUrl: string | null;
}

/** Block Kit's limits: blocks per message, characters per section text, per header. */
const MAX_BLOCKS = 50;
const MAX_HEADER_CHARS = 150;
/** Sections the plan may take: a long plan is cut, the run in the API has all of it. */
const MAX_PLAN_SECTIONS = 10;
const MAX_LABELS = 8;

/** Each state in the words the message's header uses. */
const STATE_TITLES: Readonly<Record<RunState, string>> = {
  pending: 'Proposed',
  awaiting_approval: 'Awaiting approval',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  rejected: 'Rejected',
  expired: 'Expired',
  interrupted: 'Interrupted',
};

const STEP_STATES: Readonly<Record<StepState, string>> = {
  planned: 'planned',
  pending: 'next',
  running: '*running*',
  succeeded: 'done',
  failed: '*failed*',
  skipped: 'skipped',
  interrupted: '*interrupted*',
};

/** The header words for a run's state ("Awaiting approval"), "DRY RUN — " first for a dry run. */
export function runTitle(run: Pick<RunDetail, 'state' | 'dryRun'>): string {
  return `${run.dryRun ? 'DRY RUN — ' : ''}${STATE_TITLES[run.state]}`;
}

/**
 * The one Slack message of a run, as it stands: state, alert, plan, approval. Pure, so every
 * update redraws the whole message from the run alone. Every value that came from an alert or a
 * command goes through escape.ts; only words written here are formatted.
 */
export function runMessage(view: RunMessageView): { text: string; blocks: unknown[] } {
  const { run } = view;
  const top: unknown[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(runTitle(run), MAX_HEADER_CHARS), emoji: false } }];
  if (run.dryRun) {
    top.push(section('*DRY RUN*: only read-only steps and their dry-run variants execute; nothing else is changed, the rest is only planned.'));
  }
  top.push(section(alertText(run)));
  const annotations = annotationText(run);
  if (annotations !== null) top.push(section(annotations));
  top.push(context(aboutText(run)));
  const links = linkText(run, view.publicUrl);
  if (links !== null) top.push(context(links));

  const bottom = approvalBlocks(run);
  if (isTerminal(run.state) && run.reason !== '') bottom.push(section(`*${STATE_TITLES[run.state]}:* ${untrusted(run.reason, 1000)}`));

  const room = Math.min(MAX_PLAN_SECTIONS, MAX_BLOCKS - top.length - bottom.length);
  const plan = planSections(run, room).map(section);
  return { text: fallbackText(run), blocks: [...top, ...plan, ...bottom] };
}

/** The notification line: what happened, to which alert, in words only. */
function fallbackText(run: RunDetail): string {
  return truncate(`${runTitle(run)}: ${escapeMrkdwn(run.alertname)} on ${escapeMrkdwn(run.targetKey)} (playbook ${escapeMrkdwn(run.playbook)})`, 300);
}

function alertText(run: RunDetail): string {
  const labels = Object.keys(run.labels)
    .filter((k) => k !== 'alertname')
    .sort();
  const shown = labels.slice(0, MAX_LABELS).map((k) => literal(`${k}=${run.labels[k] ?? ''}`, 150));
  const more = labels.length > MAX_LABELS ? ` _and ${labels.length - MAX_LABELS} more_` : '';
  const lines = [`*Alert* ${literal(run.alertname, 200)} on target ${literal(run.targetKey, 300)}`];
  if (shown.length > 0) lines.push(`*Labels* ${shown.join(' ')}${more}`);
  if (run.resolvedAt !== null) lines.push(`The alert resolved at ${when(run.resolvedAt)}.`);
  if (run.silenceId) lines.push(`*Silenced* in Alertmanager: silence ${literal(run.silenceId, 100)}`);
  return lines.join('\n');
}

function annotationText(run: RunDetail): string | null {
  const lines: string[] = [];
  const summary = run.annotations['summary'];
  const description = run.annotations['description'];
  if (summary) lines.push(`*Summary* ${untrusted(summary, 500)}`);
  if (description) lines.push(`*Description* ${untrusted(description, 1500)}`);
  return lines.length > 0 ? lines.join('\n') : null;
}

function aboutText(run: RunDetail): string {
  const mode = run.dryRun ? 'dry run' : run.needsApproval ? 'live, approval required' : 'live';
  return `Playbook ${literal(run.playbook, 100)} · hash ${literal(run.playbookHash.slice(0, 12), 12)} · mode: ${mode} · run ${literal(run.id, 100)}`;
}

function linkText(run: RunDetail, publicUrl: string | null): string | null {
  const runbook = run.annotations['runbook_url'];
  const links = [
    run.generatorUrl === null ? null : link(run.generatorUrl, 'Alert source'),
    runbook === undefined ? null : link(runbook, 'Runbook'),
    publicUrl === null ? null : link(`${publicUrl.replace(/\/+$/, '')}/console/runs/${encodeURIComponent(run.id)}`, 'Run in the console'),
  ].filter((l): l is string => l !== null);
  return links.length > 0 ? links.join(' · ') : null;
}

/** The plan, step by step, main phase then onFailure, packed into at most `room` sections. */
function planSections(run: RunDetail, room: number): string[] {
  if (room <= 0) return [];
  const byOrder = (a: RunStep, b: RunStep): number => a.index - b.index;
  const main = run.steps.filter((s) => s.phase === 'main').sort(byOrder);
  const onFailure = run.steps.filter((s) => s.phase === 'onFailure').sort(byOrder);
  const lines: string[] = [main.length > 0 ? '*Plan*' : '*Plan*: no steps'];
  for (const step of main) lines.push(stepLine(step, run.dryRun));
  if (onFailure.length > 0) {
    lines.push('*On failure*');
    for (const step of onFailure) lines.push(stepLine(step, run.dryRun));
  }

  // The note about what was left out must fit in the last section, whatever it held.
  const reserve = 80;
  const sections: string[] = [];
  let current = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const next = current === '' ? line : `${current}\n${line}`;
    if (next.length <= MAX_SECTION_CHARS - reserve) {
      current = next;
      continue;
    }
    if (sections.length + 1 >= room) {
      const left = lines.length - i;
      sections.push(`${current}\n_…and ${left} more line${left === 1 ? '' : 's'} of the plan: see the run in the API._`);
      return sections;
    }
    sections.push(current);
    current = line;
  }
  if (current !== '') sections.push(current);
  return sections;
}

/** One step: its state, name and what it does, as the untrusted text it is. */
function stepLine(step: RunStep, dryRun: boolean): string {
  const parts = [`${STEP_STATES[step.state]} ${step.index + 1}. ${literal(step.name, 100)} ${literal(describeRendered(step.rendered, dryRun), 300)}`];
  if (step.deferred && (step.state === 'planned' || step.state === 'pending')) parts.push('_(some values are filled in when it runs)_');
  if (step.error !== null && step.error !== '') parts.push(`\n      error: ${literal(step.error, 300)}`);
  return parts.join(' ');
}

/** The latest approval request: what is asked, who may answer, and the buttons while it is open. */
function approvalBlocks(run: RunDetail): unknown[] {
  const approval = run.approvals.at(-1);
  if (approval === undefined) return [];
  if (approval.decision === null) {
    // A request stays undecided for a moment after its run moved on; buttons only while it holds.
    if (run.state !== 'awaiting_approval') return [];
    const who = approval.approvers.length > 0 ? approval.approvers.map((a) => literal(a, 100)).join(', ') : 'anyone allowed to approve runs';
    const lines = [`*Approval needed* before step ${literal(approval.stepName, 100)}${approval.seq > 1 ? ` (request ${approval.seq})` : ''}`];
    if (approval.message !== null && approval.message !== '') lines.push(untrusted(approval.message, 1000));
    lines.push(`*Who may approve:* ${who}`, `*Expires:* ${when(approval.expiresAt)}`);
    return [section(lines.join('\n')), actions(run, approval)];
  }
  const lines = [decisionLine(approval)];
  if (approval.comment !== null && approval.comment !== '') lines.push(`*Comment:* ${untrusted(approval.comment, 1000)}`);
  return [section(lines.join('\n'))];
}

function decisionLine(a: Approval): string {
  const by = a.decidedBy === null ? null : a.decidedVia === 'slack' && isSlackUserId(a.decidedBy) ? `<@${a.decidedBy}>` : literal(a.decidedBy, 100);
  const via = a.decidedVia === null ? '' : ` via ${a.decidedVia}`;
  const at = a.decidedAt === null ? '' : ` at ${when(a.decidedAt)}`;
  switch (a.decision) {
    case 'approved':
      return `*Approved* by ${by ?? 'someone'}${via}${at}`;
    case 'rejected':
      return `*Rejected* by ${by ?? 'someone'}${via}${at}`;
    case 'expired':
      return `*Approval expired*: nobody decided by ${when(a.expiresAt)}`;
    case 'cancelled':
    case null:
      return `*Approval cancelled*${by === null ? '' : ` by ${by}${via}`}${at}`;
  }
}

function actions(run: RunDetail, approval: Approval): unknown {
  return {
    type: 'actions',
    block_id: `approval:${run.id}:${approval.seq}`.slice(0, 255),
    elements: [
      {
        type: 'button',
        action_id: 'approve',
        style: 'primary',
        value: run.id,
        text: { type: 'plain_text', text: 'Approve', emoji: false },
        confirm: {
          title: { type: 'plain_text', text: 'Approve this run?' },
          text: {
            type: 'plain_text',
            text: truncate(
              `Playbook ${run.playbook} goes on ${run.dryRun ? 'as a dry run' : 'and changes things'}. Your Slack user is recorded as the approver.`,
              300,
            ),
          },
          confirm: { type: 'plain_text', text: 'Approve' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
      { type: 'button', action_id: 'reject', style: 'danger', value: run.id, text: { type: 'plain_text', text: 'Reject', emoji: false } },
    ],
  };
}

/** A time every reader sees in their own time zone; the ISO text where Slack cannot format it. */
function when(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return literal(iso, 60);
  return `<!date^${Math.floor(ms / 1000)}^{date_num} {time}|${escapeMrkdwn(new Date(ms).toISOString())}>`;
}
