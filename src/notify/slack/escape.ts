/**
 * Untrusted text (alert labels and annotations, rendered commands, output, comments) in Slack.
 *
 * Slack parses `&`, `<` and `>` as control characters in mrkdwn: every mention (`<!channel>`,
 * `<!here>`, `<@U123>`, `<!subteam^S1>`), channel link (`<#C1>`), link (`<http://x|click>`) and date
 * token starts with a raw `<`, and a line starting with `>` is a quote. Slack's documented escape
 * is to write them as `&amp;`, `&lt;` and `&gt;`, which it decodes for display only: that alone
 * stops every ping and every link. Emphasis (`*bold*`, `_it_`, `~strike~`, `` `code` ``) has no
 * escape in mrkdwn, but Slack applies none inside code, so an untrusted value is shown in inline
 * code (`literal`) or a code block (`codeBlock`), with its own backticks swapped for a look-alike
 * so it cannot close the code early. Text objects that carry these also set `verbatim: true`, so
 * Slack does not turn bare URLs or channel names into links either.
 */

/** Slack's documented escape of its three control characters: no mention, link or quote survives. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Looks like a backtick, but neither opens nor closes code in Slack. */
const BACKTICK_LOOKALIKE = '\u02cb';

/** Marks where text was cut. */
const ELLIPSIS = '\u2026';

/**
 * Shortens escaped mrkdwn to at most `max` characters, ending with "…" when cut; never cuts an
 * `&amp;`/`&lt;`/`&gt;` in half (a half entity would show as noise) nor a surrogate pair.
 */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max < 1) return '';
  let cut = max - 1;
  // An entity is at most 5 characters: an "&" within the last 4 before the cut with no ";" between
  // it and the cut is an entity the cut would split.
  const amp = s.lastIndexOf('&', cut - 1);
  if (amp !== -1 && cut - amp < 5 && !s.slice(amp, cut).includes(';')) cut = amp;
  const code = s.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return s.slice(0, cut) + ELLIPSIS;
}

/**
 * A value shown exactly as it is (on one line), in inline code: nothing in it pings, links or
 * formats. Backticks show as "ˋ" and line breaks as "↵"; long values end with "…".
 */
export function literal(s: string, max = 500): string {
  const oneLine = s.replace(/`/g, BACKTICK_LOOKALIKE).replace(/\r\n|\r|\n/g, ' \u21b5 ');
  // An empty code span would show its two backticks, and a blank one is hard to see.
  if (oneLine.trim() === '') return s === '' ? '_(empty)_' : '_(blank)_';
  return `\`${truncate(escapeMrkdwn(oneLine), max)}\``;
}

/** Multi-line untrusted text (output, messages, comments) in a code block, exactly as it is. */
export function codeBlock(s: string, max = 2000): string {
  if (s.trim() === '') return literal(s);
  return `\`\`\`${truncate(escapeMrkdwn(s.replace(/`/g, BACKTICK_LOOKALIKE)), max)}\`\`\``;
}

/** An untrusted value, inline when it is one line, as a code block when it has several. */
export function untrusted(s: string, max = 500): string {
  return /[\r\n]/.test(s.trim()) ? codeBlock(s.trim(), max) : literal(s, max);
}

/**
 * A link with a label we wrote, or null when the URL is not http(s): a `javascript:` or `slack:`
 * URL from an alert never becomes clickable. The URL is escaped so it cannot end the link early
 * or smuggle a label in with "|".
 */
export function link(url: string, label: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  const href = escapeMrkdwn(parsed.href.replace(/\|/g, '%7C'));
  return `<${href}|${escapeMrkdwn(label).replace(/\|/g, '/')}>`;
}

/** True for an id Slack gives users (U…, W…); only those may be shown as a mention. */
export function isSlackUserId(id: string): boolean {
  return /^[UW][A-Z0-9]{2,20}$/.test(id);
}
