import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BUILT_IN_NOTIFIERS, type Config } from '../config/config-schema.js';
import { notifierNames } from './named-notifiers.js';
import { readSecret } from '../config/secrets.js';
import { errorMessage } from '../domain/errors.js';
import { formatLoadError, formatPath, loadPlaybookSources, positionIn } from '../playbook/loader.js';
import { playbookWarnings, type PlaybookWarning, type SecretCheck } from '../playbook/warnings.js';
import { loadCliConfig } from './cli-config.js';
import { envIn, inCwd, type CliContext } from './io.js';

/** What validate printed and how it exits. */
export interface ValidateOutcome {
  readonly text: string;
  /** 0 valid; 1 an error; 3 warnings only (notes never change it). */
  readonly code: number;
}

/** Exit code when the only findings are warnings (as promtool's lint). */
export const WARNINGS_EXIT = 3;

/**
 * `remediator validate [PATH...] [--config FILE]` and `check-config FILE [PATH...]`: every
 * playbook error of every file (files or directories, default the configuration's playbooks or
 * playbooks/), file:line:col, in file order. With a configuration, also the configuration itself
 * and the cross-references between it and the playbooks (approvers, Prometheus, secrets, Slack),
 * read as serve would read them, from the environment validate runs in: what needs a secret that
 * is not set here is a note, not a failure.
 */
export async function validateCommand(targets: readonly string[], opts: { config?: string }, context: CliContext): Promise<ValidateOutcome> {
  let config: Config | null = null;
  if (opts.config !== undefined) {
    try {
      config = loadCliConfig({ config: opts.config }, context);
    } catch (err) {
      return { text: `${opts.config}: ${errorMessage(err)}\n`, code: 1 };
    }
  }
  const shown = targets.length > 0 ? targets : [config === null ? 'playbooks' : nearby(config.playbooks, context.cwd)];
  const loaded = await loadPlaybookSources(shown.map((t) => ({ path: inCwd(context.cwd, t), shown: t })));
  const lines = loaded.errors.map(formatLoadError);
  const findings = config === null ? [] : playbookWarnings(loaded.playbooks, warningContext(config, inCwd(context.cwd, opts.config as string), context));
  const texts = new Map<string, string>();
  for (const f of findings) lines.push(formatFinding(f, loaded.paths.get(f.file), texts));
  const errors = loaded.errors.length + findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  const where = `${shown.join(', ')}${config === null ? '' : ` with ${opts.config}`}`;
  if (errors > 0) lines.push(`${errors} error(s)${warnings > 0 ? `, ${warnings} warning(s)` : ''} in ${where}`);
  else if (warnings > 0) lines.push(`${loaded.playbooks.length} playbook(s) in ${where} are valid, with ${warnings} warning(s)`);
  else lines.push(`${loaded.playbooks.length} playbook(s) in ${where} are valid`);
  return { text: `${lines.join('\n')}\n`, code: errors > 0 ? 1 : warnings > 0 ? WARNINGS_EXIT : 0 };
}

/** A path under the working directory as a relative one, as a person would have typed it. */
function nearby(p: string, cwd: string): string {
  const relative = path.relative(cwd, p);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : p;
}

/** "file:line:col: path: warning: detail", the position read from the playbook's text. */
function formatFinding(f: PlaybookWarning, file: string | undefined, texts: Map<string, string>): string {
  let text = file === undefined ? undefined : texts.get(file);
  if (text === undefined && file !== undefined) {
    text = readFileSync(file, 'utf8');
    texts.set(file, text);
  }
  const at = text === undefined ? { line: null, column: null } : positionIn(text, f.path);
  const where = at.line === null ? f.file : `${f.file}:${at.line}:${at.column ?? 1}`;
  return `${where}: ${formatPath(f.path)}: ${f.severity === 'error' ? '' : `${f.severity}: `}${f.detail}`;
}

/** The configuration and the secrets serve would see, as far as this environment shows them. */
function warningContext(config: Config, configFile: string, context: CliContext) {
  const env = envIn(context);
  const has = (name: string) => {
    try {
      return readSecret(env, name) !== undefined;
    } catch {
      return false;
    }
  };
  const tokens = (() => {
    try {
      return readSecret(env, 'REMEDIATOR_API_TOKENS');
    } catch {
      return undefined;
    }
  })();
  const identities =
    tokens === undefined ? null : tokens.split(/[,\n]/).flatMap((pair) => (pair.includes('=') ? [pair.slice(0, pair.indexOf('=')).trim()] : []));
  return {
    execution: config.execution,
    groups: config.approvals.groups,
    identities,
    prometheusUrl: { url: config.prometheus.url, set: prometheusUrlSet(configFile, env) },
    secret: secretCheck(config, env),
    notifiers: notifierNames(config, BUILT_IN_NOTIFIERS),
    slack: {
      buttons: has('REMEDIATOR_SLACK_BOT_TOKEN') || has('REMEDIATOR_SLACK_WEBHOOK_URL') ? true : config.slack.channel !== undefined ? null : false,
      signingSecret: has('REMEDIATOR_SLACK_SIGNING_SECRET'),
    },
  };
}

/** Whether prometheus.url was written down (file or environment), rather than left to its default. */
function prometheusUrlSet(configFile: string, env: NodeJS.ProcessEnv): boolean {
  if (env['REMEDIATOR_PROMETHEUS_URL']) return true;
  // The schema fills the default in: only the file as written tells whether it named one.
  const written = parseYaml(readFileSync(configFile, 'utf8')) as { prometheus?: { url?: unknown } } | null;
  return written?.prometheus?.url !== undefined;
}

/** Where {{ secrets.NAME }} comes from: REMEDIATOR_SECRET_NAME, or a file NAME in secretsDir. */
function secretCheck(config: Config, env: NodeJS.ProcessEnv): SecretCheck {
  const dir = config.secretsDir ?? null;
  const dirHere = dir !== null && existsSync(dir) && statSync(dir).isDirectory();
  return (name) => {
    if (env[`REMEDIATOR_SECRET_${name}`]) return null;
    if (dir === null) {
      return {
        severity: 'warning',
        how: `no source is configured: set REMEDIATOR_SECRET_${name} in the daemon's environment, or configure secretsDir with a file ${name}`,
      };
    }
    if (!dirHere) return { severity: 'note', how: `secretsDir ${dir} does not exist here, so whether it has a file ${name} cannot be checked` };
    if (existsSync(path.join(dir, name))) return null;
    return { severity: 'error', how: `secretsDir ${dir} has no file ${name}, and REMEDIATOR_SECRET_${name} is not set: the step would fail` };
  };
}
