import { formatDuration } from '../domain/duration.js';
import type { RunState } from '../domain/run.js';
import { REPORT_STATES, type Report, type ReportFigures } from './report.js';

/** The row name of the figures of all playbooks together (playbook names are lower case). */
const TOTAL = 'TOTAL';

/**
 * The report as aligned tables, one per question: what the runs came to, whether acting fixed the
 * alert and how fast, how long approvals waited, what was suppressed. Columns of states no run is
 * in are left out; --json has them all, and the exact milliseconds.
 */
export function formatReport(r: Report): string {
  const scope = r.playbook === null ? '' : ` of playbook ${r.playbook}`;
  const head = `runs${scope} created, and suppressions decided, from ${r.since} to ${r.until} (excluded)`;
  if (r.playbooks.length === 0) return `${head}: none\n`;
  const rows = [...r.playbooks.map((p) => ({ name: p.playbook, f: p })), { name: TOTAL, f: r.total }];
  const sections = [head, runsTable(rows), resolveTable(rows), approvalTable(rows), suppressionTable(rows), ...heldTable(rows), ...shadowTables(rows)];
  sections.push('median and p90 are nearest-rank: durations observed, the shortest that half (90%) of the values do not exceed');
  return `${sections.join('\n\n')}\n`;
}

interface Row {
  readonly name: string;
  readonly f: ReportFigures;
}

function runsTable(rows: readonly Row[]): string {
  const total = (rows[rows.length - 1] as Row).f.runs;
  if (total.live.total + total.dryRun.total === 0) return 'runs by outcome: none';
  const states = REPORT_STATES.filter((s) => total.live[s] + total.dryRun[s] > 0);
  const body: string[][] = [];
  for (const { name, f } of rows) {
    for (const [mode, counts] of [
      ['live', f.runs.live],
      ['dry-run', f.runs.dryRun],
    ] as const) {
      if (counts.total > 0) body.push([name, mode, String(counts.total), ...states.map((s: RunState) => String(counts[s]))]);
    }
  }
  return `runs by outcome\n${table(['playbook', 'mode', 'runs', ...states], body, 2)}`;
}

function resolveTable(rows: readonly Row[]): string {
  const live = rows.filter((r) => r.f.runs.live.total > 0);
  if (live.length === 0) return 'time from action to the alert resolving: no live run';
  const body = live.map(({ name, f }) => {
    const t = f.timeToResolve;
    return [name, String(t.count), duration(t.medianMs), duration(t.p90Ms), String(t.resolvedWithoutAction), String(t.unresolved), String(t.neverActed)];
  });
  return (
    'time from action (the first step that changes something) to the alert resolving, live runs\n' +
    table(['playbook', 'resolved after action', 'median', 'p90', 'resolved without action', 'not resolved', 'never acted'], body, 1, [2, 3])
  );
}

function approvalTable(rows: readonly Row[]): string {
  const asked = rows.filter((r) => r.f.approvalWait.count > 0);
  if (asked.length === 0) return 'approval wait: no request answered';
  const body = asked.map(({ name, f }) => [name, String(f.approvalWait.count), duration(f.approvalWait.medianMs), duration(f.approvalWait.p90Ms)]);
  return `approval wait, from the request to a person's answer\n${table(['playbook', 'answered', 'median', 'p90'], body, 1, [2, 3])}`;
}

function suppressionTable(rows: readonly Row[]): string {
  const suppressed = rows.filter((r) => r.f.suppressions.total > 0);
  if (suppressed.length === 0) return 'suppressions: none';
  const body = suppressed.map(({ name, f }) => [
    name,
    String(f.suppressions.total),
    Object.entries(f.suppressions.byReason)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', '),
  ]);
  return `suppressions by reason\n${table(['playbook', 'suppressed', 'by reason'], body, 1, [2])}`;
}

/** Live runs a guard held for a person (a group cap, a storm): only when there were any. */
function heldTable(rows: readonly Row[]): string[] {
  const held = rows.filter((r) => r.f.held.total > 0);
  if (held.length === 0) return [];
  const body = held.map(({ name, f }) => [
    name,
    String(f.held.total),
    Object.entries(f.held.byReason)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', '),
  ]);
  return [`live runs held for a person by a guard\n${table(['playbook', 'held', 'by reason'], body, 1, [2])}`];
}

/**
 * The dry runs' evidence, when there are dry runs: would the playbook have acted, what failed,
 * how fast the alert resolved without any action; then, for playbooks with live runs too, the
 * two times to resolve side by side, both from the decision.
 */
function shadowTables(rows: readonly Row[]): string[] {
  const dry = rows.filter((r) => r.f.shadow.dryRuns > 0);
  if (dry.length === 0) return [];
  const body = dry.map(({ name, f }) => {
    const s = f.shadow;
    const r = s.resolveFromDecision.dryRun;
    return [
      name,
      String(s.dryRuns),
      String(s.wouldHaveActed),
      String(s.failed.dryRunVariant),
      String(s.failed.readOnly),
      String(r.count),
      duration(r.medianMs),
      duration(r.p90Ms),
      String(r.unresolved),
    ];
  });
  const out = [
    'shadow (dry runs): would the playbook have acted, did its dry runs fail, how fast the alert resolved with no action (from the decision)\n' +
      table(
        ['playbook', 'dry runs', 'would have acted', 'dry-run variant failed', 'read-only failed', 'resolved', 'median', 'p90', 'not resolved'],
        body,
        1,
        [6, 7],
      ),
  ];
  const failures = dry
    .filter((r) => r.name !== TOTAL)
    .flatMap(({ name, f }) =>
      f.shadow.failedSteps.map((x) => `  ${name}: ${x.step} (${x.as}) failed in ${x.runs} dry run(s)${x.lastError ? `; last: ${oneLine(x.lastError)}` : ''}`),
    );
  if (failures.length > 0) out.push(`steps that failed in dry runs\n${failures.join('\n')}`);
  const both = rows.filter((r) => r.f.shadow.dryRuns > 0 && r.f.runs.live.total > 0);
  if (both.length > 0) {
    const side = both.map(({ name, f }) => {
      const { dryRun, live } = f.shadow.resolveFromDecision;
      return [name, String(dryRun.count), duration(dryRun.medianMs), duration(dryRun.p90Ms), String(live.count), duration(live.medianMs), duration(live.p90Ms)];
    });
    out.push(
      'time from the decision to the alert resolving: dry runs (no action) beside live runs\n' +
        table(['playbook', 'dry runs resolved', 'median', 'p90', 'live runs resolved', 'median', 'p90'], side, 1, [2, 3, 5, 6]),
    );
  }
  return out;
}

/** An error message on one line, cut for a table. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 160)}…` : line;
}

/** A duration for people: milliseconds below a second, whole seconds above (1m30s); "-" for none. */
export function duration(ms: number | null): string {
  if (ms === null) return '-';
  return formatDuration(ms < 1000 ? ms : Math.round(ms / 1000) * 1000);
}

/**
 * Columns separated by two spaces, without trailing blanks. Columns from `numbersFrom` on are
 * right-aligned (counts), except those in `left` (durations and words read better from the left).
 */
function table(headers: readonly string[], body: readonly (readonly string[])[], numbersFrom: number, left: readonly number[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        const width = widths[i] as number;
        return i >= numbersFrom && !left.includes(i) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...body.map(line)].join('\n');
}
