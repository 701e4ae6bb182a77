import type { SuiteResult } from './run-tests.js';

/**
 * The results of `remediator test` for a person (text) and for CI (JUnit XML): each test's name,
 * and for a failure the alert, the playbook, expected against got, with a diff of plans.
 */

/** The text report; with `verbose`, every decision of every test, not only the failures. */
export function formatResults(suites: readonly SuiteResult[], verbose: boolean): string {
  const lines: string[] = [];
  let passed = 0;
  let failed = 0;
  for (const s of suites) {
    lines.push(s.file);
    if (s.results.length === 0) lines.push('  (no test selected)');
    for (const r of s.results) {
      if (r.ok) passed++;
      else failed++;
      lines.push(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.name}${r.line === null ? '' : ` (line ${r.line})`}`);
      for (const f of r.failures) {
        lines.push(`        ${f.alert}`, `          ${f.playbook}:`);
        for (const l of f.lines) lines.push(...l.split('\n').map((x) => `            ${x}`));
      }
      if (verbose || !r.ok) {
        if (verbose) lines.push(...r.trace.map((t) => `        ${t}`));
        else lines.push('        (--verbose shows every decision of the test)');
      }
    }
  }
  const total = passed + failed;
  lines.push(`${suites.length} test file(s), ${total} test(s): ${passed} passed${failed > 0 ? `, ${failed} failed` : ''}`);
  return `${lines.join('\n')}\n`;
}

/** JUnit XML, one testsuite per file and one testcase per test, as CI systems read it. */
export function junitXml(suites: readonly SuiteResult[]): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = suites.flatMap((s) => s.results);
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  out.push(
    `<testsuites name="remediator test" tests="${all.length}" failures="${all.filter((r) => !r.ok).length}" time="${seconds(all.reduce((a, r) => a + r.durationMs, 0))}">`,
  );
  for (const s of suites) {
    const failures = s.results.filter((r) => !r.ok).length;
    const time = s.results.reduce((a, r) => a + r.durationMs, 0);
    out.push(`  <testsuite name="${xml(s.file)}" tests="${s.results.length}" failures="${failures}" errors="0" skipped="0" time="${seconds(time)}">`);
    for (const r of s.results) {
      const open = `    <testcase name="${xml(r.name)}" classname="${xml(s.file)}" time="${seconds(r.durationMs)}"`;
      if (r.ok) {
        out.push(`${open}/>`);
        continue;
      }
      const first = r.failures[0];
      const message = first === undefined ? 'failed' : `${first.playbook}: ${first.lines[0] ?? ''}`;
      const body = r.failures.flatMap((f) => [f.alert, `  ${f.playbook}:`, ...f.lines.map((l) => `    ${l}`)]).join('\n');
      out.push(`${open}>`, `      <failure message="${xml(message)}" type="expectation">${xml(body)}</failure>`, '    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/** Text for XML content and attributes; characters XML 1.0 cannot carry become U+FFFD. */
function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
