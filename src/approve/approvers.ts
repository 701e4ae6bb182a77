import type { Identity } from '../domain/approval.js';

/** Groups of approvers from the configuration: a name standing for several identities. */
export type ApproverGroups = Readonly<Record<string, readonly string[]>>;

/** The identities a list of approvers names, groups expanded (one level: groups hold identities). */
export function expandApprovers(approvers: readonly string[], groups: ApproverGroups): string[] {
  const out = new Set<string>();
  for (const a of approvers) {
    const members = Object.hasOwn(groups, a) ? groups[a] : undefined;
    for (const m of members ?? [a]) out.add(m);
  }
  return [...out];
}

/**
 * Whether an identity may decide a request. An empty list lets any authenticated identity decide:
 * whoever holds an API token, or whoever can press the button in the Slack channel (the request is
 * signed by Slack). Otherwise the identity (API token identity or Slack user id) must be named,
 * directly or through a group.
 */
export function mayDecide(approvers: readonly string[], who: Identity, groups: ApproverGroups): boolean {
  if (approvers.length === 0) return true;
  return expandApprovers(approvers, groups).includes(who.id);
}
