#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadConfig, unknownEnvVars, type ConfigFlags } from '../config/load-config.js';
import { loadSecrets } from '../config/secrets.js';
import { errorMessage, isRemediatorError } from '../domain/errors.js';
import { createLogger } from '../observability/logger.js';
import { formatLoadError, loadPlaybooks } from '../playbook/loader.js';
import { ApiClient } from './api-client.js';
import { auditExport, auditVerifyDatabase, auditVerifyFile, type ExportOptions } from './audit-commands.js';
import { cancelCommand, runsCommand, showCommand, verdictCommand, type RunsOptions } from './run-commands.js';
import { circuitCloseCommand, circuitStatusCommand, pauseCommand, resumeCommand, statusCommand } from './guard-commands.js';
import { describeStore, isPostgresUrl } from '../record/open-store.js';
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
    // Generated tokens live beside an SQLite file, or in data/ when the database is PostgreSQL.
    const secrets = loadSecrets(
      process.env,
      config.auth.generateTokens ? (isPostgresUrl(config.db) ? path.resolve('data') : path.dirname(path.resolve(config.db))) : null,
    );
    const logger = createLogger(config.logLevel);
    for (const notice of secrets.notices) process.stderr.write(`remediator: ${notice}\n`);
    for (const name of unknownEnvVars(process.env)) process.stderr.write(`remediator: warning: ${name} is not a setting remediator reads; is it misspelt?\n`);
    const daemon = await startDaemon(config, secrets, logger);
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
    process.stderr.write(
      `remediator: listening on ${daemon.url} (execution ${config.execution}, ${daemon.playbooks.all.length} playbook(s) from ${config.playbooks}, database ${describeStore(config.db)})\n`,
    );
    logger.info(`listening on ${daemon.url}`, { execution: config.execution, playbooks: daemon.playbooks.all.length, db: describeStore(config.db) });
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

  // Commands that act on a running daemon through its API. The token comes from REMEDIATOR_TOKEN
  // (or REMEDIATOR_TOKEN_FILE), never from a flag.
  const daemonCommand = (cmd: Command) => cmd.option('--url <url>', 'the daemon (default: REMEDIATOR_URL or http://127.0.0.1:9595)');
  const client = (opts: { url?: string }) => ApiClient.fromEnv(opts.url, process.env);
  const print = (text: string) => void process.stdout.write(text);

  daemonCommand(
    program
      .command('pause')
      .description('suppress every would-be run until the pause ends (or remediator resume); recorded with your identity')
      .requiredOption('--for <duration>', 'how long, e.g. 30m or 2h (at most 7d)')
      .requiredOption('--reason <text>', 'why, for whoever wonders why nothing ran'),
  ).action(async (opts: { url?: string; for: string; reason: string }) => print(await pauseCommand(client(opts), opts.for, opts.reason)));

  daemonCommand(program.command('resume').description('lift the pause now')).action(async (opts: { url?: string }) => print(await resumeCommand(client(opts))));

  daemonCommand(program.command('status').description('show the pause, the circuit and the budget')).action(async (opts: { url?: string }) =>
    print(await statusCommand(client(opts))),
  );

  daemonCommand(
    program
      .command('runs')
      .description('list runs, newest first')
      .option('--pending', 'only runs waiting for approval')
      .option('--state <state>', 'only runs in this state')
      .option('--playbook <name>', 'only runs of this playbook')
      .option('--limit <n>', 'at most this many (default 20)')
      .option('--json', 'print JSON instead of a table'),
  ).action(async (opts: RunsOptions & { url?: string }) => print(await runsCommand(client(opts), opts)));
  daemonCommand(
    program.command('show').description('one run: its steps, approvals and why it is in its state').argument('<id>', 'run id').option('--json', 'print JSON'),
  ).action(async (id: string, opts: { url?: string; json?: boolean }) => print(await showCommand(client(opts), id, opts.json === true)));
  for (const verdict of ['approve', 'reject'] as const) {
    daemonCommand(
      program
        .command(verdict)
        .description(verdict === 'approve' ? 'approve a run waiting for approval: it goes on' : 'reject a run waiting for approval: it ends without acting')
        .argument('<id>', 'run id (remediator runs --pending lists them)')
        .option('--comment <text>', 'why, recorded with your identity'),
    ).action(async (id: string, opts: { url?: string; comment?: string }) => print(await verdictCommand(client(opts), verdict, id, opts.comment)));
  }
  daemonCommand(
    program
      .command('cancel')
      .description('cancel a run: a pending or waiting one at once, a running one at its current step')
      .argument('<id>', 'run id')
      .option('--reason <text>', 'why, recorded with your identity'),
  ).action(async (id: string, opts: { url?: string; reason?: string }) => print(await cancelCommand(client(opts), id, opts.reason)));

  const circuit = program.command('circuit').description('the circuit that opens when the budget of live runs is spent');
  daemonCommand(circuit.command('status').description('show the circuit and the budget')).action(async (opts: { url?: string }) =>
    print(await circuitStatusCommand(client(opts))),
  );
  daemonCommand(
    circuit.command('close').description('close the open circuit: runs may start again, with a fresh budget').option('--note <text>', 'why it is safe now'),
  ).action(async (opts: { url?: string; note?: string }) => print(await circuitCloseCommand(client(opts), opts.note)));

  // The audit trail, read straight from the SQLite file (read-only, beside a running daemon).
  const audit = program.command('audit').description('check and export the tamper-evident audit trail');
  const database = (cmd: Command) =>
    cmd
      .option('--db <path>', 'SQLite database file (default: from --config, REMEDIATOR_DB, or data/remediator.db)')
      .option('--config <file>', 'configuration file (YAML)');
  database(
    audit
      .command('verify')
      .description('walk the hash chain and name the first event altered, removed or reordered; exit 1 if any')
      .addOption(new Option('--file <export.jsonl>', 'verify an exported file on its own instead of the database').conflicts(['db', 'config']))
      .option('--checkpoints <file>', 'also hold the chain to these signed checkpoints (audit.checkpoints.file); needs --key')
      .option('--key <pem>', 'the Ed25519 key the checkpoints were signed with (public, or the private one)'),
  ).action(async (opts: { db?: string; config?: string; file?: string; checkpoints?: string; key?: string }) => {
    const outcome = opts.file === undefined ? await auditVerifyDatabase(opts) : await auditVerifyFile(opts.file);
    process.stdout.write(outcome.text);
    if (!outcome.ok) process.exitCode = 1;
  });
  database(
    audit
      .command('export')
      .description('write the events as JSON Lines, with their chain hashes, streaming')
      .option('--since <time>', 'from the first event at or after this time (ISO 8601, or a duration ago such as 24h)')
      .option('--until <time>', 'up to the first event at or after this time')
      .option('--out <file>', 'write to this file instead of stdout'),
  ).action(async (opts: ExportOptions) => {
    process.stderr.write(await auditExport(opts, process.stdout));
  });

  // Effectiveness per playbook, read from the database directly (read-only), like the audit trail.
  database(
    program
      .command('report')
      .description('per playbook: runs by outcome, suppressions by reason, time from action to the alert resolving, approval wait')
      .option('--since <time>', 'runs created (and suppressions decided) at or after this time (ISO 8601, or a duration ago such as 7d)', '30d')
      .option('--until <time>', 'and before this time (default: now)')
      .option('--playbook <name>', 'only this playbook')
      .option('--json', 'print JSON instead of text'),
  ).action(async (opts: { db?: string; config?: string; since?: string; until?: string; playbook?: string; json?: boolean }) => {
    const { reportCommand } = await import('./report-command.js');
    process.stdout.write(await reportCommand(opts));
  });

  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`remediator: ${errorMessage(err)}\n`);
  process.exit(exitCode(err));
});

/**
 * Exit codes, so a script can tell what happened: 0 done; 1 bad input or any other failure; 2 the
 * daemon could not be reached or could not serve (try again); 3 the run cannot be decided now
 * (already decided, expired, cancelled, or the daemon runs dry-run); 4 not allowed (token refused, not an approver); 5 no
 * such run.
 */
function exitCode(err: unknown): number {
  if (!isRemediatorError(err)) return 1;
  switch (err.code) {
    case 'store_unavailable':
      return 2;
    case 'conflict':
      return 3;
    case 'unauthorized':
    case 'forbidden':
      return 4;
    case 'not_found':
      return 5;
    default:
      return 1;
  }
}
