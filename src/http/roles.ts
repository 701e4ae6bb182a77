/**
 * Roles: what an authenticated person may do, the same on the API and the console.
 *
 * - view: read runs, decisions, playbooks, guards and the audit trail.
 * - approve: decide held runs (still limited by each request's approvers).
 * - operate: pause and resume, close the circuit, reload the playbooks, cancel runs.
 *
 * approve and operate each imply view. Roles are granted per identity, or per group of
 * approvals.groups, in auth.roles; an identity named nowhere gets its source's default: every role
 * for an API token (what a token could do before roles existed), view only for an identity an
 * authenticating proxy vouches for.
 */

/** One role. */
export type Role = 'view' | 'approve' | 'operate';

/** Every role, in the order they are shown. */
export const ROLES: readonly Role[] = ['view', 'approve', 'operate'];

/** How a person authenticated: an API token (bearer, or signed in to the console with one), or a proxy's header. */
export type AuthSource = 'token' | 'proxy';

/** An authenticated person and what they may do. */
export interface Principal {
  readonly identity: string;
  readonly roles: readonly Role[];
  readonly source: AuthSource;
}

/** auth.roles and the defaults, as configured. */
export interface RoleSettings {
  /** Roles per identity or approvals group. */
  readonly grants: Readonly<Record<string, readonly Role[]>>;
  /** Roles of API token identities that no grant names. */
  readonly tokenDefault: readonly Role[];
  /** Roles of proxy identities that no grant names. */
  readonly proxyDefault: readonly Role[];
  /** approvals.groups: a grant to a group applies to its members. */
  readonly groups: Readonly<Record<string, readonly string[]>>;
}

/** Every role for API tokens, view for proxies: today's tokens keep working, SSO starts read-only. */
export const DEFAULT_ROLE_SETTINGS: RoleSettings = { grants: {}, tokenDefault: ROLES, proxyDefault: ['view'], groups: {} };

/** Resolves an identity's roles; pure, built once from the configuration. */
export class RolePolicy {
  constructor(private readonly settings: RoleSettings = DEFAULT_ROLE_SETTINGS) {}

  /** The principal for an identity that authenticated through `source`. */
  principal(identity: string, source: AuthSource): Principal {
    const { grants, groups } = this.settings;
    let named = false;
    const granted = new Set<Role>();
    const grant = (name: string) => {
      const roles = Object.hasOwn(grants, name) ? grants[name] : undefined;
      if (roles === undefined) return;
      named = true;
      for (const r of roles) granted.add(r);
    };
    grant(identity);
    for (const [group, members] of Object.entries(groups)) if (members.includes(identity)) grant(group);
    if (!named) for (const r of source === 'token' ? this.settings.tokenDefault : this.settings.proxyDefault) granted.add(r);
    if (granted.has('approve') || granted.has('operate')) granted.add('view');
    return { identity, source, roles: ROLES.filter((r) => granted.has(r)) };
  }
}

/** True when the principal holds the role. */
export function hasRole(p: Principal | null | undefined, role: Role): boolean {
  return p !== null && p !== undefined && p.roles.includes(role);
}
