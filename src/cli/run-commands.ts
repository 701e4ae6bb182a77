import { openRequest, type Approval, type Verdict } from '../domain/approval.js';
import { RemediatorError } from '../domain/errors.js';
import { describeRendered } from '../domain/describe-step.js';
import type { Run, RunDetail, RunState, RunStep } from '../domain/run.js';
import type { ApiClient } from './api-client.js';

/**
 * `remediator runs`, `show`, `approve`, `reject` and `cancel`, through the daemon's HTTP API:
 * each returns the text to print. The daemon records the token's identity and the CLI channel.
 */

const STATES: readonly RunState[] = ['pending', 'awaiting_approval', 'running', 'succeeded', 'failed', 'cancelled', 'rejected', 'expired', 'interrupted'];

/** Options of `remediator runs`. */
export interface RunsOptions {
  readonly pending?: boolean;
  readonly state?: string;
  readonly playbook?: string;
  readonly limit?: string;
  readonly json?: boolean;
}

/** remediator runs [--pending] [--state S] [--playbook P] [--limit N] [--json] */
export async function runsCommand(client: ApiClient, opts: RunsOptions): Promise<string> {
  const state = opts.pending ? 'awaiting_approval' : opts.state;
  if (opts.pending && opts.state !== undefined && opts.state !== 'awaiting_approval')
    throw new RemediatorError('bad_request', '--pending means --state awaiting_approval: give one of them');
  if (state !== undefined && !STATES.includes(state as RunState))
    throw new RemediatorError('bad_request', `--state ${state}: give one of ${STATES.join(', ')}`);
  const limit = opts.limit ?? '20';
  if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 500)
    throw new RemediatorError('bad_request', `--limit ${limit}: give a number from 1 to 500`);
  const query = new URLSearchParams({ limit, ...(state ? { state } : {}), ...(opts.playbook ? { playbook: opts.playbook } : {}) });
  const { runs } = await client.get<{ runs: Run[] }>(`/api/runs?${query.toString()}`);
  if (opts.json) return `${JSON.stringify(runs, null, 2)}\n`;
  if (runs.length === 0) return state === 'awaiting_approval' ? 'no run is waiting for approval\n' : 'no runs\n';
  // A held run's detail says until when it waits; only those are fetched.
  const expiries = new Map<string, string>();
  await Promise.all(
    runs
      .filter((r) => r.state === 'awaiting_approval')
      .map(async (r) => {
        const open = openRequest(await client.get<RunDetail>(`/api/runs/${encodeURIComponent(r.id)}`));
        if (open) expiries.set(r.id, open.expiresAt);
      }),
  );
  const rows = runs.map((r) => [
    r.id,
    r.state === 'awaiting_approval' && expiries.has(r.id) ? `awaiting_approval until ${expiries.get(r.id) ?? ''}` : r.state,
    r.dryRun ? 'dry-run' : 'live',
    r.playbook,
    target(r),
    r.createdAt,
  ]);
  const text = table(['ID', 'STATE', 'MODE', 'PLAYBOOK', 'TARGET', 'CREATED'], rows);
  const waiting = runs.some((r) => r.state === 'awaiting_approval');
  return `${text}${waiting ? '\napprove with: remediator approve ID [--comment "…"]; reject with: remediator reject ID\n' : ''}`;
}

/** remediator show ID [--json]: one run, its plan, its approvals. */
export async function showCommand(client: ApiClient, id: string, json: boolean): Promise<string> {
  const run = await client.get<RunDetail>(`/api/runs/${encodeURIComponent(id)}`);
  if (json) return `${JSON.stringify(run, null, 2)}\n`;
  const lines = [
    `run ${run.id}: ${run.state}${run.dryRun ? ' (dry run)' : ''}`,
    `  ${run.reason}`,
    `playbook ${run.playbook} (${run.playbookHash.slice(0, 12)}) for ${run.alertname} ${run.fingerprint}, target ${run.targetKey}`,
    `created ${run.createdAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}${run.resolvedAt ? `, alert resolved ${run.resolvedAt}` : ''}`,
    ...(run.silenceId ? [`silenced in Alertmanager: silence ${run.silenceId}`] : []),
    ...annotationLine(run),
    'steps:',
    ...run.steps.flatMap((s) => [
      `  ${s.phase === 'onFailure' ? 'onFailure ' : ''}${s.index + 1}. ${s.name} [${s.kind}${s.readOnly ? ', read-only' : ''}]: ${s.state}${s.error ? ` (${s.error})` : ''}`,
      // What the step runs (or ran, or would run), exactly: what a dry run and an approver need.
      ...stepCommand(s, run.dryRun),
      // What a step found is what an approver needs to see: its output, shortened.
      ...findings(s.output),
    ]),
  ];
  if (run.approvals.length > 0) {
    lines.push('approvals:');
    for (const a of run.approvals) lines.push(`  ${describeApproval(a)}`);
  }
  const open = openRequest(run);
  if (run.state === 'awaiting_approval' && open)
    lines.push('', `approve with: remediator approve ${run.id} [--comment "…"]; reject with: remediator reject ${run.id}`);
  return `${lines.join('\n')}\n`;
}

/** remediator approve|reject ID [--comment "…"] */
export async function verdictCommand(client: ApiClient, verdict: Verdict, id: string, comment: string | undefined): Promise<string> {
  const answer = await client.post<{ message: string; run: RunDetail }>(
    `/api/runs/${encodeURIComponent(id)}/${verdict}`,
    comment === undefined ? {} : { comment },
  );
  const next = verdict === 'approve' ? `the run goes on; follow it with: remediator show ${id}` : 'the run will not act';
  return `${answer.message}: ${next}\n`;
}

/** remediator cancel ID [--reason "…"] */
export async function cancelCommand(client: ApiClient, id: string, reason: string | undefined): Promise<string> {
  const answer = await client.post<{ message: string; run: RunDetail }>(`/api/runs/${encodeURIComponent(id)}/cancel`, reason === undefined ? {} : { reason });
  return `${answer.message}\n`;
}

/**
 * What a run acts on, for the table: the playbook's guards.key rendered; without one the target
 * key is the alert instance (fingerprint@startsAt), which says nothing to a person, so the params
 * stand in for it (namespace=shop deployment=checkout), or the alert's fingerprint.
 */
export function target(r: Run): string {
  if (r.targetKey !== r.instanceKey) return r.targetKey;
  const params = Object.entries(r.params).map(([k, v]) => `${k}=${v}`);
  return params.length > 0 ? params.join(' ') : `alert ${r.fingerprint}`;
}

/** The rendered command or request of a step, indented under it: argv, method and URL, and a body. */
function stepCommand(s: RunStep, dryRun: boolean): string[] {
  const r = s.rendered;
  const lines = [`     ${r.kind === 'run' ? '$ ' : ''}${describeRendered(r, dryRun)}`];
  if (r.kind === 'http' && r.body !== null && r.body !== undefined)
    lines.push(`     body: ${cut(typeof r.body === 'string' ? r.body : JSON.stringify(r.body), 300)}`);
  if (s.deferred) lines.push('     (some values are known only when the steps before it have run)');
  return lines.map((l) => cut(l, 400));
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A step's output as indented lines, at most a few, each cut to a screen's width. */
function findings(output: string | null): string[] {
  const lines = (output ?? '').split('\n').filter((l) => l.trim() !== '');
  const shown = lines.slice(0, 8).map((l) => `       ${l.length > 120 ? `${l.slice(0, 119)}…` : l}`);
  return lines.length > 8 ? [...shown, `       … ${lines.length - 8} more line(s): remediator show --json`] : shown;
}

function describeApproval(a: Approval): string {
  const who = a.approvers.length > 0 ? a.approvers.join(', ') : 'anyone with a token';
  const head = `#${a.seq} before step ${a.stepName}, requested ${a.requestedAt}`;
  if (a.decision === null) return `${head}: waiting until ${a.expiresAt} for ${who}${a.message ? `\n     ${a.message}` : ''}`;
  return `${head}: ${a.decision} by ${a.decidedBy ?? '?'} via ${a.decidedVia ?? '?'} at ${a.decidedAt ?? '?'}${a.comment ? `: ${a.comment}` : ''}`;
}

/** Columns padded to their widest cell. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** Where the run is on Grafana's dashboards, from its events: the annotation, or why there is none. */
function annotationLine(run: RunDetail): string[] {
  const made = run.events.find((e) => e.kind === 'annotation.created' || (e.kind === 'annotation.updated' && e.data['created'] === true));
  if (made) return [`annotated in Grafana: annotation ${String(made.data['annotationId'])}`];
  const failed = run.events.filter((e) => e.kind === 'annotation.failed').pop();
  return failed ? [`not annotated in Grafana: ${String(failed.data['error'])}`] : [];
}
