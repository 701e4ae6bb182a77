import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RemediatorError } from '../domain/errors.js';

/**
 * Secrets come from the environment (REMEDIATOR_X) or a file named by REMEDIATOR_X_FILE, never
 * from flags (visible in `ps`) or the config file (often committed). No secret has a default.
 */

/** The credentials the daemon accepts. */
export interface Secrets {
  readonly webhookTokens: string[];
  readonly webhookBasic: { user: string; password: string }[];
  readonly apiTokens: { identity: string; token: string }[];
  /** Where notifications are posted as JSON (it often carries a token of its own). */
  readonly notifyWebhookUrl?: string;
  /** Slack: signing secrets (several, for rotation) that verify button presses. */
  readonly slackSigningSecrets?: string[];
  /** Slack: a bot token (chat.postMessage and chat.update: one message per run)… */
  readonly slackBotToken?: string;
  /** …or an incoming webhook (no updates: a short sequence of messages per run). */
  readonly slackWebhookUrl?: string;
  /** Notes for the operator about generated secrets (printed once, never logged as JSON). */
  readonly notices: string[];
}

/** Reads a secret from NAME or NAME_FILE. */
export function readSecret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && file) {
    throw new RemediatorError('invalid_config', `${name} and ${name}_FILE are both set: keep one`);
  }
  if (direct !== undefined && direct !== '') return direct;
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new RemediatorError('invalid_config', `${name}_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
}

function list(text: string | undefined): string[] {
  return (text ?? '')
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Reads and checks every secret; with `generateIn`, creates missing tokens there (first local start). */
export function loadSecrets(env: NodeJS.ProcessEnv, generateIn: string | null): Secrets {
  const notices: string[] = [];
  const webhookTokens = list(readSecret(env, 'REMEDIATOR_WEBHOOK_TOKENS'));
  const webhookBasic = list(readSecret(env, 'REMEDIATOR_WEBHOOK_BASIC_AUTH')).map((pair) => {
    const i = pair.indexOf(':');
    if (i <= 0 || i === pair.length - 1) {
      throw new RemediatorError('invalid_config', 'REMEDIATOR_WEBHOOK_BASIC_AUTH: each entry is user:password, separated by commas');
    }
    return { user: pair.slice(0, i), password: pair.slice(i + 1) };
  });
  const apiTokens = list(readSecret(env, 'REMEDIATOR_API_TOKENS')).map((pair) => {
    const i = pair.indexOf('=');
    if (i <= 0 || i === pair.length - 1) {
      throw new RemediatorError(
        'invalid_config',
        'REMEDIATOR_API_TOKENS: each entry is identity=token (the identity is what approvals record), separated by commas',
      );
    }
    return { identity: pair.slice(0, i), token: pair.slice(i + 1) };
  });
  for (const t of [...webhookTokens, ...apiTokens.map((a) => a.token)]) {
    if (t.length < 16)
      throw new RemediatorError('invalid_config', 'every webhook and API token must be at least 16 characters: generate one with `openssl rand -hex 32`');
  }

  if (webhookTokens.length === 0 && webhookBasic.length === 0) {
    if (generateIn === null) {
      throw new RemediatorError(
        'invalid_config',
        'no webhook secret: set REMEDIATOR_WEBHOOK_TOKENS (comma-separated bearer tokens) or REMEDIATOR_WEBHOOK_BASIC_AUTH (user:password), or the same with _FILE pointing at a file',
      );
    }
    webhookTokens.push(
      generated(generateIn, 'webhook.token', "webhook bearer token (put it in Alertmanager's http_config.authorization.credentials)", notices),
    );
  }
  if (apiTokens.length === 0) {
    if (generateIn === null) {
      throw new RemediatorError('invalid_config', 'no API token: set REMEDIATOR_API_TOKENS to identity=token pairs, e.g. alice=<token>, comma-separated');
    }
    apiTokens.push({ identity: 'local-admin', token: generated(generateIn, 'api.token', 'API bearer token for identity local-admin', notices) });
  }
  const notifyWebhookUrl = readSecret(env, 'REMEDIATOR_NOTIFY_WEBHOOK_URL');
  if (notifyWebhookUrl !== undefined && !URL.canParse(notifyWebhookUrl)) {
    throw new RemediatorError('invalid_config', 'REMEDIATOR_NOTIFY_WEBHOOK_URL is not a URL');
  }
  const slackSigningSecrets = list(readSecret(env, 'REMEDIATOR_SLACK_SIGNING_SECRET'));
  const slackBotToken = readSecret(env, 'REMEDIATOR_SLACK_BOT_TOKEN');
  const slackWebhookUrl = readSecret(env, 'REMEDIATOR_SLACK_WEBHOOK_URL');
  if (slackBotToken && slackWebhookUrl) {
    throw new RemediatorError(
      'invalid_config',
      'REMEDIATOR_SLACK_BOT_TOKEN and REMEDIATOR_SLACK_WEBHOOK_URL are both set: keep one (the bot token keeps one message per run up to date)',
    );
  }
  if (slackBotToken !== undefined && !/^xox[a-z]-/.test(slackBotToken)) {
    throw new RemediatorError('invalid_config', 'REMEDIATOR_SLACK_BOT_TOKEN does not look like a Slack bot token (xoxb-…)');
  }
  if (slackWebhookUrl !== undefined && !URL.canParse(slackWebhookUrl)) {
    throw new RemediatorError('invalid_config', 'REMEDIATOR_SLACK_WEBHOOK_URL is not a URL');
  }
  return {
    webhookTokens,
    webhookBasic,
    apiTokens,
    notices,
    slackSigningSecrets,
    ...(notifyWebhookUrl ? { notifyWebhookUrl } : {}),
    ...(slackBotToken ? { slackBotToken } : {}),
    ...(slackWebhookUrl ? { slackWebhookUrl } : {}),
  };
}

function generated(dir: string, name: string, what: string, notices: string[]): string {
  const file = path.join(dir, name);
  if (existsSync(file)) {
    notices.push(`${what}: read from ${file}`);
    return readFileSync(file, 'utf8').trim();
  }
  mkdirSync(dir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  notices.push(`${what}: generated and saved in ${file}: ${token}`);
  return token;
}
