import path from 'node:path';
import { unknownEnvVars, type ConfigFlags } from '../config/load-config.js';
import { loadSecrets } from '../config/secrets.js';
import { errorMessage } from '../domain/errors.js';
import { createLogger } from '../observability/logger.js';
import { describeStore, isPostgresUrl } from '../record/open-store.js';
import { loadCliConfig } from './cli-config.js';
import { envIn, type CliIo } from './io.js';
import { startDaemon } from './serve.js';

/**
 * remediator serve: starts the daemon and returns once it listens; it then runs until SIGINT or
 * SIGTERM. The signals are the process's: serve belongs to the executable, which it stops.
 */
export async function serveCommand(opts: ConfigFlags, io: CliIo): Promise<void> {
  const config = loadCliConfig(opts, io);
  const env = envIn(io);
  // Generated tokens live beside an SQLite file, or in data/ when the database is PostgreSQL.
  const secrets = loadSecrets(
    env,
    config.auth.generateTokens ? (isPostgresUrl(config.db) ? path.resolve(io.cwd, 'data') : path.dirname(path.resolve(io.cwd, config.db))) : null,
  );
  const logger = createLogger(config.logLevel, io.stdout, config.logFormat);
  for (const notice of secrets.notices) io.stderr.write(`remediator: ${notice}\n`);
  for (const name of unknownEnvVars(io.env)) io.stderr.write(`remediator: warning: ${name} is not a setting remediator reads; is it misspelt?\n`);
  const daemon = await startDaemon(config, secrets, logger, { env: io.env });
  const stop = (signal: string) => {
    logger.info(`${signal}: shutting down`);
    daemon.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`shutdown failed: ${errorMessage(err)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  // Like Prometheus and Alertmanager: SIGHUP reloads, it does not stop.
  process.on('SIGHUP', () => {
    void daemon.reload().catch((err: unknown) => logger.error(`reload failed: ${errorMessage(err)}`));
  });
  // Announced only once the signal handlers are in place: a SIGHUP sent by whoever waits for
  // this line must reload, not kill (the default for a process without a handler).
  io.stderr.write(
    `remediator: listening on ${daemon.url} (execution ${config.execution}, ${daemon.playbooks.all.length} playbook(s) from ${config.playbooks}, database ${describeStore(config.db)})\n`,
  );
  logger.info(`listening on ${daemon.url}`, { execution: config.execution, playbooks: daemon.playbooks.all.length, db: describeStore(config.db) });
}
