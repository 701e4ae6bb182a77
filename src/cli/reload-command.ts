import type { ApiClient } from './api-client.js';

/** What POST /-/reload answers. */
type ReloadAnswer =
  | { ok: true; playbooks: number; added: string[]; removed: string[]; changed: string[]; heldRuns?: { reproposed: number; cancelled: number } }
  | { ok: false; errors: string[] };

/**
 * remediator reload: the daemon loads its playbooks again (as SIGHUP does). A set with any error
 * is refused whole and the previous set stays active: the errors are printed, and the exit code
 * is 1 so a deploy script stops.
 */
export async function reloadCommand(client: ApiClient): Promise<{ ok: boolean; text: string }> {
  const answer = await client.post<ReloadAnswer>('/-/reload', {}, [422]);
  if (!answer.ok) {
    return {
      ok: false,
      text: `reload refused: the previous playbook set stays active; ${answer.errors.length} error(s):\n${answer.errors.map((e) => `  ${e}\n`).join('')}`,
    };
  }
  const list = (names: readonly string[]) => (names.length > 0 ? names.join(', ') : 'none');
  return {
    ok: true,
    text: `reloaded: ${answer.playbooks} playbook(s) active; added ${list(answer.added)}; removed ${list(answer.removed)}; changed ${list(answer.changed)}${held(answer.heldRuns)}\n`,
  };
}

function held(h: { reproposed: number; cancelled: number } | undefined): string {
  if (h === undefined || h.reproposed + h.cancelled === 0) return '';
  return `; held runs: ${h.reproposed} re-proposed under the new version (a new approval request each), ${h.cancelled} cancelled`;
}
