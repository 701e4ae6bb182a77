import { formatDuration, parseDuration } from '../domain/duration.js';
import { RemediatorError } from '../domain/errors.js';
import type { CircuitRecord, PauseRecord } from '../domain/store.js';
import type { ApiClient } from './api-client.js';

/**
 * The CLI commands that throw the daemon's switches, through its HTTP API: each returns the text
 * to print. The daemon records who did it (the identity of the API token) and that it came from
 * the CLI.
 */

interface PauseAnswer {
  readonly now?: string;
  readonly paused: boolean;
  readonly pause: PauseRecord | null;
}

interface CircuitAnswer {
  readonly now: string;
  readonly open: boolean;
  readonly circuit: CircuitRecord | null;
  readonly budget: { readonly count: number; readonly per: string; readonly liveRuns: number } | null;
}

/** remediator pause --for 2h --reason "…" */
export async function pauseCommand(client: ApiClient, forText: string, reason: string): Promise<string> {
  const ms = parseDuration(forText);
  if (ms === undefined || ms <= 0) throw new RemediatorError('bad_request', `--for ${forText}: give a duration such as 30m or 2h`);
  if (reason.trim() === '') throw new RemediatorError('bad_request', '--reason: say why remediation is paused');
  const answer = await client.post<PauseAnswer>('/api/pause', { for: forText, reason });
  const p = answer.pause;
  return p
    ? `paused by ${p.by} until ${p.until} (${formatDuration(ms)}): ${p.reason}\nevery would-be run is suppressed until then; end it sooner with: remediator resume\n`
    : 'paused\n';
}

/** remediator resume */
export async function resumeCommand(client: ApiClient): Promise<string> {
  const answer = await client.post<{ resumed: boolean; pause: PauseRecord | null }>('/api/resume');
  const p = answer.pause;
  if (answer.resumed && p) return `resumed: lifted the pause by ${p.by} (until ${p.until}: ${p.reason})\n`;
  return `not paused: nothing to resume${p ? ` (the last pause, by ${p.by}, ${p.resumedAt ? `was lifted at ${p.resumedAt} by ${p.resumedBy}` : `ended at ${p.until}`})` : ''}\n`;
}

/** remediator circuit status */
export async function circuitStatusCommand(client: ApiClient): Promise<string> {
  return formatCircuit(await client.get<CircuitAnswer>('/api/circuit'));
}

/** remediator circuit close [--note "…"] */
export async function circuitCloseCommand(client: ApiClient, note: string | undefined): Promise<string> {
  const answer = await client.post<{ closed: boolean; circuit: CircuitRecord | null }>('/api/circuit/close', note === undefined ? {} : { note });
  const c = answer.circuit;
  if (answer.closed && c)
    return `circuit closed by ${c.closedBy} (it opened at ${c.openedAt}: ${c.reason}); runs may start again and the budget starts afresh\n`;
  return 'the circuit is not open: nothing to close\n';
}

/** remediator status: the pause and the circuit. */
export async function statusCommand(client: ApiClient): Promise<string> {
  const [pause, circuit] = await Promise.all([client.get<PauseAnswer>('/api/pause'), client.get<CircuitAnswer>('/api/circuit')]);
  const p = pause.pause;
  const pauseLine = pause.paused && p ? `paused by ${p.by} until ${p.until}: ${p.reason}\n` : 'not paused\n';
  return pauseLine + formatCircuit(circuit);
}

function formatCircuit(a: CircuitAnswer): string {
  const c = a.circuit;
  const lines =
    a.open && c
      ? [`circuit: OPEN since ${c.openedAt}: ${c.reason}`, 'every live run waits for approval until a person closes it: remediator circuit close [--note "…"]']
      : c
        ? [`circuit: closed (last opened ${c.openedAt}: ${c.reason}; closed ${c.closedAt ?? '?'} by ${c.closedBy ?? '?'})`]
        : ['circuit: closed (never opened)'];
  if (a.budget) lines.push(`budget: ${a.budget.liveRuns} of ${a.budget.count} live run(s) per ${a.budget.per} spent`);
  return `${lines.join('\n')}\n`;
}
