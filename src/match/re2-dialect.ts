/** Alertmanager's regular expressions (Go RE2) as JavaScript RegExps: what translates exactly, and what is refused with a hint. */

// Dialect: values are compiled as JavaScript RegExp, not Go RE2, anchored as
// ^(?:value)$ like Alertmanager. The 'u' flag is used because RE2 matches whole
// code points and knows \p{…}; without 'u', `.` splits astral characters and
// `\p{L}` silently means the literal text "p{L}". The following RE2 spellings
// are translated because they are common in Alertmanager configs and have an
// exact JS equivalent:
//   - a leading (?i), (?s) or (?is) becomes the RegExp flag (V8 in Node 20 has
//     no inline flags; in RE2 the group spans the whole value, so it is the same);
//   - `\` before ASCII punctuation (e.g. `\-`, `\#`, `\"`), a literal in RE2 but
//     a syntax error under 'u', becomes a \xHH escape;
//   - \x{HHHH} becomes \u{HHHH}.
// Anything else RE2-specific is a compile error with a hint: (?P<name>…),
// other inline flags, \Q…\E, \A, \z, [[:alpha:]], and a `{` that does not open
// a repetition. Conversely JS accepts some syntax RE2 rejects (lookaround,
// backreferences), and its `.` also excludes \r, U+2028 and U+2029 while
// RE2's excludes only \n.
export function compileRegex(value: string): RegExp | string {
  let body = value;
  const flags = new Set<string>(['u']);
  const lead = /^\(\?([is]+)\)/.exec(value);
  if (lead) {
    body = value.slice(lead[0].length);
    for (const f of lead[1] ?? '') flags.add(f);
  }
  try {
    return new RegExp(`^(?:${translateEscapes(body)})$`, [...flags].join(''));
  } catch (err) {
    const raw = err instanceof Error ? err.message : String(err);
    // V8 says "Invalid regular expression: /<our wrapped pattern>/u: <reason>";
    // the wrapped pattern would only confuse, so keep the reason.
    const reason = raw.slice(raw.lastIndexOf(': ') + 2);
    return `invalid regular expression ${JSON.stringify(value)}: ${reason}; ${regexHint(value)}`;
  }
}

function translateEscapes(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch !== '\\' || i + 1 >= pattern.length) {
      out += ch;
      continue;
    }
    const next = pattern.charCodeAt(i + 1);
    const isAsciiPunct = next < 0x80 && !/[a-zA-Z0-9]/.test(String.fromCharCode(next));
    if (isAsciiPunct) {
      out += `\\x${next.toString(16).padStart(2, '0')}`;
      i++;
    } else if (pattern[i + 1] === 'x' && pattern[i + 2] === '{') {
      out += '\\u{';
      i += 2;
    } else {
      out += `\\${pattern[i + 1]}`;
      i++;
    }
  }
  return out;
}

function regexHint(value: string): string {
  const generic = 'write a JavaScript-compatible regular expression (matched against the whole label value)';
  if (value.includes('(?P<')) {
    return `JavaScript spells named groups (?<name>…), not (?P<name>…); ${generic}`;
  }
  if (/\(\?[a-zA-Z-]+[:)]/.test(value)) {
    return `only a leading (?i), (?s) or (?is) is supported as an inline flag; ${generic}`;
  }
  if (/\\[QEAz]|\[\[:/.test(value)) {
    return `RE2-only syntax such as \\Q…\\E, \\A, \\z and [[:class:]] is not supported; ${generic}`;
  }
  return generic;
}
