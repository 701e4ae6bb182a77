// Label matchers in the grammar of Alertmanager 0.25 (pkg/labels/parse.go), so
// that `matchers:` written for Alertmanager routes/inhibit rules or amtool mean
// the same thing here. Acceptance and rejection follow Alertmanager; error
// messages are ours, because its "bad matcher format: …" does not say how to
// fix the input. Known deviations are listed at compileRegex() (re2-dialect.ts).

import { compileRegex } from './re2-dialect.js';

/** The four PromQL-style operators; kept as their literal spelling so they round-trip in messages and toString(). */
export type MatchType = '=' | '!=' | '=~' | '!~';

/** A parsed matcher; immutable so one instance can be shared by every alert it is checked against. */
export interface Matcher {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
  /** original text, for messages */
  readonly source: string;
  matches(labels: Readonly<Record<string, string>>): boolean;
  toString(): string;
}

/** Thrown for unparseable matchers; `input` is the full string handed to parseMatcher/parseMatchers so callers can point at the config entry. */
export class MatcherSyntaxError extends Error {
  constructor(
    message: string,
    readonly input: string,
  ) {
    super(message);
    this.name = 'MatcherSyntaxError';
  }
}

// Go's regexp `\s` is ASCII-only ([\t\n\f\r ]) — notably without \v — and
// Alertmanager's matcher regexp uses it to strip whitespace around each token.
const GO_SPACE = '[\\t\\n\\f\\r ]';
const GO_SPACE_CHARS = '\t\n\f\r ';

// Alertmanager matches the whole token with
//   ^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$
// Only the head is a regexp here: the lazy value followed by `\s*$` backtracks
// quadratically on long whitespace runs in JS, and "everything after the head,
// minus trailing whitespace" is the same capture. '=~' precedes '=' so that
// `a=~b` is a regex matcher rather than equality with the value "~b".
const HEAD = new RegExp(`^${GO_SPACE}*([a-zA-Z_:][a-zA-Z0-9_:]*)${GO_SPACE}*(=~|=|!=|!~)${GO_SPACE}*`);

const LABEL_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

// Go's strings.TrimSpace (unicode.IsSpace) for the last list item; differs
// from String.prototype.trim on U+0085 (Go trims) and U+FEFF (Go keeps).
const GO_UNICODE_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const GO_TRIM_SPACE = new RegExp(`^${GO_UNICODE_SPACE}+|${GO_UNICODE_SPACE}+$`, 'g');

// Go rejects values that are not valid UTF-8; a lone surrogate is the JS analogue.
const LONE_SURROGATE = /\p{Cs}/u;

const NAME_RULE = "label names must start with a letter, '_' or ':' and continue with letters, digits, '_' or ':'";
const SHAPE = 'write it as name<op>value with <op> one of =, !=, =~, !~ (e.g. severity="critical")';

function isGoSpace(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && GO_SPACE_CHARS.includes(ch);
}

function trimGoSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isGoSpace(s[start])) start++;
  while (end > start && isGoSpace(s[end - 1])) end--;
  return s.slice(start, end);
}

// Inverse of the unescaping in parse(): the OpenMetrics escaping Alertmanager's
// String() uses, so toString() output parses back to an equal matcher.
function escapeValue(value: string): string {
  return value.replace(/[\\\n"]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

class LabelMatcher implements Matcher {
  readonly #regex: RegExp | undefined;

  constructor(
    readonly name: string,
    readonly type: MatchType,
    readonly value: string,
    readonly source: string,
    regex: RegExp | undefined,
  ) {
    this.#regex = regex;
  }

  matches(labels: Readonly<Record<string, string>>): boolean {
    // hasOwn so that label names like "constructor" or "__proto__" do not pick
    // up Object.prototype members; absent means "" exactly as in Alertmanager.
    const actual = Object.hasOwn(labels, this.name) ? (labels[this.name] ?? '') : '';
    switch (this.type) {
      case '=':
        return actual === this.value;
      case '!=':
        return actual !== this.value;
      case '=~':
        return this.#regex!.test(actual);
      case '!~':
        return !this.#regex!.test(actual);
    }
  }

  toString(): string {
    return `${this.name}${this.type}"${escapeValue(this.value)}"`;
  }
}

interface ListContext {
  readonly list: string;
  readonly item: number;
  readonly count: number;
  readonly previous: string | undefined;
}

function parse(token: string, input: string, ctx?: ListContext): Matcher {
  const source = trimGoSpace(token);
  const where = ctx && ctx.count > 1 ? ` (item ${ctx.item} of ${ctx.count} in ${JSON.stringify(ctx.list)})` : '';
  const fail = (why: string): never => {
    throw new MatcherSyntaxError(`matcher ${JSON.stringify(source)}${where}: ${why}`, input);
  };

  const head = HEAD.exec(token);
  if (!head) return fail(diagnoseHead(source, ctx));
  const name = head[1] ?? '';
  const type = (head[2] ?? '=') as MatchType;
  const rawValue = trimGoSpace(token.slice(head[0].length));

  const quoted = rawValue.startsWith('"');
  const inner = quoted ? rawValue.slice(1) : rawValue;
  if (LONE_SURROGATE.test(inner)) {
    fail(`value ${JSON.stringify(rawValue)} is not valid Unicode (lone surrogate); remove the broken character`);
  }

  // Alertmanager's unescaping, kept literally: \" \\ \n are escapes, any other
  // backslash (including a final one) is itself, and a raw newline is allowed.
  let value = '';
  let escaped = false;
  let open = quoted;
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i] as string;
    if (escaped) {
      escaped = false;
      if (ch === 'n') value += '\n';
      else if (ch === '"' || ch === '\\') value += ch;
      else value += `\\${ch}`;
      continue;
    }
    if (ch === '\\') {
      if (i < inner.length - 1) {
        escaped = true;
        continue;
      }
      value += ch;
    } else if (ch === '"') {
      if (!open) {
        fail(
          `unquoted value ${JSON.stringify(rawValue)} contains a double quote; ` +
            'enclose the whole value in double quotes and escape quotes inside it as \\"',
        );
      }
      if (i < inner.length - 1) {
        fail(
          `unexpected text ${JSON.stringify(inner.slice(i + 1))} after the closing double quote of ${JSON.stringify(rawValue)}; ` +
            'escape double quotes inside the value as \\" or remove the trailing text',
        );
      }
      open = false;
    } else {
      value += ch;
    }
  }
  if (open) {
    const escapedClose = /(^|[^\\])(\\\\)*\\"$/.test(inner);
    fail(
      `unterminated quoted value ${JSON.stringify(rawValue)}; add the closing double quote` +
        (escapedClose ? ' (the last quote is escaped by the backslash before it; write \\\\ for a literal backslash)' : ''),
    );
  }

  let regex: RegExp | undefined;
  if (type === '=~' || type === '!~') {
    const compiled = compileRegex(value);
    if (typeof compiled === 'string') fail(compiled);
    else regex = compiled;
  }
  return new LabelMatcher(name, type, value, source, regex);
}

// Alertmanager only says "bad matcher format"; work out which part is wrong.
function diagnoseHead(source: string, ctx: ListContext | undefined): string {
  if (source === '') {
    return ctx ? 'empty matcher between commas; remove the extra comma' : `is empty; ${SHAPE}`;
  }
  const op = /=|![=~]/.exec(source);
  if (!op) {
    const joined =
      ctx?.previous !== undefined
        ? `; if it is part of the value of the previous matcher ${JSON.stringify(ctx.previous)}, enclose that value in double quotes so the comma is not a separator`
        : '';
    return `has no operator; ${SHAPE}${joined}`;
  }
  const name = trimGoSpace(source.slice(0, op.index));
  if (name === '') return `has no label name before ${JSON.stringify(op[0])}; ${SHAPE}`;
  let hint = '';
  if (name.startsWith('"')) hint = '; label names are never quoted';
  else if (name.startsWith('{') || name.endsWith('}')) hint = '; braces are only allowed around a whole list, as its very first and last characters';
  else if (/[~!]$/.test(name)) hint = `; did you mean the operator ${name.endsWith('~') ? '=~' : '!='}?`;
  else if (/\s/.test(name)) hint = '; a label name cannot contain whitespace';
  return LABEL_NAME.test(name) ? `bad matcher format; ${SHAPE}` : `invalid label name ${JSON.stringify(name)}: ${NAME_RULE}${hint}`;
}

/** Parses one matcher like severity=~"critical|page" */
export function parseMatcher(input: string): Matcher {
  return parse(input, input);
}

/** Parses a comma-separated list, optionally in braces: {a="b", c!~"d.*"} ; also accepts a single matcher */
export function parseMatchers(input: string): Matcher[] {
  // As in Alertmanager: one '{' and one '}' are stripped independently and only
  // when they are the very first/last characters; an empty list is fine (it
  // matches everything), and a trailing comma is tolerated.
  let s = input.startsWith('{') ? input.slice(1) : input;
  if (s.endsWith('}')) s = s.slice(0, -1);

  const tokens: string[] = [];
  let token = '';
  let insideQuotes = false;
  let escaped = false;
  // Alertmanager's splitter, including its quirk that a comma inside quotes
  // leaves a pending backslash-escape armed.
  for (const ch of s) {
    if (ch === ',') {
      if (!insideQuotes) {
        tokens.push(token);
        token = '';
        continue;
      }
    } else if (ch === '"') {
      if (!escaped) insideQuotes = !insideQuotes;
      else escaped = false;
    } else if (ch === '\\') {
      escaped = !escaped;
    } else {
      escaped = false;
    }
    token += ch;
  }
  const last = token.replace(GO_TRIM_SPACE, '');
  if (last !== '') tokens.push(last);

  return tokens.map((t, i) =>
    parse(t, input, {
      list: input,
      item: i + 1,
      count: tokens.length,
      previous: i > 0 ? trimGoSpace(tokens[i - 1] ?? '') : undefined,
    }),
  );
}
