import type { Playbook } from '../domain/playbook.js';

/** A playbook that loads but will surprise someone, and why. */
export interface PlaybookWarning {
  readonly playbook: string;
  readonly file: string;
  readonly message: string;
}

/** What the warnings are checked against: the daemon's configuration and its API identities. */
export interface WarningContext {
  readonly execution: 'dry-run' | 'live';
  /** approvals.groups */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  /** The identities of the API tokens (REMEDIATOR_API_TOKENS). */
  readonly identities: readonly string[];
}

/**
 * The problems `serve` warns about at start (and `validate` can report): a live approve-mode
 * playbook that names no approvers (anyone with a token or the Slack buttons may approve), and an
 * approver that is no API identity, no group and does not look like a Slack user id (most likely
 * a group missing from approvals.groups: nobody could approve as it). Pure.
 */
export function playbookWarnings(playbooks: readonly Playbook[], ctx: WarningContext): PlaybookWarning[] {
  const warnings: PlaybookWarning[] = [];
  const known = new Set([...ctx.identities, ...Object.keys(ctx.groups), ...Object.values(ctx.groups).flat()]);
  for (const p of playbooks) {
    const names = [...p.approval.approvers, ...[...p.steps, ...p.onFailure].flatMap((s) => (s.kind === 'approval' ? (s.approvers ?? []) : []))];
    for (const name of new Set(names)) {
      if (known.has(name) || /^[UW][A-Z0-9]{2,}$/.test(name)) continue;
      warnings.push({
        playbook: p.name,
        file: p.file,
        message: `playbook ${p.name} (${p.file}) names approver "${name}", which is no API token identity, no group in approvals.groups and no Slack user id: nobody can approve as it`,
      });
    }
  }
  if (ctx.execution === 'live') {
    for (const p of playbooks.filter((x) => x.mode === 'approve' && x.approval.approvers.length === 0)) {
      warnings.push({
        playbook: p.name,
        file: p.file,
        message: `playbook ${p.name} (${p.file}) needs approval but names no approvers: anyone with an API token or the Slack buttons may approve; set approval.approvers`,
      });
    }
  }
  return warnings;
}
