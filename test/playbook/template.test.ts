// Unit test: starts nothing (see scripts/test.mjs).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileTemplate,
  parseTemplate,
  renderTemplate,
  templateRefs,
  TemplateRenderError,
  TemplateSyntaxError,
  type Resolve,
  type TemplatePart,
} from '../../src/playbook/template.js';

const text = (t: string): TemplatePart => ({ kind: 'text', text: t });
const ref = (source: string, ...path: string[]): TemplatePart => ({ kind: 'ref', path, source });

describe('parseTemplate: accepted input', () => {
  // [source, parts]
  const cases: ReadonlyArray<readonly [string, readonly TemplatePart[]]> = [
    ['', []],
    ['plain text', [text('plain text')]],
    ['{{ params.a }}', [ref('{{ params.a }}', 'params', 'a')]],
    ['{{params.a}}', [ref('{{params.a}}', 'params', 'a')]],
    ['{{\tparams.a\n}}', [ref('{{\tparams.a\n}}', 'params', 'a')]],
    [
      'deployment/{{ params.d }} -n {{ labels.ns }}!',
      [text('deployment/'), ref('{{ params.d }}', 'params', 'd'), text(' -n '), ref('{{ labels.ns }}', 'labels', 'ns'), text('!')],
    ],
    ['{{ params.a }}{{ params.b }}', [ref('{{ params.a }}', 'params', 'a'), ref('{{ params.b }}', 'params', 'b')]],
    ['{{ steps.wait-ready.stdout }}', [ref('{{ steps.wait-ready.stdout }}', 'steps', 'wait-ready', 'stdout')]],
    ['{{ steps.a.json.items_0 }}', [ref('{{ steps.a.json.items_0 }}', 'steps', 'a', 'json', 'items_0')]],
    // A lone closing pair is text; so is JSON with nested braces.
    ['a }} b', [text('a }} b')]],
    ['{"a":{"b":1}}', [text('{"a":{"b":1}}')]],
    ['{{ params.a }}}', [ref('{{ params.a }}', 'params', 'a'), text('}')]],
    ['{ single }', [text('{ single }')]],
  ];
  for (const [source, parts] of cases) {
    test(JSON.stringify(source), () => {
      const t = parseTemplate(source);
      assert.equal(t.source, source);
      assert.deepEqual(t.parts, parts);
    });
  }
});

describe('parseTemplate: refused input', () => {
  // [source, message]
  const cases: ReadonlyArray<readonly [string, RegExp]> = [
    ['{{ a | b }}', /^"\{\{ a \| b \}\}" in "\{\{ a \| b \}\}" is not a name: .*expressions, filters and pipes are not supported$/],
    ['{{ params.a | upper }}', /is not a name/],
    ['{{ }}', /^"\{\{ {2}\}\}" in "\{\{ \}\}" is not a name/],
    ['{{}}', /is not a name/],
    ['{{', /^"\{\{" without a closing "\}\}" in "\{\{": close it, e.g. \{\{ params\.name \}\}$/],
    ['x {{ params.a', /without a closing "\}\}"/],
    ['{{ params.a }} and {{', /without a closing "\}\}"/],
    ['{{{ params.a }}', /is not a name/],
    ['{{ params..a }}', /is not a name/],
    ['{{ params. a }}', /is not a name/],
    ['{{ .metadata.name }}', /is not a name/], // kubectl go-templates cannot be written literally
    ['{{ params.a() }}', /is not a name/],
    ["{{ 'literal' }}", /is not a name/],
    ['{{ 1abc }}', /is not a name/],
    ['{{ params.a + 1 }}', /is not a name/],
  ];
  for (const [source, message] of cases) {
    test(JSON.stringify(source), () => {
      assert.throws(
        () => parseTemplate(source),
        (err: unknown) => {
          assert.ok(err instanceof TemplateSyntaxError);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }
});

describe('templateRefs', () => {
  test('lists every reference in order, repeats included', () => {
    assert.deepEqual(templateRefs(parseTemplate('{{ params.a }}/{{ labels.b }}/{{ params.a }}')), [
      ['params', 'a'],
      ['labels', 'b'],
      ['params', 'a'],
    ]);
    assert.deepEqual(templateRefs(parseTemplate('no refs')), []);
  });
});

describe('renderTemplate', () => {
  const values: Readonly<Record<string, string>> = { 'params.a': 'A', 'params.b': 'B', 'params.empty': '' };
  const resolve: Resolve = (path) => (path[0] === 'steps' || path[0] === 'secrets' ? null : values[path.join('.')]);

  // [source, text, deferred]
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    ['', '', false],
    ['plain', 'plain', false],
    ['{{ params.a }}', 'A', false],
    ['x-{{params.a}}-{{ params.b }}-y', 'x-A-B-y', false],
    ['[{{ params.empty }}]', '[]', false],
    ['{{ params.a }} {{ steps.s.stdout }}', 'A {{ steps.s.stdout }}', true],
    ['Bearer {{secrets.TOKEN}}', 'Bearer {{secrets.TOKEN}}', true],
  ];
  for (const [source, expected, deferred] of cases) {
    test(JSON.stringify(source), () => {
      assert.deepEqual(renderTemplate(parseTemplate(source), resolve), { text: expected, deferred });
    });
  }

  test('a name without a value is an error naming the reference', () => {
    assert.throws(
      () => renderTemplate(parseTemplate('x {{ params.nope }}'), resolve),
      (err: unknown) => {
        assert.ok(err instanceof TemplateRenderError);
        assert.match(err.message, /^\{\{ params\.nope \}\} has no value$/);
        return true;
      },
    );
  });

  test('a substituted value is never expanded again', () => {
    const tricky: Readonly<Record<string, string>> = { 'params.x': '{{ params.y }}', 'params.y': 'SECRET', 'params.z': '{{' };
    const seen: string[] = [];
    const r: Resolve = (path) => {
      seen.push(path.join('.'));
      return tricky[path.join('.')];
    };
    assert.deepEqual(renderTemplate(parseTemplate('a {{ params.x }} b {{ params.z }}'), r), { text: 'a {{ params.y }} b {{', deferred: false });
    assert.deepEqual(seen, ['params.x', 'params.z'], 'only the written references are looked up');
  });

  test('a value looking like a deferred reference stays a plain value', () => {
    const r: Resolve = (path) => (path[1] === 'x' ? '{{ steps.a.stdout }}' : undefined);
    assert.deepEqual(renderTemplate(parseTemplate('{{ params.x }}'), r), { text: '{{ steps.a.stdout }}', deferred: false });
  });

  test('a deferred reference is kept exactly as written, spacing included', () => {
    const r: Resolve = () => null;
    assert.deepEqual(renderTemplate(parseTemplate('{{steps.a.stdout}} / {{  steps.b.json.x\t}}'), r), {
      text: '{{steps.a.stdout}} / {{  steps.b.json.x\t}}',
      deferred: true,
    });
  });
});

describe('compileTemplate', () => {
  test('returns the same parse for the same text', () => {
    const a = compileTemplate('{{ params.cached }}');
    assert.equal(compileTemplate('{{ params.cached }}'), a);
    assert.deepEqual(a.parts, [ref('{{ params.cached }}', 'params', 'cached')]);
  });

  test('refuses bad templates like parseTemplate, every time', () => {
    for (let i = 0; i < 2; i++) assert.throws(() => compileTemplate('{{ a | b }}'), /expressions, filters and pipes are not supported/);
  });
});
