import type { Response } from 'express';
import { RemediatorError } from '../../domain/errors.js';
import { principalOf } from '../auth.js';
import { sessionOf } from './console-auth.js';
import type { ConsoleDeps } from './console-deps.js';
import type { HtmlValue, SafeHtml } from './html.js';
import { page, type Frame, type Section } from './layout.js';

/** Fixed texts for what an action did (the redirect after it carries only the code). */
export const DONE: Readonly<Record<string, string>> = {
  approved: 'Approved: the run goes on.',
  rejected: 'Rejected: the run will not act.',
  cancelled: 'Cancelled.',
  cancelling: 'Cancelling: its current step is being stopped.',
  paused: 'Paused.',
  resumed: 'Resumed.',
  'not-paused': 'There was no pause in force.',
  closed: 'The circuit is closed, with a fresh budget.',
  'not-open': 'The circuit was not open.',
  reloaded: 'Reload done: see its result below.',
  'storm-approved': "Approved: the storm's held runs go on.",
  'storm-rejected': "Rejected: none of the storm's held runs will act.",
  'escalation-cleared': 'Cleared: the playbook may act on the target again.',
  'escalation-not-open': 'That escalation was not open.',
  verified: 'Verify done: see its result below.',
};

/** Sends HTML. */
export function sendHtml(res: Response, status: number, body: SafeHtml): void {
  res.status(status).type('html').send(body.text);
}

/** Renders a signed-in page: the frame (who, roles, held count, guard banners) around the content. */
export async function renderPage(
  deps: ConsoleDeps,
  res: Response,
  view: { title: string; section: Section | null; content: HtmlValue; status?: number; notice?: Frame['notice'] },
): Promise<void> {
  const session = sessionOf(res);
  const principal = principalOf(res);
  if (session === null || principal === null) throw new RemediatorError('unauthorized', 'sign in to the console first');
  const [held, guards] = await Promise.all([deps.store.countOpenApprovals(), deps.switches.status()]);
  const done = typeof res.req.query['done'] === 'string' ? DONE[res.req.query['done']] : undefined;
  const notice = view.notice ?? (done ? { kind: 'ok' as const, text: done } : null);
  sendHtml(res, view.status ?? 200, page({ title: view.title, section: view.section, principal, csrf: session.csrf, held, guards, notice }, view.content));
}
