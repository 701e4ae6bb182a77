import type { EscalationRecord } from '../domain/store.js';
import type { ApiClient } from './api-client.js';

/** The escalation commands, through the daemon's HTTP API: each returns the text to print. */

/** remediator escalations list [--all] */
export async function escalationsListCommand(client: ApiClient, all: boolean): Promise<string> {
  const answer = await client.get<{ escalations: EscalationRecord[] }>(`/api/escalations${all ? '?all=true' : ''}`);
  if (answer.escalations.length === 0) return all ? 'no escalations\n' : 'no open escalations: automation acts on every target\n';
  return answer.escalations.map(formatEscalation).join('');
}

/** remediator escalations clear ID [--note "…"] */
export async function escalationsClearCommand(client: ApiClient, id: string, note: string | undefined): Promise<string> {
  const answer = await client.post<{ cleared: boolean; escalation: EscalationRecord }>(
    `/api/escalations/${encodeURIComponent(id)}/clear`,
    note === undefined ? {} : { note },
  );
  const e = answer.escalation;
  if (answer.cleared) return `escalation ${e.id} cleared by ${e.clearedBy}: ${e.playbook} may act on "${e.targetKey}" again\n`;
  return `escalation ${e.id} is not open: it was cleared at ${e.clearedAt ?? '?'} by ${e.clearedBy ?? '?'}\n`;
}

function formatEscalation(e: EscalationRecord): string {
  const state = e.clearedAt === null ? 'OPEN' : `cleared ${e.clearedAt} by ${e.clearedBy ?? '?'}${e.clearNote ? `: ${e.clearNote}` : ''}`;
  const runs = e.runs.map((r) => `    ${r.id} ${r.state} ${r.createdAt}${r.reason ? ` ${r.reason}` : ''}`).join('\n');
  const hint = e.clearedAt === null ? `  clear with: remediator escalations clear ${e.id} --note "…"\n` : '';
  return `${e.id} ${e.playbook} "${e.targetKey}" ${state}\n  opened ${e.openedAt}: ${e.reason}\n${runs}${runs ? '\n' : ''}${hint}`;
}
