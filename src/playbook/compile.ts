import { parseDuration } from '../domain/duration.js';
import { errorMessage } from '../domain/errors.js';
import type { ParamSpec, Playbook, Step, VerifyCheck, HttpRequestSpec } from '../domain/playbook.js';
import { MatcherSyntaxError, parseMatcher, parseMatchers } from '../match/matcher.js';
import { parseCondition } from './condition.js';
import type { PlaybookSpec, StepSpec } from './schema.js';
import { STEP_KINDS } from './schema.js';
import { parseTemplate, templateRefs, TemplateSyntaxError } from './template.js';
import { checkRef, type Scope } from './template-scope.js';
import { urlRefComponents } from './url-template.js';

/**
 * The second pass over a playbook that passed the schema: everything that needs more than one
 * field to check (template names exist, step references point backwards, regexes compile,
 * defaults fit their pattern). Every problem is collected, not just the first.
 */

/** A problem at a path inside one playbook file. */
export interface PlaybookIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

type Path = (string | number)[];

/** Compiles a schema-valid spec into a Playbook, or returns every issue found. */
export function compilePlaybook(
  spec: PlaybookSpec,
  file: string,
  hash: string,
): { playbook: Playbook; issues: [] } | { playbook: null; issues: PlaybookIssue[] } {
  const issues: PlaybookIssue[] = [];
  const add = (path: Path, message: string) => issues.push({ path, message });

  const matchers = spec.match.matchers.flatMap((text, i) => {
    try {
      return [parseMatcher(text)];
    } catch (err) {
      add(['match', 'matchers', i], err instanceof MatcherSyntaxError ? err.message : errorMessage(err));
      return [];
    }
  });

  const silenceMatchers = (spec.silence?.matchers ?? []).flatMap((text, i) => {
    try {
      const m = parseMatcher(text);
      return [{ name: m.name, value: m.value, isRegex: m.type.endsWith('~'), isEqual: m.type.startsWith('=') }];
    } catch (err) {
      add(['silence', 'matchers', i], err instanceof MatcherSyntaxError ? err.message : errorMessage(err));
      return [];
    }
  });

  const unlessFiring = (spec.unless?.firing ?? []).flatMap((text, i) => {
    try {
      const set = parseMatchers(text);
      if (set.length === 0)
        add(['unless', 'firing', i], 'an empty matcher list would match every alert: name the alert, e.g. alertname="ClusterUpgradeInProgress"');
      return [set];
    } catch (err) {
      add(['unless', 'firing', i], err instanceof MatcherSyntaxError ? err.message : errorMessage(err));
      return [];
    }
  });

  const params = spec.params;
  const paramNames = new Set(Object.keys(params));
  const compiledParams: ParamSpec[] = Object.entries(params).map(([name, p]) => compileParam(name, p, ['params', name], add));

  const checkTemplate = (text: string, path: Path, scope: Scope, earlierSteps: ReadonlySet<string>) => {
    let refs: string[][];
    try {
      refs = templateRefs(parseTemplate(text));
    } catch (err) {
      add(path, err instanceof TemplateSyntaxError ? err.message : String(err));
      return;
    }
    for (const ref of refs) {
      const problem = checkRef(ref, scope, paramNames, earlierSteps);
      if (problem) add(path, problem);
    }
  };

  if (spec.guards.key !== undefined) checkTemplate(spec.guards.key, ['guards', 'key'], 'key', new Set());
  if (spec.guards.lock !== undefined) checkTemplate(spec.guards.lock, ['guards', 'lock'], 'key', new Set());
  if (spec.guards.group !== undefined) checkTemplate(spec.guards.group.key, ['guards', 'group', 'key'], 'key', new Set());

  const seen = new Set<string>();
  const compileList = (list: readonly StepSpec[], listName: 'steps' | 'onFailure'): Step[] =>
    list.map((s, i) => {
      const name = s.name ?? `${listName === 'steps' ? '' : 'onFailure-'}${kindOf(s)}-${i + 1}`;
      const path: Path = [listName, i];
      if (seen.has(name)) add([...path, 'name'], `step name "${name}" is used twice: give each step its own name`);
      const earlier = new Set(seen);
      seen.add(name);
      const step = compileStep(s, name, path, add);
      forEachTemplate(s, path, (text, p, scope) => checkTemplate(text, p, scope, earlier));
      for (const [url, p] of urlFields(s, path)) checkUrlHost(url, p, params, add);
      if (s.when !== undefined) {
        try {
          const c = parseCondition(s.when);
          if (c.kind === 'step' && !earlier.has(c.step)) {
            add([...path, 'when'], `"${s.when}" refers to step "${c.step}", which does not come before this step`);
          }
        } catch (err) {
          add([...path, 'when'], (err as Error).message);
        }
      }
      return step;
    });
  const steps = compileList(spec.steps, 'steps');
  const onFailure = compileList(spec.onFailure, 'onFailure');

  const ms = (text: string | undefined, path: Path): number | null => {
    if (text === undefined) return null;
    const v = parseDuration(text);
    if (v === undefined) add(path, `"${text}" is not a duration`);
    return v ?? null;
  };

  const escalateWithin = spec.escalate ? ms(spec.escalate.within, ['escalate', 'within']) : null;
  if (escalateWithin !== null && escalateWithin < 1000) add(['escalate', 'within'], `"${spec.escalate?.within}" is shorter than a second: write at least 1s`);

  const groupPer = spec.guards.group ? ms(spec.guards.group.per, ['guards', 'group', 'per']) : null;
  if (groupPer !== null && groupPer < 1000) add(['guards', 'group', 'per'], `"${spec.guards.group?.per}" is shorter than a second: write at least 1s`);
  const groupMax = spec.guards.group?.max;

  if (issues.length > 0) return { playbook: null, issues };
  const playbook: Playbook = {
    name: spec.name,
    description: spec.description ?? '',
    owner: spec.owner ?? '',
    file,
    hash,
    match: {
      alertnames: spec.match.alertname === undefined ? null : [spec.match.alertname].flat(),
      matchers,
      status: spec.match.status,
    },
    params: compiledParams,
    mode: spec.mode,
    approval: { timeoutMs: ms(spec.approval.timeout, ['approval', 'timeout']) ?? 900_000, approvers: spec.approval.approvers },
    guards: {
      key: spec.guards.key ?? null,
      cooldownMs: ms(spec.guards.cooldown, ['guards', 'cooldown']),
      maxRuns: spec.guards.maxRuns ? { count: spec.guards.maxRuns.count, perMs: ms(spec.guards.maxRuns.per, ['guards', 'maxRuns', 'per']) ?? 0 } : null,
      lock: spec.guards.lock ?? null,
      group:
        spec.guards.group && groupMax !== undefined
          ? {
              key: spec.guards.group.key,
              max: typeof groupMax === 'number' ? { count: groupMax } : { percent: Number(groupMax.slice(0, -1)) },
              perMs: groupPer ?? 0,
            }
          : null,
    },
    escalate: spec.escalate ? { after: spec.escalate.after, withinMs: escalateWithin ?? 0, notify: [...new Set(spec.escalate.notify)] } : null,
    steps,
    onFailure,
    unless: spec.unless ? { firing: unlessFiring, sources: spec.unless.firing, onUnknown: spec.unless.onUnknown } : null,
    silence: spec.silence
      ? {
          extendMs: ms(spec.silence.extend, ['silence', 'extend']) ?? 600_000,
          keepOnFailure: spec.silence.keepOnFailure,
          matchers: spec.silence.matchers ? silenceMatchers : null,
        }
      : null,
  };
  return { playbook, issues: [] };
}

function kindOf(s: StepSpec): string {
  return STEP_KINDS.find((k) => s[k] !== undefined) ?? 'step';
}

function compileParam(name: string, p: PlaybookSpec['params'][string], path: Path, add: (path: Path, m: string) => void): ParamSpec {
  const [source, key] = p.from.split('.') as ['labels' | 'annotations', string];
  let pattern: RegExp | null = null;
  if (p.pattern !== undefined) {
    try {
      // Fully anchored, like Alertmanager's regex matchers: "[a-z]+" must not accept "x; rm -rf /".
      // Compiled alone first: "[a-z]+)|(.*" is valid only once wrapped, and then not anchored at all.
      new RegExp(p.pattern);
      pattern = new RegExp(`^(?:${p.pattern})$`);
    } catch (err) {
      add([...path, 'pattern'], `invalid regular expression: ${(err as Error).message}`);
    }
  } else if (p.type === 'string') {
    // The example's DNS-1123 label refuses a leading "-" (an option to kubectl); patterns are anchored.
    add(
      [...path],
      `param "${name}" needs a pattern that its value must match, e.g. pattern: '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?' (a DNS-1123 label: no leading "-"), or '[\\s\\S]*' to accept anything, newlines included, knowingly`,
    );
  }
  if (p.type === 'string' && (p.min !== undefined || p.max !== undefined || p.clamp)) {
    add([...path], 'min, max and clamp apply to integer params only: add type: integer');
  }
  if (p.min !== undefined && p.max !== undefined && p.min > p.max) add([...path, 'min'], `min ${p.min} is above max ${p.max}`);
  if (p.clamp && p.min === undefined && p.max === undefined) add([...path, 'clamp'], 'clamp needs a min or a max to clamp to');
  const def = p.default === undefined ? null : String(p.default);
  if (def !== null) {
    if (p.type === 'integer' && !/^-?\d+$/.test(def)) add([...path, 'default'], `default "${def}" is not an integer`);
    if (pattern && !pattern.test(def)) add([...path, 'default'], `default "${def}" does not match the pattern ${p.pattern}`);
  }
  return { name, source, key, type: p.type, pattern, min: p.min ?? null, max: p.max ?? null, clamp: p.clamp, default: def };
}

/** The URL templates of a step, with their paths: values in them are encoded (url-template.ts). */
function urlFields(s: StepSpec, path: Path): [string, Path][] {
  const out: [string, Path][] = [];
  if (s.http) out.push([s.http.url, [...path, 'http', 'url']]);
  if (s.verify?.http) out.push([s.verify.http.url, [...path, 'verify', 'http', 'url']]);
  if (s.verify?.prometheus?.url !== undefined) out.push([s.verify.prometheus.url, [...path, 'verify', 'prometheus', 'url']]);
  return out;
}

/**
 * A template in a URL's scheme or host chooses where the request goes (an earlier step's output
 * could send it, with its headers and secrets, anywhere): only a param checked against a pattern
 * (or an integer, for a port) may stand there.
 */
function checkUrlHost(url: string, path: Path, params: PlaybookSpec['params'], add: (path: Path, m: string) => void): void {
  let refs: ReturnType<typeof urlRefComponents>;
  try {
    refs = urlRefComponents(parseTemplate(url));
  } catch {
    return; // the syntax error is reported by the template check
  }
  for (const { path: ref, component } of refs) {
    if (component !== 'scheme' && component !== 'authority') continue;
    const [root, name] = ref;
    const param = root === 'params' && name !== undefined ? params[name] : undefined;
    if (param !== undefined && (param.pattern !== undefined || param.type === 'integer')) continue;
    add(
      path,
      `{{ ${ref.join('.')} }} stands in the URL's ${component === 'scheme' ? 'scheme' : 'host'}, which decides where the request goes: write the scheme and host in the playbook, or use a param checked against a pattern (e.g. params: { host: { from: labels.host, pattern: '[a-z0-9.-]+' } } and https://{{ params.host }}/…)`,
    );
  }
}

/** Calls `visit` for every templated string of a step, with its path and scope. */
function forEachTemplate(s: StepSpec, path: Path, visit: (text: string, path: Path, scope: Scope) => void): void {
  const strings = (value: unknown, p: Path, scope: Scope): void => {
    if (typeof value === 'string') visit(value, p, scope);
    else if (Array.isArray(value)) value.forEach((v, i) => strings(v, [...p, i], scope));
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) strings(v, [...p, k], scope);
    }
  };
  strings(s.run, [...path, 'run'], 'action');
  strings(s.dryRun, [...path, 'dryRun'], 'action');
  strings(s.env, [...path, 'env'], 'action');
  strings(s.cwd, [...path, 'cwd'], 'action');
  strings(s.http, [...path, 'http'], 'action');
  if (s.verify) {
    strings(s.verify.prometheus, [...path, 'verify', 'prometheus'], 'action');
    strings(s.verify.http, [...path, 'verify', 'http'], 'action');
  }
  strings(s.notify?.text, [...path, 'notify', 'text'], 'message');
  strings(s.approval?.message, [...path, 'approval', 'message'], 'message');
}

function compileStep(s: StepSpec, name: string, path: Path, add: (path: Path, m: string) => void): Step {
  const ms = (text: string | undefined, key: string): number | null => {
    if (text === undefined) return null;
    const v = parseDuration(text);
    if (v === undefined) add([...path, key], `"${text}" is not a duration`);
    return v ?? null;
  };
  const common = {
    name,
    readOnly: s.readOnly,
    timeoutMs: ms(s.timeout, 'timeout'),
    retry: s.retry
      ? { attempts: s.retry.attempts, backoffMs: parseDuration(s.retry.backoff) ?? 1000, maxBackoffMs: parseDuration(s.retry.maxBackoff) ?? 60_000 }
      : null,
    when: s.when ?? null,
    continueOnError: s.continueOnError,
  };
  if (s.run) {
    return { ...common, kind: 'run', argv: s.run, dryRunArgv: s.dryRun ?? null, env: s.env ?? {}, cwd: s.cwd ?? null };
  }
  if (s.http) {
    return { ...common, kind: 'http', request: request(s.http), expectStatus: statuses(s.http.expectStatus, [200, 201, 202, 204]) };
  }
  if (s.verify) {
    const v = s.verify;
    let check: VerifyCheck;
    if (v.prometheus) check = { kind: 'prometheus', query: v.prometheus.query, url: v.prometheus.url ?? null };
    else if (v.http) {
      check = {
        kind: 'http',
        request: request(v.http),
        status: statuses(v.http.status, [200]),
        json: v.http.json ?? null,
        contains: v.http.contains ?? null,
        tryTimeoutMs: parseDuration(v.http.timeout) ?? 2000,
      };
    } else check = { kind: 'resolved' };
    const withinMs = parseDuration(v.within) ?? 0;
    const everyMs = parseDuration(v.every) ?? 0;
    if (everyMs <= 0) add([...path, 'verify', 'every'], 'every must be longer than 0s');
    if (everyMs > withinMs) add([...path, 'verify', 'every'], `every (${v.every}) is longer than within (${v.within}): the check would run once at most`);
    return { ...common, kind: 'verify', check, withinMs, everyMs };
  }
  if (s.wait !== undefined) return { ...common, kind: 'wait', durationMs: parseDuration(s.wait) ?? 0 };
  if (s.notify) return { ...common, kind: 'notify', text: s.notify.text, channel: s.notify.channel ?? null };
  const a = s.approval ?? {};
  return { ...common, kind: 'approval', message: a.message ?? null, approvalTimeoutMs: ms(a.timeout, 'approval'), approvers: a.approvers ?? null };
}

function request(h: { method: string; url: string; headers?: Record<string, string> | undefined; body?: unknown }): HttpRequestSpec {
  return { method: h.method, url: h.url, headers: h.headers ?? {}, body: h.body ?? null };
}

function statuses(value: number | number[] | undefined, fallback: number[]): number[] {
  return value === undefined ? fallback : [value].flat();
}
