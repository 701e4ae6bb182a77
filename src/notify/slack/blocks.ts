import { truncate } from './escape.js';

/** Block Kit's limit on the text of a section or a context element. */
export const MAX_SECTION_CHARS = 3000;

/** A section of mrkdwn we composed; verbatim, so Slack links nothing we did not write as a link. */
export function section(text: string): unknown {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, MAX_SECTION_CHARS), verbatim: true } };
}

/** A context line of mrkdwn we composed, verbatim and cut to the limit. */
export function context(text: string): unknown {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(text, MAX_SECTION_CHARS), verbatim: true }] };
}
