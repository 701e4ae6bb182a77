import type { Run } from '../domain/run.js';
import type { StormRecord } from '../domain/store.js';
import type { ApiClient } from './api-client.js';

/** The storm commands, through the daemon's HTTP API: each returns the text to print. */

/** remediator storms list [--all] */
export async function stormsListCommand(client: ApiClient, all: boolean): Promise<string> {
  const answer = await client.get<{ storms: StormRecord[] }>(`/api/storms${all ? '?all=true' : ''}`);
  if (answer.storms.length === 0) return all ? 'no storms\n' : 'no storm now: live runs are decided one by one\n';
  return answer.storms.map((s) => formatStorm(s)).join('');
}

/** remediator storms show ID */
export async function stormsShowCommand(client: ApiClient, id: string): Promise<string> {
  const answer = await client.get<{ storm: StormRecord; runs: Run[] }>(`/api/storms/${encodeURIComponent(id)}`);
  const runs = answer.runs.map((r) => `    ${r.id} ${r.state}${r.dryRun ? ' (dry run)' : ''} ${r.playbook} "${r.targetKey}" ${r.alertname}`).join('\n');
  return `${formatStorm(answer.storm)}  runs (${answer.runs.length}):\n${runs}${runs ? '\n' : ''}`;
}

/** remediator storms approve|reject ID [--comment "…"] */
export async function stormsDecideCommand(client: ApiClient, verdict: 'approve' | 'reject', id: string, comment: string | undefined): Promise<string> {
  const answer = await client.post<{ storm: StormRecord; decided: string[]; refused: { runId: string; message: string }[] }>(
    `/api/storms/${encodeURIComponent(id)}/${verdict}`,
    comment === undefined ? {} : { comment },
  );
  const done = verdict === 'approve' ? 'approved' : 'rejected';
  const lines = [`storm ${answer.storm.id}: ${answer.decided.length} held run(s) ${done}`];
  for (const r of answer.refused) lines.push(`  ${r.runId} not ${done}: ${r.message}`);
  return `${lines.join('\n')}\n`;
}

function formatStorm(s: StormRecord): string {
  const state = s.endedAt === null ? 'OPEN' : `ended ${s.endedAt}`;
  const labels = Object.entries(s.commonLabels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
  const hint = s.endedAt === null ? `  decide its held runs: remediator storms approve ${s.id} (or reject)\n` : '';
  return (
    `${s.id} ${state}: ${s.alerts} alerts across ${s.targets} targets, opened ${s.openedAt}, last new alert ${s.lastAlertAt}\n` +
    `  playbooks: ${s.playbooks.join(', ')}\n  shared labels: ${labels || '(none)'}\n` +
    (s.generatorUrl ? `  rule: ${s.generatorUrl}\n` : '') +
    hint
  );
}
