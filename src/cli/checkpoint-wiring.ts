import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config-schema.js';
import { readCheckpointKey } from '../domain/audit-checkpoint.js';
import { errorMessage, RemediatorError } from '../domain/errors.js';
import type { Notifier } from '../domain/notifier.js';
import type { AuditLog } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import { CheckpointJob } from '../record/audit-checkpoints.js';

/**
 * audit.checkpoints at start: the key read from secretsDir, the chain since the last checkpoint
 * verified before anything is appended, and the job that signs the head from then on. A broken
 * chain refuses the start (onBroken: refuse) or is returned to be announced (alert).
 */
export async function openCheckpoints(
  config: Config,
  store: Pick<AuditLog, 'auditHead' | 'auditEvents'>,
  logger: Logger,
  clock: () => Date,
  notifiers: () => readonly Notifier[],
): Promise<{ job: CheckpointJob; broken: string | null } | null> {
  const settings = config.audit.checkpoints;
  if (settings.file === undefined) return null;
  if (config.secretsDir === undefined) {
    throw new RemediatorError('invalid_config', `audit.checkpoints.file is set: set secretsDir too, with the Ed25519 key in a file ${settings.key} there`);
  }
  const keyFile = path.join(config.secretsDir, settings.key);
  let key: ReturnType<typeof readCheckpointKey>;
  try {
    key = readCheckpointKey(readFileSync(keyFile, 'utf8'), keyFile);
  } catch (err) {
    throw new RemediatorError('invalid_config', `audit.checkpoints: cannot read the signing key ${keyFile}: ${errorMessage(err)}`);
  }
  const { privateKey } = key;
  if (privateKey === null)
    throw new RemediatorError('invalid_config', `audit.checkpoints: ${keyFile} holds a public key; the daemon signs with the private key`);
  const job = new CheckpointJob({
    store,
    file: settings.file,
    everyMs: settings.every,
    key: { ...key, privateKey },
    clock,
    logger,
    publish: async (c) => {
      if (!settings.notify) return;
      const text = `audit checkpoint ${c.seq}: event ${c.eventId} has hash ${c.hash}`;
      // Sent, not recorded: a recorded notification would move the head the checkpoint just signed.
      await Promise.all(
        notifiers()
          .filter((n) => n.name !== 'log' && n.accepts?.('audit.checkpoint') !== false)
          .map((n) => n.send({ kind: 'audit.checkpoint', text, data: { checkpoint: c } })),
      );
    },
  });
  const broken = await job.verifyTail();
  if (broken !== null && settings.onBroken === 'refuse') {
    throw new RemediatorError(
      'audit_broken',
      `the audit trail does not verify against its checkpoints (${settings.file}): ${broken}. Refusing to start (audit.checkpoints.onBroken: refuse); ` +
        'find what changed with remediator audit verify --checkpoints, or start with onBroken: alert',
    );
  }
  if (broken === null) logger.info(`audit trail verified against its last checkpoint (${settings.file})`);
  return { job, broken };
}

/** onBroken: alert — the daemon starts, and says so everywhere it can: the log, the trail itself, the notifiers. */
export async function announceBrokenTrail(problem: string, deps: { store: AuditLog; logger: Logger; notifiers: readonly Notifier[] }): Promise<void> {
  const text = `the audit trail does not verify against its last checkpoint: ${problem}`;
  deps.logger.error(text);
  await deps.store.appendEvents([{ kind: 'audit.broken', data: { problem } }]);
  await Promise.all(
    deps.notifiers
      .filter((n) => n.accepts?.('audit.broken') !== false)
      .map((n) =>
        n
          .send({ kind: 'audit.broken', text })
          .catch((err: unknown) => deps.logger.warn(`telling ${n.name} about the broken trail failed: ${errorMessage(err)}`)),
      ),
  );
}
