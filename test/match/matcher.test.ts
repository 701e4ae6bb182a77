// Unit test: starts nothing (see scripts/test.mjs).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MatcherSyntaxError, parseMatcher, parseMatchers, type MatchType } from '../../src/match/matcher.js';

const raw = String.raw;

describe('parseMatcher: accepted input', () => {
  // [input, name, type, value] — several rows are taken from Alertmanager's parse_test.go.
  const cases: ReadonlyArray<readonly [string, string, MatchType, string]> = [
    ['foo=bar', 'foo', '=', 'bar'],
    ['foo="bar"', 'foo', '=', 'bar'],
    ['foo!="bar"', 'foo', '!=', 'bar'],
    ['foo=~"bar.*"', 'foo', '=~', 'bar.*'],
    ['foo!~"bar.*"', 'foo', '!~', 'bar.*'],
    ['a=~b', 'a', '=~', 'b'], // longest operator wins: regex, not value "~b"
    ['a!=b', 'a', '!=', 'b'],
    ['a==b', 'a', '=', '=b'],
    ['tricky=~~~', 'tricky', '=~', '~~'],
    [raw`trickier==\\=\=\"`, 'trickier', '=', raw`=\=\="`],
    ['  foo  =~  "bar"  ', 'foo', '=~', 'bar'],
    ['\tfoo\n!=\r"bar"\f', 'foo', '!=', 'bar'],
    ['foo = bar baz ', 'foo', '=', 'bar baz'], // unquoted: trimmed, inner spaces kept
    ['foo=" bar "', 'foo', '=', ' bar '], // quoted: spaces are part of the value
    ['foo=""', 'foo', '=', ''],
    ['foo=', 'foo', '=', ''], // Alertmanager >= 0.24.x: missing value means ""
    ['foo=~', 'foo', '=~', ''],
    ['_:a1:_=x', '_:a1:_', '=', 'x'],
    [':=x', ':', '=', 'x'],
    [raw`summary="say \"hi\""`, 'summary', '=', 'say "hi"'],
    [raw`p="C:\\dir"`, 'p', '=', raw`C:\dir`],
    [raw`m="line1\nline2"`, 'm', '=', 'line1\nline2'],
    ['m="line1\nline2"', 'm', '=', 'line1\nline2'], // a raw newline is tolerated
    [raw`re=~"\d+\.\d+"`, 're', '=~', raw`\d+\.\d+`], // unknown escapes keep their backslash
    ['t=ends\\', 't', '=', 'ends\\'], // a trailing lone backslash is literal
    ['v="a=b!c~d{e}f,g"', 'v', '=', 'a=b!c~d{e}f,g'],
    ['v=b,c', 'v', '=', 'b,c'], // a single matcher may contain an unquoted comma
    ['v="é 日本 😀"', 'v', '=', 'é 日本 😀'],
  ];
  for (const [input, name, type, value] of cases) {
    test(JSON.stringify(input), () => {
      const m = parseMatcher(input);
      assert.deepEqual({ name: m.name, type: m.type, value: m.value }, { name, type, value });
    });
  }

  test('source is the input without surrounding whitespace', () => {
    assert.equal(parseMatcher('  a = "b" \n').source, 'a = "b"');
  });
});

describe('parseMatchers: accepted input', () => {
  // [input, canonical matchers]
  const cases: ReadonlyArray<readonly [string, readonly string[]]> = [
    ['{foo="bar"}', ['foo="bar"']],
    ['foo="bar"', ['foo="bar"']],
    ['{foo="bar", baz!~"quux.*"}', ['foo="bar"', 'baz!~"quux.*"']],
    ['{foo="bar",baz!~".*quux", derp="wat"}', ['foo="bar"', 'baz!~".*quux"', 'derp="wat"']],
    ['{foo="bar,quux", job="job1"}', ['foo="bar,quux"', 'job="job1"']],
    ['{foo = "bar", dings != "bums", }', ['foo="bar"', 'dings!="bums"']],
    ['foo=bar,dings!=bums', ['foo="bar"', 'dings!="bums"']],
    [raw`{quote="She said: \"Hi, ladies! That's gender-neutral…\""}`, [raw`quote="She said: \"Hi, ladies! That's gender-neutral…\""`]],
    [raw`contains_quote != "\"" , contains_comma !~ "foo,bar" , `, [raw`contains_quote!="\""`, 'contains_comma!~"foo,bar"']],
    ['a="{x}", b="}"', ['a="{x}"', 'b="}"']],
    ['{}', []], // no matchers: matches every alert, as in Alertmanager
    ['', []],
    ['   ', []],
    ['{a="b"', ['a="b"']], // braces are stripped independently, like Alertmanager
    ['a="b"}', ['a="b"']],
    ['a=b}', ['a="b"']], // quirk kept: a trailing '}' is the list brace, not part of the value
  ];
  for (const [input, expected] of cases) {
    test(JSON.stringify(input), () => {
      assert.deepEqual(parseMatchers(input).map(String), expected);
    });
  }
});

describe('matches', () => {
  const alert = { alertname: 'HighLatency', severity: 'critical', empty: '', instance: 'web-01:9100' };
  // [matcher, labels, expected]
  const cases: ReadonlyArray<readonly [string, Readonly<Record<string, string>>, boolean]> = [
    ['severity="critical"', alert, true],
    ['severity="warning"', alert, false],
    ['severity!="warning"', alert, true],
    ['severity!="critical"', alert, false],
    ['severity=~"critical|page"', alert, true],
    ['severity!~"critical|page"', alert, false],
    // Anchoring: the regex must cover the whole value.
    ['a=~"b"', { a: 'abc' }, false],
    ['a=~"b"', { a: 'b' }, true],
    ['a=~"b.*"', { a: 'bcd' }, true],
    ['a=~"b.*"', { a: 'abc' }, false],
    ['a=~"b|c"', { a: 'bc' }, false], // alternation stays inside the anchors
    ['a!~"b"', { a: 'abc' }, true],
    // A missing label behaves as the empty string.
    ['missing=""', alert, true],
    ['empty=""', alert, true],
    ['severity=""', alert, false],
    ['missing!=""', alert, false],
    ['empty!=""', alert, false],
    ['severity!=""', alert, true],
    ['missing=~".*"', alert, true],
    ['missing!~".+"', alert, true],
    ['severity!~".+"', alert, false],
    ['missing=~""', alert, true],
    ['missing=~".+"', alert, false],
    ['missing!="x"', alert, true],
    // Prototype members are not labels.
    ['constructor=""', {}, true],
    ['toString=~".+"', {}, false],
    ['__proto__=""', {}, true],
    // Values and regexes.
    [raw`summary="say \"hi\""`, { summary: 'say "hi"' }, true],
    ['instance=~"web-\\d+:9100"', alert, true],
    [raw`instance=~"web\-01\:9100"`, alert, true], // RE2 punctuation escapes
    ['severity=~"(?i)CRITICAL"', alert, true], // leading inline flag
    ['severity=~"CRITICAL"', alert, false],
    ['m=~"(?s)a.b"', { m: 'a\nb' }, true],
    ['m=~"a.b"', { m: 'a\nb' }, false],
    ['e=~"."', { e: '😀' }, true], // code points, like RE2
    [raw`l=~"\p{L}+"`, { l: 'Über' }, true],
    [raw`x=~"\x{41}"`, { x: 'A' }, true],
  ];
  for (const [input, labels, expected] of cases) {
    test(`${input} on ${JSON.stringify(labels)}`, () => {
      assert.equal(parseMatcher(input).matches(labels), expected);
    });
  }

  test('regex is compiled once and reused across calls', () => {
    const m = parseMatcher('a=~"x+"');
    for (let i = 0; i < 3; i++) {
      assert.equal(m.matches({ a: 'xxx' }), true);
      assert.equal(m.matches({ a: 'y' }), false);
    }
  });
});

describe('toString', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['a=b', 'a="b"'],
    [' a != b ', 'a!="b"'],
    ['a=~"x|y"', 'a=~"x|y"'],
    [raw`a!~"\\d"`, raw`a!~"\\d"`],
    [raw`s="say \"hi\"\n"`, raw`s="say \"hi\"\n"`],
    [raw`p="C:\\dir"`, raw`p="C:\\dir"`],
    ['e=', 'e=""'],
  ];
  for (const [input, expected] of cases) {
    test(`${input} -> ${expected}`, () => {
      const m = parseMatcher(input);
      assert.equal(m.toString(), expected);
      const back = parseMatcher(m.toString());
      assert.deepEqual([back.name, back.type, back.value], [m.name, m.type, m.value]);
    });
  }
});

describe('errors', () => {
  // [parser, input, fragments the message must contain]
  const cases: ReadonlyArray<readonly ['one' | 'list', string, readonly string[]]> = [
    ['one', '', ['is empty', 'name<op>value']],
    ['one', '   ', ['is empty']],
    ['one', 'foo', ['has no operator', '=, !=, =~, !~']],
    ['one', 'foo bar', ['has no operator']],
    ['one', '="x"', ['has no label name']],
    ['one', '{invalid-name = "valid label"}', ['invalid label name "{invalid-name"']],
    ['one', 'invalid-name="x"', ['invalid label name "invalid-name"', "must start with a letter, '_' or ':'"]],
    ['one', '1abc="x"', ['invalid label name "1abc"']],
    ['one', 'a b="x"', ['invalid label name "a b"', 'whitespace']],
    ['one', 'a~="x"', ['invalid label name "a~"', 'did you mean the operator =~']],
    ['one', 'ünï="x"', ['invalid label name "ünï"']],
    ['one', raw`"foo=\"bar\""`, ['invalid label name', 'never quoted']],
    ['one', 'job="value', ['unterminated quoted value', 'add the closing double quote']],
    ['one', 'job="', ['unterminated quoted value']],
    ['one', raw`job="value\"`, ['unterminated quoted value', 'escaped by the backslash']],
    ['one', 'job=value"', ['unquoted value', 'contains a double quote', 'enclose the whole value in double quotes']],
    ['one', 'contains_unescaped_quote = foo"bar', ['unquoted value "foo\\"bar"']],
    ['one', raw`trickier==\\=\=\""`, ['unquoted value']],
    ['one', 'job="a"b', ['unexpected text "b" after the closing double quote', 'escape double quotes inside the value']],
    ['one', 'job="say "hi""', ['unexpected text "hi\\"\\""']],
    ['one', 'sev=~"("', ['matcher "sev=~\\"(\\"": invalid regular expression "(":', 'write a JavaScript-compatible regular expression']],
    ['one', 'foo=~"invalid[regexp"', ['invalid regular expression "invalid[regexp"']],
    ['one', 'a=~"(?P<n>x)"', ['invalid regular expression', '(?<name>…), not (?P<name>…)']],
    ['one', 'a=~"x(?i)y"', ['only a leading (?i)']],
    ['one', 'a=~"(?m)y"', ['only a leading (?i)']],
    ['one', raw`a=~"\Qa.b\E"`, ['RE2-only syntax']],
    ['one', 'a=~"[[:alpha:]]"', ['RE2-only syntax']],
    ['one', 'a!~"*"', ['invalid regular expression "*"']],
    ['one', 'a="\uD800"', ['not valid Unicode']],
    ['list', 'a=b,c', ['matcher "c" (item 2 of 2 in "a=b,c")', 'has no operator', 'enclose that value in double quotes']],
    ['list', 'a=b,,c=d', ['item 2 of 3', 'empty matcher between commas']],
    ['list', ',a=b', ['empty matcher between commas']],
    ['list', ' {a="b"}', ['invalid label name "{a"', 'braces are only allowed']],
    ['list', '{{a="b"}}', ['invalid label name "{a"']],
    ['list', '{foo="bar", x=~"["}', ['matcher "x=~\\"[\\"" (item 2 of 2', 'invalid regular expression "["']],
    ['list', raw`"{foo=\"bar\"}"`, ['invalid label name']],
  ];
  for (const [kind, input, fragments] of cases) {
    test(`${kind}: ${JSON.stringify(input)}`, () => {
      const parse = kind === 'one' ? parseMatcher : parseMatchers;
      assert.throws(
        () => parse(input),
        (err: unknown) => {
          assert.ok(err instanceof MatcherSyntaxError, 'is a MatcherSyntaxError');
          assert.ok(err instanceof Error);
          assert.equal(err.name, 'MatcherSyntaxError');
          assert.equal(err.input, input);
          for (const f of fragments) assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
          return true;
        },
      );
    });
  }

  test('single-matcher errors quote the matcher', () => {
    assert.throws(() => parseMatcher('sev=~"("'), {
      message: /^matcher "sev=~\\"\(\\"": invalid regular expression "\(": .+; write a JavaScript-compatible regular expression/,
    });
  });
});
