import type { Alert } from '../domain/alert.js';
import type { Playbook } from '../domain/playbook.js';
import { compileTemplate, renderTemplate } from '../playbook/template.js';
import { alertResolver } from '../playbook/template-scope.js';
import type { Prepared } from './prepare.js';

/** guards.group's key rendered for an alert; null when the playbook has no group or the params were refused. Pure. */
export function groupKeyOf(alert: Alert, playbook: Playbook, prepared: Prepared): string | null {
  const group = playbook.guards.group;
  if (group === null || !prepared.params.ok) return null;
  return renderTemplate(compileTemplate(group.key), alertResolver(alert, prepared.params.values)).text;
}
