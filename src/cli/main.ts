#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadConfig, type ConfigFlags } from '../config/load-config.js';
import { loadSecrets } from '../config/secrets.js';
import { errorMessage } from '../domain/errors.js';
import { createLogger } from '../observability/logger.js';
import { formatLoadError, loadPlaybooks } from '../playbook/loader.js';
import { startDaemon } from './serve.js';
import { alertsFromJson, formatSimulation, simulate } from './simulate.js';

/** Exit codes: 0 success, 1 a check failed or the input is wrong. */
async function main(argv: string[]): Promise<void> {
  const program = new Command('remediator')
    .description('Alert-driven auto-remediation: Alertmanager webhooks in, playbooks run, every decision recorded.')
    .showHelpAfterError();

  const common = (cmd: Command) =>
    cmd
      .option('--config <file>', 'configuration file (YAML)')
      .option('--playbooks <dir>', 'playbooks directory')
      .option('--db <path>', 'SQLite database file')
      .addOption(new Option('--execution <mode>', 'dry-run or live').choices(['dry-run', 'live']))
      .addOption(new Option('--log-level <level>', 'log level').choices(['error', 'warn', 'info', 'debug']));

  common(program.command('serve').description('run the daemon').option('--listen <host:port>', 'address to listen on')).action(async (opts: ConfigFlags) => {
    const config = loadConfig(opts);
    const secrets = loadSecrets(process.env, config.auth.generateTokens ? path.dirname(path.resolve(config.db)) : null);
    const logger = createLogger(config.logLevel);
    for (const notice of secrets.notices) process.stderr.write(`remediator: ${notice}\n`);
    const daemon = await startDaemon(config, secrets, logger);
    process.stderr.write(
      `remediator: listening on ${daemon.url} (execution ${config.execution}, ${daemon.playbooks.all.length} playbook(s) from ${config.playbooks}, database ${config.db})\n`,
    );
    logger.info(`listening on ${daemon.url}`, { execution: config.execution, playbooks: daemon.playbooks.all.length, db: config.db });
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
  });

  program
    .command('validate')
    .description('check every playbook in a directory; exit 1 if any is invalid')
    .argument('[dir]', 'playbooks directory', 'playbooks')
    .action(async (dir: string) => {
      const result = await loadPlaybooks(dir);
      for (const e of result.errors) process.stdout.write(`${formatLoadError(e)}\n`);
      if (result.errors.length > 0) {
        process.stdout.write(`${result.errors.length} error(s) in ${dir}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${result.playbooks.length} playbook(s) in ${dir} are valid\n`);
    });

  common(
    program
      .command('simulate')
      .description('show which playbooks an alert matches and the plan each would run; no daemon needed')
      .requiredOption('--alert <file>', 'a webhook payload, one alert, or a list of alerts (JSON); "-" reads stdin')
      .option('--json', 'print JSON instead of text'),
  ).action(async (opts: ConfigFlags & { alert: string; json?: boolean }) => {
    const config = loadConfig(opts);
    const loaded = await loadPlaybooks(config.playbooks);
    if (loaded.errors.length > 0) {
      for (const e of loaded.errors) process.stderr.write(`${formatLoadError(e)}\n`);
      process.stderr.write('fix the playbooks first (remediator validate)\n');
      process.exitCode = 1;
      return;
    }
    const text = readFileSync(opts.alert === '-' ? 0 : opts.alert, 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`${opts.alert} is not JSON: ${errorMessage(err)}`);
    }
    const results = simulate(alertsFromJson(json, new Date()), loaded.playbooks, config.execution);
    process.stdout.write(opts.json ? `${JSON.stringify(results, null, 2)}\n` : formatSimulation(results));
  });

  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`remediator: ${errorMessage(err)}\n`);
  process.exit(1);
});
