import { readFileSync } from 'node:fs';
import { BUILT_IN_NOTIFIERS, type Config } from '../config/config-schema.js';
import { RemediatorError } from '../domain/errors.js';
import type { Notifier } from '../domain/notifier.js';
import { PagerDutyNotifier } from '../notify/pagerduty-notifier.js';
import { WebhookNotifier } from '../notify/webhook-notifier.js';

/**
 * Every notifier a playbook may name (escalate.notify): the built-in ones the daemon runs with
 * (log, and webhook and slack when they are set up) and those of `notifiers` in the
 * configuration, their secrets read from their files now, so a missing file stops the start.
 */
export function namedNotifiers(config: Config, builtIn: readonly Notifier[]): Map<string, Notifier> {
  const named = new Map<string, Notifier>(builtIn.filter((n) => (BUILT_IN_NOTIFIERS as readonly string[]).includes(n.name)).map((n) => [n.name, n]));
  for (const [name, spec] of Object.entries(config.notifiers)) {
    if (spec.type === 'pagerduty') {
      const routingKey = readSecretFile(spec.routingKeyFile, `notifiers.${name}.routingKeyFile`);
      named.set(name, new PagerDutyNotifier(name, { routingKey, severity: spec.severity, url: spec.url }));
    } else {
      const url = readSecretFile(spec.urlFile, `notifiers.${name}.urlFile`);
      try {
        new URL(url);
      } catch {
        throw new RemediatorError('invalid_config', `notifiers.${name}.urlFile: ${spec.urlFile} does not hold a URL`);
      }
      const hook = new WebhookNotifier(url);
      named.set(name, { name, send: (n) => hook.send(n) });
    }
  }
  return named;
}

/** The names escalate.notify may use with this configuration (whether or not their secrets are here). */
export function notifierNames(config: Config, builtIn: readonly string[]): string[] {
  return [...new Set([...builtIn, ...Object.keys(config.notifiers)])];
}

function readSecretFile(file: string, key: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new RemediatorError('invalid_config', `${key}: cannot read ${file}: ${(err as Error).message}`);
  }
  if (text === '') throw new RemediatorError('invalid_config', `${key}: ${file} is empty`);
  return text;
}
