import { isDeepStrictEqual } from 'node:util';
import { quoteArg } from '../domain/describe-step.js';
import { formatDuration, parseDuration } from '../domain/duration.js';
import type { RenderedStep, RunStep } from '../domain/run.js';
import type { PlanSpec, PlanStepSpec } from './test-file-schema.js';

/**
 * Expected plans against rendered ones: each expected step is an argv (a run step's), the step's
 * text (see stepText), or the fields to check; a list is checked from the first step, a map by
 * step name. A mismatch is shown as a diff of the plan: every step, the ones that differ as
 * "- expected" and "+ got".
 */

/**
 * The plan with its own run id written back as `{{ run.id }}`: a fresh id is drawn for every run,
 * so a plan is compared (with an expectation, or across a replay) as the playbook wrote it.
 */
export function withoutRunId(steps: readonly RunStep[], runId: string): RunStep[] {
  const swap = (v: unknown): unknown =>
    typeof v === 'string'
      ? v.split(runId).join('{{ run.id }}')
      : Array.isArray(v)
        ? v.map(swap)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x)]))
          : v;
  return steps.map((s) => ({ ...s, rendered: swap(s.rendered) as RenderedStep }));
}

/** The one-line text of a rendered step: argv, "METHOD url", a query, a duration, a message. */
export function stepText(r: RenderedStep): string {
  switch (r.kind) {
    case 'run':
      return argvText(r.argv);
    case 'http':
      return `${r.method} ${r.url}`;
    case 'verify':
      return r.check.kind === 'prometheus' ? r.check.query : r.check.kind === 'http' ? `${r.check.method} ${r.check.url}` : 'resolved';
    case 'wait':
      return formatDuration(r.durationMs);
    case 'notify':
      return r.text;
    case 'approval':
      return r.message ?? '';
  }
}

/** An argv as a person reads it (shell-style quoting, for display only). */
export function argvText(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}

/** A plan step as a diff line: "2. undo (run): kubectl rollout undo …". */
export function planLine(s: Pick<RunStep, 'index' | 'name' | 'kind' | 'rendered'>, text = stepText(s.rendered)): string {
  return `${s.index + 1}. ${s.name} (${s.kind}): ${text}`;
}

/** Why `steps` (one phase of a plan) is not `expected`: diff lines, or none when it is. */
export function checkPlan(expected: PlanSpec, steps: readonly RunStep[], label: string): string[] {
  const pairs: { entry: PlanStepSpec; step: RunStep | undefined; shown: string }[] = Array.isArray(expected)
    ? expected.map((entry, i) => ({ entry, step: steps[i], shown: `step ${i + 1}` }))
    : Object.entries(expected).map(([name, entry]) => ({ entry, step: steps.find((s) => s.name === name), shown: `step ${name}` }));
  const wrong = new Map<RunStep, { expected: string; got: string }>();
  const missing: string[] = [];
  for (const { entry, step, shown } of pairs) {
    if (step === undefined) {
      missing.push(`  - ${shown}: ${entryText(entry)} (the plan has no such step; its steps: ${steps.map((s) => s.name).join(', ') || 'none'})`);
      continue;
    }
    const mismatch = compareStep(entry, step);
    if (mismatch !== null) wrong.set(step, mismatch);
  }
  if (wrong.size === 0 && missing.length === 0) return [];
  const lines = [`${label} differs (- expected, + got):`];
  for (const s of steps) {
    const w = wrong.get(s);
    if (w === undefined) lines.push(`    ${planLine(s)}`);
    else lines.push(`  - ${planLine(s, w.expected)}`, `  + ${planLine(s, w.got)}`);
  }
  return [...lines, ...missing];
}

/** Null when the step is as expected, else both sides as text of the same shape. */
function compareStep(entry: PlanStepSpec, step: RunStep): { expected: string; got: string } | null {
  const r = step.rendered;
  if (Array.isArray(entry)) {
    if (r.kind === 'run' && isDeepStrictEqual(r.argv, entry)) return null;
    return { expected: argvText(entry), got: r.kind === 'run' ? argvText(r.argv) : `(a ${r.kind} step) ${stepText(r)}` };
  }
  if (typeof entry === 'string') return stepText(r) === entry ? null : { expected: entry, got: stepText(r) };
  const expected: string[] = [];
  const got: string[] = [];
  let same = true;
  for (const [key, want] of Object.entries(entry)) {
    if (want === undefined) continue;
    const actual = fieldOf(key, step);
    const waitMs = key === 'wait' && typeof want === 'string' ? parseDuration(want) : undefined;
    const equal =
      key === 'wait'
        ? actual === waitMs
        : key === 'headers'
          ? isObject(actual) && Object.entries(want as Record<string, string>).every(([h, v]) => actual[h] === v)
          : isDeepStrictEqual(actual, want);
    same &&= equal;
    expected.push(`${key}=${valueText(key === 'wait' ? waitMs : want, key)}`);
    got.push(`${key}=${valueText(actual, key)}`);
  }
  return same ? null : { expected: expected.join(', '), got: got.join(', ') };
}

/** The value of an expected field in a rendered step; undefined when the step has no such field. */
function fieldOf(key: string, step: RunStep): unknown {
  const r = step.rendered;
  const request = r.kind === 'http' ? r : r.kind === 'verify' && r.check.kind === 'http' ? r.check : null;
  switch (key) {
    case 'name':
      return step.name;
    case 'kind':
      return step.kind;
    case 'run':
      return r.kind === 'run' ? r.argv : undefined;
    case 'dryRun':
      return r.kind === 'run' ? r.dryRunArgv : undefined;
    case 'method':
    case 'url':
    case 'headers':
      return request?.[key];
    case 'body':
      return r.kind === 'http' ? r.body : undefined;
    case 'query':
      return r.kind === 'verify' && r.check.kind === 'prometheus' ? r.check.query : undefined;
    case 'text':
    case 'channel':
      return r.kind === 'notify' ? r[key] : undefined;
    case 'wait':
      return r.kind === 'wait' ? r.durationMs : undefined;
    case 'message':
      return r.kind === 'approval' ? r.message : undefined;
    default:
      return undefined;
  }
}

function valueText(v: unknown, key: string): string {
  if (v === undefined) return '(none: not this kind of step)';
  if (key === 'wait' && typeof v === 'number') return formatDuration(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return `[${argvText(v)}]`;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function entryText(entry: PlanStepSpec): string {
  if (Array.isArray(entry)) return argvText(entry);
  if (typeof entry === 'string') return entry;
  return Object.entries(entry)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${valueText(v, k)}`)
    .join(', ');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
