import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { configSchema, stormRule, type Config } from '../config/config-schema.js';
import { loadConfig } from '../config/load-config.js';
import type { Alert } from '../domain/alert.js';
import type { DecideSettings } from '../domain/decision.js';
import { parseDuration } from '../domain/duration.js';
import { errorMessage } from '../domain/errors.js';
import { alertmanagerFingerprint } from '../domain/fingerprint.js';
import type { Playbook } from '../domain/playbook.js';
import type { RunState } from '../domain/run.js';
import { compileWindows } from '../decide/maintenance.js';
import { loadPlaybookSources } from '../playbook/loader.js';
import { formatPath, inFileOrder, readYamlSource, schemaErrors, type FileKind, type SourceError, type YamlSource } from '../playbook/yaml-source.js';
import { canonicalTimestamp } from '../receive/timestamp.js';
import { testFileSchema, type ExpectSpec, type PlanSpec, type TestFileSpec, type TestSpec } from './test-file-schema.js';

/**
 * Reads a playbook test file into timelines ready to run: every alert a complete Alertmanager
 * alert (fingerprint derived as Alertmanager derives it when none is given, startsAt carried
 * over from the same alert's earlier delivery), every expectation tied to one alert, every name
 * checked against the playbooks. Any problem is an error at its file:line:col, and the file is
 * not run at all.
 */

/** When `at: 0s` is, unless the file or the test says (a Monday, 10:00 UTC). */
export const DEFAULT_START = '2026-01-05T10:00:00Z';

const KIND: FileKind = { name: 'playbook test', empty: 'a playbook test needs playbooks and tests' };

/** A test file, read and checked. */
export interface TestSuite {
  readonly file: string;
  /** The playbooks under test, as the daemon would load them. */
  readonly playbooks: readonly Playbook[];
  readonly tests: readonly TestCase[];
}

/** One test: a timeline of alerts and actions, and what must be decided. */
export interface TestCase {
  readonly name: string;
  readonly line: number | null;
  readonly start: Date;
  readonly settings: DecideSettings;
  readonly paused: { readonly until: Date; readonly reason: string; readonly by: string } | null;
  readonly circuit: { readonly reason: string } | null;
  readonly alerts: readonly TimelineAlert[];
  readonly actions: readonly TimelineAction[];
  readonly expect: readonly Expectation[];
}

/** An alert delivered at an offset; alerts at the same offset are one webhook, in file order. */
export interface TimelineAlert {
  readonly atMs: number;
  readonly at: string;
  /** 1-based, among the alerts at the same offset. */
  readonly position: number;
  readonly alert: Alert;
  /** The fingerprint was not given: it is the one Alertmanager derives from the labels. */
  readonly derivedFingerprint: boolean;
  /** How the runs it starts end (a playbook of null: every run it starts). */
  readonly ends: readonly { readonly playbook: string | null; readonly state: RunState; readonly afterMs: number }[];
}

/** A person's switch at an offset. */
export type TimelineAction = { readonly atMs: number } & (
  | { readonly kind: 'pause'; readonly forMs: number; readonly reason: string; readonly by: string }
  | { readonly kind: 'resume' }
  | { readonly kind: 'openCircuit'; readonly reason: string }
  | { readonly kind: 'closeCircuit'; readonly note: string }
);

/** What must be decided for one alert and one playbook. */
export interface Expectation extends Omit<ExpectSpec, 'alert' | 'plan' | 'onFailure' | 'params'> {
  readonly line: number | null;
  /** The alert it is about. */
  readonly target: TimelineAlert;
  readonly params?: Readonly<Record<string, string>>;
  readonly plan?: PlanSpec;
  readonly onFailure?: PlanSpec;
}

/** The outcome of loading a test file: the suite, or every error found. */
export type LoadedSuite = { readonly suite: TestSuite; readonly errors?: undefined } | { readonly errors: readonly SourceError[] };

/** Reads and checks the test file `file`, shown as `shown` in what it reports. */
export async function loadTestFile(file: string, shown: string): Promise<LoadedSuite> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(err);
    return { errors: [{ file: shown, path: '', line: null, column: null, message: `cannot read the test file: ${reason}` }] };
  }
  const read = readYamlSource(text, shown, KIND);
  if (read.errors) return { errors: read.errors };
  const parsed = testFileSchema.safeParse(read.source.value);
  if (!parsed.success) return { errors: inFileOrder(schemaErrors(parsed.error.issues, read.source, shown, testFileSchema, KIND)) };
  return resolve(parsed.data, path.dirname(path.resolve(file)), shown, read.source);
}

async function resolve(spec: TestFileSpec, dir: string, file: string, source: YamlSource): Promise<LoadedSuite> {
  const errors: SourceError[] = [];
  const add = (p: (string | number)[], message: string) => errors.push({ file, path: formatPath(p), ...source.locate(p), message });
  const loaded = await loadPlaybookSources([{ path: path.resolve(dir, spec.playbooks), shown: spec.playbooks }]);
  if (loaded.errors.length > 0) {
    // The playbooks' own errors, at their own places, then why this file cannot run.
    const where = (e: SourceError) => (path.isAbsolute(e.file) ? e.file : path.join(path.dirname(file), spec.playbooks, e.file));
    errors.push(...loaded.errors.map((e) => ({ ...e, file: loaded.errors.length === 1 && e.path === '' ? e.file : where(e) })));
    add(['playbooks'], `the playbooks in ${spec.playbooks} are not valid (above): fix them first (remediator validate)`);
    return { errors };
  }
  if (loaded.playbooks.length === 0) add(['playbooks'], `no playbook in ${spec.playbooks}: name the directory (or file) of the playbooks under test`);
  const names = new Set(loaded.playbooks.map((p) => p.name));
  const fileConfig = spec.config === undefined ? null : readConfig(spec.config, dir, ['config'], add);
  const tests = spec.tests.map((t, i) => {
    const config = t.config === undefined ? fileConfig : readConfig(t.config, dir, ['tests', i, 'config'], add);
    return testCase(t, ['tests', i], { config, execution: t.execution ?? spec.execution, start: t.start ?? spec.start ?? DEFAULT_START, names }, source, add);
  });
  if (errors.length > 0) return { errors: inFileOrder(errors) };
  return { suite: { file, playbooks: loaded.playbooks, tests } };
}

/** The configuration a test runs with, or null (the defaults) when it cannot be read (an error is added). */
function readConfig(
  config: string | Record<string, unknown>,
  dir: string,
  at: (string | number)[],
  add: (p: (string | number)[], m: string) => void,
): Config | null {
  if (typeof config === 'string') {
    try {
      // No environment: a test means the same on every machine.
      return loadConfig({ config: path.resolve(dir, config) }, {});
    } catch (err) {
      add(at, errorMessage(err));
      return null;
    }
  }
  const parsed = configSchema.safeParse(config);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const p = issue.path.filter((x): x is string | number => typeof x !== 'symbol');
    add([...at, ...p], issue.code === 'unrecognized_keys' ? `unknown configuration key(s) ${issue.keys.join(', ')}` : issue.message);
  }
  return null;
}

interface Defaults {
  readonly config: Config | null;
  readonly execution: 'dry-run' | 'live' | undefined;
  readonly start: string;
  readonly names: ReadonlySet<string>;
}

function testCase(t: TestSpec, at: (string | number)[], d: Defaults, source: YamlSource, add: (p: (string | number)[], m: string) => void): TestCase {
  const config = d.config ?? configSchema.parse({});
  const start = new Date(d.start);
  const settings: DecideSettings = {
    execution: d.execution ?? config.execution,
    budget: { count: config.guards.budget.count, perMs: config.guards.budget.per },
    maintenance: compileWindows(config.guards.maintenance),
    storm: stormRule(config),
  };
  const time = (text: string, p: (string | number)[]): string => {
    const ms = offsetMs(text);
    if (ms !== undefined) return iso(start.getTime() + ms);
    const canonical = canonicalTimestamp(text);
    if (canonical === undefined) add(p, `"${text}" is not an offset or an RFC 3339 time`);
    return canonical ?? start.toISOString();
  };
  const alerts = timelineAlerts(t, at, start, time, d.names, add);
  const expect = t.expect.map((e, i): Expectation | null => {
    const p = [...at, 'expect', i];
    if (!d.names.has(e.playbook))
      add([...p, 'playbook'], `no playbook named "${e.playbook}" in the playbooks under test (there are ${[...d.names].join(', ')})`);
    const atMs = offsetMs(e.at) ?? 0;
    const candidates = alerts.filter((a) => a.atMs === atMs);
    if (candidates.length === 0) {
      add([...p, 'at'], `no alert arrives at ${e.at} in this test (alerts arrive at ${[...new Set(alerts.map((a) => a.at))].join(', ')})`);
      return null;
    }
    if (e.alert === undefined && candidates.length > 1) {
      add([...p, 'at'], `${candidates.length} alerts arrive at ${e.at}: say which one with alert: 1 to ${candidates.length}`);
      return null;
    }
    const target = candidates[(e.alert ?? 1) - 1];
    if (target === undefined) {
      add([...p, 'alert'], `alert: ${e.alert}, but ${candidates.length} alert(s) arrive at ${e.at}`);
      return null;
    }
    const { params, ...rest } = e;
    delete rest.alert;
    return {
      ...rest,
      ...(params === undefined ? {} : { params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) }),
      line: source.locate(p).line,
      target,
    };
  });
  const paused = t.state.paused;
  return {
    name: t.name,
    line: source.locate([...at, 'name']).line,
    start,
    settings,
    paused:
      paused === undefined
        ? null
        : {
            until: new Date(
              paused.for !== undefined ? start.getTime() + (parseDuration(paused.for) ?? 0) : time(paused.until as string, [...at, 'state', 'paused', 'until']),
            ),
            reason: paused.reason,
            by: paused.by,
          },
    circuit: t.state.circuit === undefined ? null : { reason: t.state.circuit === 'open' ? 'opened by the test' : t.state.circuit.reason },
    alerts,
    actions: t.actions.map((a) => {
      const atMs = offsetMs(a.at) ?? 0;
      if (a.pause) return { atMs, kind: 'pause', forMs: parseDuration(a.pause.for) ?? 0, reason: a.pause.reason, by: a.pause.by };
      if (a.resume) return { atMs, kind: 'resume' };
      if (a.openCircuit) return { atMs, kind: 'openCircuit', reason: a.openCircuit === true ? 'opened by the test' : a.openCircuit.reason };
      return { atMs, kind: 'closeCircuit', note: a.closeCircuit === true || a.closeCircuit === undefined ? 'closed by the test' : a.closeCircuit.note };
    }),
    expect: expect.filter((e): e is Expectation => e !== null),
  };
}

/**
 * The alerts as Alertmanager would send them. An alert without a startsAt is the same instance
 * as the same alert's previous firing delivery (a re-send), or a new one starting when it
 * arrives; a resolve without one resolves the instance that fired last.
 */
function timelineAlerts(
  t: TestSpec,
  at: (string | number)[],
  start: Date,
  time: (text: string, p: (string | number)[]) => string,
  names: ReadonlySet<string>,
  add: (p: (string | number)[], m: string) => void,
): TimelineAlert[] {
  const order = t.alerts.map((a, i) => ({ a, i, atMs: offsetMs(a.at) ?? 0 })).sort((x, y) => x.atMs - y.atMs || x.i - y.i);
  const lastFiring = new Map<string, string>();
  const positions = new Map<number, number>();
  const byIndex = new Map<number, TimelineAlert>();
  for (const { a, i, atMs } of order) {
    const p = [...at, 'alerts', i];
    const fingerprint = a.fingerprint ?? alertmanagerFingerprint(a.labels);
    const arrives = iso(start.getTime() + atMs);
    const startsAt = a.startsAt !== undefined ? time(a.startsAt, [...p, 'startsAt']) : (lastFiring.get(fingerprint) ?? arrives);
    if (a.status === 'firing') lastFiring.set(fingerprint, startsAt);
    else lastFiring.delete(fingerprint);
    const endsAt = a.endsAt !== undefined ? time(a.endsAt, [...p, 'endsAt']) : a.status === 'resolved' ? arrives : null;
    const ends = (a.run === undefined ? [] : typeof a.run === 'string' ? [{ state: a.run, after: '0s' }] : [a.run].flat()).map((r, j) => {
      const playbook = 'playbook' in r && r.playbook !== undefined ? r.playbook : null;
      if (playbook !== null && !names.has(playbook)) add([...p, 'run', j, 'playbook'], `no playbook named "${playbook}" in the playbooks under test`);
      return { playbook, state: r.state, afterMs: parseDuration(r.after) ?? 0 };
    });
    const position = (positions.get(atMs) ?? 0) + 1;
    positions.set(atMs, position);
    byIndex.set(i, {
      atMs,
      at: a.at,
      position,
      alert: { status: a.status, labels: a.labels, annotations: a.annotations, startsAt, endsAt, generatorURL: a.generatorURL ?? '', fingerprint },
      derivedFingerprint: a.fingerprint === undefined,
      ends,
    });
  }
  return order.map(({ i }) => byIndex.get(i) as TimelineAlert);
}

/** Milliseconds of an offset such as 5m or -20m; undefined when the text is not one. */
export function offsetMs(text: string): number | undefined {
  const negative = text.startsWith('-');
  const ms = parseDuration(negative ? text.slice(1) : text);
  return ms === undefined ? undefined : negative ? -ms : ms;
}

/** Canonical RFC 3339, as the pipeline stores startsAt (no ".000"). */
function iso(ms: number): string {
  return canonicalTimestamp(new Date(ms).toISOString()) as string;
}
