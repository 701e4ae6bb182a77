import type { Playbook, Step } from '../domain/playbook.js';
import { parseTemplate, templateRefs } from './template.js';

/** A playbook that loads but will surprise someone, and why. */
export interface PlaybookWarning {
  readonly playbook: string;
  readonly file: string;
  readonly message: string;
  /** The message without the playbook and file it is about (validate shows those as file:line:col). */
  readonly detail: string;
  /**
   * error: it cannot work as written (nobody can approve as a name, a secret has no value);
   * warning: it works, most likely not as meant; note: it could not be checked here.
   */
  readonly severity: 'error' | 'warning' | 'note';
  /** Where in the playbook file, as a YAML path (['approval', 'approvers', 0]). */
  readonly path: readonly (string | number)[];
}

/** Null when a source has the secret; otherwise how sure that none has, and what to do. */
export type SecretCheck = (name: string) => { readonly severity: PlaybookWarning['severity']; readonly how: string } | null;

/**
 * What the findings are checked against: the daemon's configuration and, where known, its
 * secrets. `serve` passes what it runs with; `validate --config` what it can see, and a check
 * whose input is absent is skipped (or, where the configuration says it matters, noted).
 */
export interface WarningContext {
  readonly execution: 'dry-run' | 'live';
  /** approvals.groups */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  /** The identities of the API tokens (REMEDIATOR_API_TOKENS); null when they are not known here. */
  readonly identities: readonly string[] | null;
  /** Whether the configuration names prometheus.url (absent: not checked). */
  readonly prometheusUrl?: { readonly url: string; readonly set: boolean };
  /** Where {{ secrets.NAME }} would come from (absent: not checked). */
  readonly secret?: SecretCheck;
  /**
   * Slack: whether approval requests are posted with buttons (a bot token or incoming webhook;
   * null: slack.channel is configured but no token is known here) and whether button presses can
   * be verified (a signing secret; null: not known here). Absent: not checked.
   */
  readonly slack?: { readonly buttons: boolean | null; readonly signingSecret: boolean | null };
  /** The notifier names escalate.notify may use (built-in and configured; absent: not checked). */
  readonly notifiers?: readonly string[];
}

/**
 * The cross-references between playbooks and the daemon's configuration that the schema cannot
 * see: approvers that name nobody, approve-mode live playbooks open to anyone, verify steps
 * without a Prometheus to ask, secrets without a source, Slack buttons nobody can press. `serve`
 * logs them at start; `validate --config` reports them with their severity and exit code. Pure.
 */
export function playbookWarnings(playbooks: readonly Playbook[], ctx: WarningContext): PlaybookWarning[] {
  const out: PlaybookWarning[] = [];
  for (const p of playbooks) {
    const add = (severity: PlaybookWarning['severity'], path: PlaybookWarning['path'], message: string) =>
      out.push({ playbook: p.name, file: p.file, severity, path, detail: message, message: `playbook ${p.name} (${p.file}) ${message}` });
    approverFindings(p, ctx, add);
    p.escalate?.notify.forEach((name, i) => {
      if (ctx.notifiers && !ctx.notifiers.includes(name)) {
        add(
          'error',
          ['escalate', 'notify', i],
          `names notifier "${name}", which is not configured: use one of ${ctx.notifiers.join(', ')}, or add it under notifiers in the configuration`,
        );
      }
    });
    if (ctx.execution === 'live' && p.mode === 'approve' && p.approval.approvers.length === 0) {
      add('warning', ['mode'], 'needs approval but names no approvers: anyone with an API token or the Slack buttons may approve; set approval.approvers');
    }
    const secretUsers = new Map<string, { path: (string | number)[]; steps: string[] }>();
    forEachStep(p, (step, path) => {
      for (const name of ctx.secret ? secretsOf(step) : []) {
        const users = secretUsers.get(name) ?? { path, steps: [] };
        users.steps.push(step.name);
        secretUsers.set(name, users);
      }
      if (ctx.prometheusUrl && !ctx.prometheusUrl.set && step.kind === 'verify' && step.check.kind === 'prometheus' && step.check.url === null) {
        add(
          'warning',
          [...path, 'verify', 'prometheus'],
          `step ${step.name} queries Prometheus, but neither the step nor the configuration (prometheus.url) says where: it would ask the default ${ctx.prometheusUrl.url}`,
        );
      }
    });
    for (const [name, users] of ctx.secret ? secretUsers : []) {
      const missing = ctx.secret?.(name) ?? null;
      const who = users.steps.length === 1 ? `step ${users.steps[0]} uses` : `steps ${users.steps.join(', ')} use`;
      if (missing !== null) add(missing.severity, users.path, `${who} {{ secrets.${name} }}: ${missing.how}`);
    }
  }
  if (ctx.slack && ctx.slack.signingSecret !== true && ctx.slack.buttons !== false) {
    const asking = playbooks.filter((p) => p.mode === 'approve' || [...p.steps, ...p.onFailure].some((s) => s.kind === 'approval'));
    for (const p of asking) {
      const definite = ctx.slack.buttons === true && ctx.slack.signingSecret === false;
      const detail = definite
        ? 'asks for approval, and Slack shows Approve/Reject buttons, but REMEDIATOR_SLACK_SIGNING_SECRET is not set: presses of the buttons are answered 404; set it, or approve through the CLI or the API'
        : 'asks for approval and Slack is configured: whether its Approve/Reject buttons work needs REMEDIATOR_SLACK_SIGNING_SECRET, which is not set here';
      out.push({
        playbook: p.name,
        file: p.file,
        severity: definite ? 'warning' : 'note',
        path: ['mode'],
        detail,
        message: `playbook ${p.name} (${p.file}) ${detail}`,
      });
    }
  }
  return out;
}

/** Approvers that are no API identity, no group and no Slack user id: nobody can approve as them. */
function approverFindings(p: Playbook, ctx: WarningContext, add: (s: PlaybookWarning['severity'], path: PlaybookWarning['path'], m: string) => void): void {
  const known = new Set([...(ctx.identities ?? []), ...Object.keys(ctx.groups), ...Object.values(ctx.groups).flat()]);
  const lists: { path: (string | number)[]; names: readonly string[] }[] = [{ path: ['approval', 'approvers'], names: p.approval.approvers }];
  forEachStep(p, (step, path) => {
    if (step.kind === 'approval' && step.approvers !== null) lists.push({ path: [...path, 'approval', 'approvers'], names: step.approvers });
  });
  const seen = new Set<string>();
  for (const { path, names } of lists) {
    names.forEach((name, i) => {
      if (seen.has(name) || known.has(name) || /^[UW][A-Z0-9]{2,}$/.test(name)) return;
      seen.add(name);
      if (ctx.identities !== null) {
        add(
          'error',
          [...path, i],
          `names approver "${name}", which is no API token identity, no group in approvals.groups and no Slack user id: nobody can approve as it`,
        );
      } else {
        add(
          'warning',
          [...path, i],
          `names approver "${name}", which is no group in approvals.groups and no Slack user id: unless it is an API token identity (REMEDIATOR_API_TOKENS is not set here to check), nobody can approve as it`,
        );
      }
    });
  }
}

function forEachStep(p: Playbook, visit: (step: Step, path: (string | number)[]) => void): void {
  p.steps.forEach((s, i) => visit(s, ['steps', i]));
  p.onFailure.forEach((s, i) => visit(s, ['onFailure', i]));
}

/** The secret names a step's templates use. */
function secretsOf(step: Step): string[] {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      if (!value.includes('secrets.')) return;
      for (const ref of templateRefs(parseTemplate(value))) if (ref[0] === 'secrets' && ref[1] !== undefined) names.add(ref[1]);
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(step);
  return [...names];
}
