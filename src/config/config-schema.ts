import { z } from 'zod';

/**
 * The configuration file. Strict like playbooks: an unknown key is a mistake to report, not to
 * ignore. Secrets have no key here at all: they come from the environment or from files.
 */
export const configSchema = z.strictObject({
  listen: z
    .string()
    .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, { message: 'must be host:port, e.g. 127.0.0.1:9595' })
    .default('127.0.0.1:9595'),
  playbooks: z.string().min(1).default('playbooks'),
  db: z.string().min(1).default('data/remediator.db'),
  execution: z.enum(['dry-run', 'live']).default('dry-run'),
  logLevel: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  webhook: z
    .strictObject({
      maxBodyBytes: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    })
    .default({ maxBodyBytes: 1024 * 1024 }),
  auth: z
    .strictObject({
      /** Create missing webhook/API tokens under the data directory: for a first local start only. */
      generateTokens: z
        .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
        .default(false),
    })
    .default({ generateTokens: false }),
});

/** The configuration after defaults. */
export type Config = z.infer<typeof configSchema>;

/** Configuration keys that are also environment variables and flags, by environment name. */
export const ENV_KEYS: Readonly<Record<string, readonly string[]>> = {
  REMEDIATOR_LISTEN: ['listen'],
  REMEDIATOR_PLAYBOOKS: ['playbooks'],
  REMEDIATOR_DB: ['db'],
  REMEDIATOR_EXECUTION: ['execution'],
  REMEDIATOR_LOG_LEVEL: ['logLevel'],
  REMEDIATOR_WEBHOOK_MAX_BODY_BYTES: ['webhook', 'maxBodyBytes'],
  REMEDIATOR_AUTH_GENERATE_TOKENS: ['auth', 'generateTokens'],
};
