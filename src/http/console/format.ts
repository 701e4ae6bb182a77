import { formatDuration } from '../../domain/duration.js';
import type { RunState, StepState } from '../../domain/run.js';
import { html, type SafeHtml } from './html.js';

/**
 * Small pieces every page shows the same way: times (UTC in the page and on hover; the script
 * rewrites the text into the viewer's zone), states (a colour and a word, never colour alone),
 * durations.
 */

/** A time: UTC as written, the viewer's zone once the script has run, UTC on hover. */
export function time(iso: string | null | undefined, fallback = '–'): SafeHtml {
  if (!iso) return html`${fallback}`;
  const utc = utcText(iso);
  return html`<time datetime="${iso}" title="${utc}" data-local>${utc}</time>`;
}

/** A deadline that counts down in the page (the script updates it every second). */
export function countdown(iso: string): SafeHtml {
  const utc = utcText(iso);
  return html`<time datetime="${iso}" title="${utc}" data-countdown>${utc}</time>`;
}

/** "2026-11-28 03:12:44 UTC" from an ISO time. */
export function utcText(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

const RUN_WORDS: Readonly<Record<RunState, string>> = {
  pending: 'pending',
  awaiting_approval: 'awaiting approval',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  rejected: 'rejected',
  expired: 'expired',
  interrupted: 'interrupted',
};

/** What kind of state it is, for its colour: good, bad, waiting, busy or neutral. */
const TONE: Readonly<Record<string, string>> = {
  succeeded: 'good',
  failed: 'bad',
  interrupted: 'bad',
  rejected: 'bad',
  expired: 'neutral',
  cancelled: 'neutral',
  skipped: 'neutral',
  planned: 'neutral',
  pending: 'wait',
  awaiting_approval: 'wait',
  running: 'busy',
};

/** A run's state as a badge: colour and word. `data-state` lets tests and the script read it. */
export function runState(state: RunState): SafeHtml {
  return html`<span class="badge tone-${TONE[state] ?? 'neutral'}" data-state="${state}">${RUN_WORDS[state] ?? state}</span>`;
}

/** A step's state as a badge. */
export function stepState(state: StepState): SafeHtml {
  return html`<span class="badge tone-${TONE[state] ?? 'neutral'}" data-step-state="${state}">${state}</span>`;
}

/** Live or dry run, in words. */
export function mode(dryRun: boolean): SafeHtml {
  return dryRun ? html`<span class="badge tone-neutral">dry run</span>` : html`<span class="badge tone-live">live</span>`;
}

/** Milliseconds between two times, readable; "–" when either is missing. */
export function between(from: string | null, to: string | null): string {
  if (!from || !to) return '–';
  return ms(Date.parse(to) - Date.parse(from));
}

/** A duration for people: 850ms, 12s, 1m30s. */
export function ms(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '–';
  if (value < 0) return '0s';
  return formatDuration(value < 1000 ? Math.round(value) : Math.round(value / 1000) * 1000);
}

/** Every run state, in the order the filters list them. */
export const RUN_STATES: readonly RunState[] = Object.keys(RUN_WORDS) as RunState[];

/** A value from an event's data as text: strings as they are, anything else as JSON. */
export function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A run state in words. */
export function stateWord(state: RunState): string {
  return RUN_WORDS[state] ?? state;
}

/** A table's header row: one column header per name. */
export function columns(...names: readonly string[]): SafeHtml {
  return html`<thead>
    <tr>
      ${names.map((n) => html`<th scope="col">${n}</th>`)}
    </tr>
  </thead>`;
}

/** The playbook filter of a listing: any, or one of the active playbooks. */
export function playbookSelect(names: readonly string[], selected: string | undefined): SafeHtml {
  return html`<label
    >Playbook
    <select name="playbook">
      <option value="">any</option>
      ${names.map((p) => html`<option value="${p}" ${selected === p ? html` selected` : ''}>${p}</option>`)}
    </select></label
  >`;
}

/** Links to the newest page and the next older one of a listing, when there are. */
export function pager(label: string, newest: string | null, older: string | null, olderText = 'Older'): SafeHtml {
  return html`<nav class="pager" aria-label="${label}">
    ${newest ? html`<a href="${newest}">Newest</a>` : ''} ${older ? html`<a rel="next" href="${older}">${olderText}</a>` : ''}
  </nav>`;
}
