// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { codeBlock, escapeMrkdwn, isSlackUserId, link, literal, truncate, untrusted } from '../../../src/notify/slack/escape.js';

describe('escapeMrkdwn', () => {
  test("escapes Slack's three control characters, and only those", () => {
    assert.equal(
      escapeMrkdwn('<!channel> <@U123> <#C1> <http://x|click> a & b > c'),
      '&lt;!channel&gt; &lt;@U123&gt; &lt;#C1&gt; &lt;http://x|click&gt; a &amp; b &gt; c',
    );
    assert.equal(escapeMrkdwn('it\'s "fine" *x*'), 'it\'s "fine" *x*');
    // An entity in the input is shown as typed, not decoded.
    assert.equal(escapeMrkdwn('&lt;!here&gt;'), '&amp;lt;!here&amp;gt;');
  });
});

describe('literal', () => {
  test('shows the value in inline code: no ping, link or emphasis', () => {
    assert.equal(literal('<!here> *bold* _it_ ~s~ & <http://evil|click>'), '`&lt;!here&gt; *bold* _it_ ~s~ &amp; &lt;http://evil|click&gt;`');
  });

  test('a backtick cannot close the code early, a newline cannot break it', () => {
    assert.equal(literal('a`b`<!channel>`'), '`a\u02cbb\u02cb&lt;!channel&gt;\u02cb`');
    assert.equal(literal('one\ntwo'), '`one \u21b5 two`');
  });

  test('empty and blank values are said so', () => {
    assert.equal(literal(''), '_(empty)_');
    assert.equal(literal('  '), '_(blank)_');
  });

  test('long values are cut inside the code', () => {
    const out = literal('&'.repeat(100), 22);
    assert.equal(out, '`' + '&amp;'.repeat(4) + '\u2026`');
  });
});

describe('codeBlock and untrusted', () => {
  test('multi-line text goes in a code block, escaped', () => {
    assert.equal(codeBlock('line 1 <!channel>\n```x```'), '```line 1 &lt;!channel&gt;\n\u02cb\u02cb\u02cbx\u02cb\u02cb\u02cb```');
    assert.equal(untrusted('a\nb'), '```a\nb```');
    assert.equal(untrusted('one line'), '`one line`');
  });
});

describe('truncate', () => {
  test('leaves short text alone', () => {
    assert.equal(truncate('abc', 3), 'abc');
  });

  test('never cuts an entity in half', () => {
    const s = 'ab&amp;cd';
    for (let max = 3; max <= 7; max++) {
      const out = truncate(s, max);
      assert.ok(out.length <= max, `${out} longer than ${max}`);
      assert.doesNotMatch(out.replace(/&(amp|lt|gt);/g, ''), /&/, `${out} holds half an entity`);
    }
    assert.equal(truncate('ab&amp;cd', 8), 'ab&amp;\u2026');
    assert.equal(truncate('ab&lt;cd', 6), 'ab\u2026');
  });

  test('never cuts a surrogate pair', () => {
    assert.equal(truncate('a\u{1F600}bcd', 3), 'a\u2026');
  });
});

describe('link', () => {
  test('only http(s) URLs become links, escaped so they cannot end early', () => {
    assert.equal(link('https://wiki.example/run?a=1&b=<2>', 'Runbook'), '<https://wiki.example/run?a=1&amp;b=%3C2%3E|Runbook>');
    assert.equal(link('https://wiki.example/a|<!channel>', 'Runbook'), '<https://wiki.example/a%7C%3C!channel%3E|Runbook>');
    assert.equal(link('javascript:alert(1)', 'Runbook'), null);
    assert.equal(link('slack://channel?id=C1', 'x'), null);
    assert.equal(link('not a url', 'x'), null);
  });
});

describe('isSlackUserId', () => {
  test('only user ids', () => {
    assert.equal(isSlackUserId('U012ABCDEF'), true);
    assert.equal(isSlackUserId('W012ABCDEF'), true);
    for (const id of ['alice', 'U1', '<!channel>', 'U012>x', 'C012ABCDEF', 'u012abcdef']) assert.equal(isSlackUserId(id), false, id);
  });
});
