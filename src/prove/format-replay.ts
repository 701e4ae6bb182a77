import type { Change, ChangeKind, OutcomeView } from './replay-compare.js';
import type { ReplayResult } from './replay.js';

/** Changes listed per playbook and kind in the text report; --json has them all. */
export const SHOWN_PER_KIND = 10;

const TITLES: Readonly<Record<ChangeKind, string>> = {
  'new-run': 'new runs',
  'no-longer': 'runs that would no longer happen',
  'changed-decision': 'changed decisions',
  'changed-plan': 'changed plans',
};

/**
 * The replay for a person: what was replayed, a table per playbook (instances unchanged, new
 * runs, runs that would no longer happen, changed decisions, changed plans), then each change:
 * the alert instance, from → to with the reasons, and for a plan the step diff.
 */
export function formatReplay(r: ReplayResult): string {
  const lines: string[] = [];
  const window = r.since === null ? `received until ${r.until}` : `received from ${r.since} to ${r.until}`;
  const warm =
    r.warmUpFrom === null ? '' : `; guard state rebuilt from ${r.warmUpFrom}, ${r.replayedBatches - r.batches} batch(es) before it replayed, not compared`;
  lines.push(`replayed ${r.batches} batch(es) (${r.alerts} alert(s)) ${window}${warm}`);
  if (r.playbooks.length === 0) {
    lines.push('no playbook decided anything, then or now: nothing would change');
    return `${lines.join('\n')}\n`;
  }
  const header = ['playbook', 'unchanged', 'new runs', 'no longer', 'changed decision', 'changed plan'];
  const rows = r.playbooks.map((p) => [p.playbook, p.unchanged, p.newRuns, p.noLonger, p.changedDecisions, p.changedPlans].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  lines.push('', line(header), ...rows.map(line));
  for (const p of r.playbooks) {
    const mine = r.changes.filter((c) => c.playbook === p.playbook);
    if (mine.length === 0) continue;
    lines.push('', p.playbook);
    for (const kind of Object.keys(TITLES) as ChangeKind[]) {
      const list = mine.filter((c) => c.kind === kind);
      if (list.length === 0) continue;
      lines.push(`  ${TITLES[kind]} (${list.length}):`);
      for (const c of list.slice(0, SHOWN_PER_KIND)) lines.push(...changeLines(c));
      if (list.length > SHOWN_PER_KIND) lines.push(`    … and ${list.length - SHOWN_PER_KIND} more (--json lists them all)`);
    }
  }
  const changed = r.playbooks.filter((p) => p.newRuns + p.noLonger + p.changedDecisions + p.changedPlans > 0).length;
  lines.push('', changed === 0 ? 'nothing would change' : `${r.changes.length} alert instance(s) of ${changed} playbook(s) would be decided differently`);
  return `${lines.join('\n')}\n`;
}

function changeLines(c: Change): string[] {
  const [fingerprint, startsAt] = splitInstance(c.instanceKey);
  const head = `    ${c.alertname || '(no alertname)'} ${fingerprint} started ${startsAt}${c.targetKey && c.targetKey !== c.instanceKey ? ` (key ${c.targetKey})` : ''}`;
  const out = [`${head}: ${shown(c.from)} → ${shown(c.to)}`];
  if (c.from?.detail) out.push(`      was: ${c.from.detail}`);
  if (c.to?.detail) out.push(`      now: ${c.to.detail}`);
  for (const d of c.planDiff ?? []) out.push(`      ${d}`);
  return out;
}

function shown(v: OutcomeView | null): string {
  if (v === null) return 'no match';
  return v.decision === 'suppress' ? `suppress (${v.reasons.join(', ')})` : v.decision;
}

function splitInstance(key: string): [string, string] {
  const at = key.lastIndexOf('@');
  return at < 0 ? [key, '?'] : [key.slice(0, at), key.slice(at + 1)];
}
