// One file on purpose, past the usual size: it is the table of every command and option, the
// CLI's index; each command's work lives in its own module, loaded when it runs.
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { WriteStream } from 'node:tty';
import { Command, CommanderError, Option } from 'commander';
import type { ConfigFlags } from '../config/load-config.js';
import { errorMessage, isRemediatorError } from '../domain/errors.js';
import type { ExportOptions } from './audit-commands.js';
import { packageVersion } from '../observability/version.js';
import { envIn, inCwd, type CliIo } from './io.js';
import type { ReplayCliOptions } from './replay-command.js';
import type { RunsOptions } from './run-commands.js';

/**
 * The `remediator` command line, run against `io` rather than the process: it returns the exit
 * code instead of exiting, and writes only to io.stdout and io.stderr. Each command loads its
 * implementation when it runs, so `--help` or `validate` does not pay for the daemon (HTTP
 * server, database drivers, metrics, logging).
 *
 * Exit codes, so a script can tell what happened: 0 done; 1 bad input or any other failure; 2 the
 * daemon could not be reached or could not serve (try again); 3 the run cannot be decided now
 * (already decided, expired, cancelled, or the daemon runs dry-run); 4 not allowed (token refused, not an approver); 5 no
 * such run.
 */
export async function runCli(io: CliIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync([...io.argv], { from: 'user' });
    return code;
  } catch (err) {
    // Commander has printed its message (and the help) already: a usage error, or --help.
    if (err instanceof CommanderError) return err.exitCode !== 0 && USAGE_IS_2.has(io.argv[0] ?? '') ? 2 : err.exitCode;
    io.stderr.write(`remediator: ${errorMessage(err)}\n`);
    return exitCode(err);
  }
}

/** Commands whose exit code 1 means a finding (a test failed, a decision would change): bad usage is 2 there. */
const USAGE_IS_2: ReadonlySet<string> = new Set(['test', 'replay']);

/** The commands; an action that fails without throwing sets the exit code through `fail`. */
function buildProgram(io: CliIo, fail: (code: number) => void): Command {
  // Set before any command is added: commands inherit them.
  const program = new Command('remediator')
    .description('Alert-driven auto-remediation: Alertmanager webhooks in, playbooks run, every decision recorded.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      getOutHelpWidth: () => tty(io.stdout)?.columns ?? 80,
      getErrHelpWidth: () => tty(io.stderr)?.columns ?? 80,
      getOutHasColors: () => hasColors(io.stdout, io.env),
      getErrHasColors: () => hasColors(io.stderr, io.env),
    })
    .showHelpAfterError()
    .version(packageVersion(), '-V, --version', 'print the version and exit');

  const common = (cmd: Command) =>
    cmd
      .option('--config <file>', 'configuration file (YAML)')
      .option('--playbooks <dir>', 'playbooks directory')
      .option('--db <path>', 'SQLite database file')
      .addOption(new Option('--execution <mode>', 'dry-run or live').choices(['dry-run', 'live']))
      .addOption(new Option('--log-level <level>', 'log level').choices(['error', 'warn', 'info', 'debug']))
      .addOption(new Option('--log-format <format>', 'json lines (the default) or text for a terminal').choices(['json', 'text']));

  common(program.command('serve').description('run the daemon').option('--listen <host:port>', 'address to listen on')).action(async (opts: ConfigFlags) => {
    const { serveCommand } = await import('./serve-command.js');
    await serveCommand(opts, io);
  });

  const validate = async (targets: string[], config: string | undefined) => {
    const { validateCommand } = await import('./validate-command.js');
    const outcome = await validateCommand(targets, config === undefined ? {} : { config }, io);
    io.stdout.write(outcome.text);
    if (outcome.code !== 0) fail(outcome.code);
  };
  program
    .command('validate')
    .description('check playbooks (files or directories): every error, file:line:col; exit 1 on an error, 3 on warnings only')
    .argument('[paths...]', "playbook files or directories (default: the configuration's playbooks, or playbooks)")
    .option('--config <file>', 'also check the daemon configuration and its cross-references with the playbooks')
    .action((paths: string[], opts: { config?: string }) => validate(paths, opts.config));
  program
    .command('check-config')
    .description('validate --config FILE: the configuration, the playbooks it names, and the cross-references between them')
    .argument('<config>', 'configuration file (YAML)')
    .argument('[paths...]', "playbook files or directories (default: the configuration's playbooks)")
    .action((config: string, paths: string[]) => validate(paths, config));

  program
    .command('test')
    .description("run playbook tests (*.test.yaml) through the daemon's own pipeline, offline; exit 1 if one fails, 2 if a file is invalid")
    .argument('<files...>', 'test files, or directories to search for *.test.yaml')
    .option('--junit <file>', 'also write the results as JUnit XML, for CI')
    .option('--run <regex>', 'only the tests whose name matches')
    .option('-v, --verbose', 'show every decision of every test')
    .action(async (files: string[], opts: { junit?: string; run?: string; verbose?: boolean }) => {
      const { testCommand } = await import('./test-command.js');
      const outcome = await testCommand(files, opts, io);
      io.stdout.write(outcome.stdout);
      io.stderr.write(outcome.stderr);
      if (outcome.code !== 0) fail(outcome.code);
    });

  common(
    program
      .command('simulate')
      .description('show which playbooks an alert matches and the plan each would run; no daemon needed')
      .requiredOption('--alert <file>', 'a webhook payload, one alert, or a list of alerts (JSON); "-" reads stdin')
      .option('--json', 'print JSON instead of text'),
  ).action(async (opts: ConfigFlags & { alert: string; json?: boolean }) => {
    const [{ loadCliConfig }, { formatLoadError, loadPlaybooks }, { alertsFromJson, formatSimulation, simulate }] = await Promise.all([
      import('./cli-config.js'),
      import('../playbook/loader.js'),
      import('./simulate.js'),
    ]);
    const config = loadCliConfig(opts, io);
    const loaded = await loadPlaybooks(config.playbooks);
    if (loaded.errors.length > 0) {
      for (const e of loaded.errors) io.stderr.write(`${formatLoadError(e)}\n`);
      io.stderr.write('fix the playbooks first (remediator validate)\n');
      fail(1);
      return;
    }
    const text = opts.alert === '-' ? io.stdin() : readFileSync(inCwd(io.cwd, opts.alert), 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`${opts.alert} is not JSON: ${errorMessage(err)}`);
    }
    const results = simulate(alertsFromJson(json, new Date()), loaded.playbooks, config.execution);
    io.stdout.write(opts.json ? `${JSON.stringify(results, null, 2)}\n` : formatSimulation(results));
  });

  // Commands that act on a running daemon through its API. The token comes from REMEDIATOR_TOKEN
  // (or REMEDIATOR_TOKEN_FILE), never from a flag.
  const daemonCommand = (cmd: Command) => cmd.option('--url <url>', 'the daemon (default: REMEDIATOR_URL or http://127.0.0.1:9595)');
  const client = async (opts: { url?: string }) => {
    const { ApiClient } = await import('./api-client.js');
    return ApiClient.fromEnv(opts.url, envIn(io), { cwd: io.cwd, notice: (text) => void io.stderr.write(`remediator: ${text}\n`) });
  };
  const guards = () => import('./guard-commands.js');
  const runs = () => import('./run-commands.js');
  const print = (text: string) => void io.stdout.write(text);

  daemonCommand(
    program
      .command('pause')
      .description('suppress every would-be run until the pause ends (or remediator resume); recorded with your identity')
      .requiredOption('--for <duration>', 'how long, e.g. 30m or 2h (at most 7d)')
      .requiredOption('--reason <text>', 'why, for whoever wonders why nothing ran'),
  ).action(async (opts: { url?: string; for: string; reason: string }) => {
    const api = await client(opts);
    print(await (await guards()).pauseCommand(api, opts.for, opts.reason));
  });

  daemonCommand(program.command('resume').description('lift the pause now')).action(async (opts: { url?: string }) => {
    const api = await client(opts);
    print(await (await guards()).resumeCommand(api));
  });

  daemonCommand(program.command('status').description('show the pause, the circuit and the budget')).action(async (opts: { url?: string }) => {
    const api = await client(opts);
    print(await (await guards()).statusCommand(api));
  });

  daemonCommand(
    program
      .command('runs')
      .description('list runs, newest first')
      .option('--pending', 'only runs waiting for approval')
      .option('--state <state>', 'only runs in this state')
      .option('--playbook <name>', 'only runs of this playbook')
      .option('--limit <n>', 'at most this many (default 20)')
      .option('--json', 'print JSON instead of a table'),
  ).action(async (opts: RunsOptions & { url?: string }) => {
    const api = await client(opts);
    print(await (await runs()).runsCommand(api, opts));
  });
  daemonCommand(
    program.command('show').description('one run: its steps, approvals and why it is in its state').argument('<id>', 'run id').option('--json', 'print JSON'),
  ).action(async (id: string, opts: { url?: string; json?: boolean }) => {
    const api = await client(opts);
    print(await (await runs()).showCommand(api, id, opts.json === true));
  });
  for (const verdict of ['approve', 'reject'] as const) {
    daemonCommand(
      program
        .command(verdict)
        .description(verdict === 'approve' ? 'approve a run waiting for approval: it goes on' : 'reject a run waiting for approval: it ends without acting')
        .argument('<id>', 'run id (remediator runs --pending lists them)')
        .option('--comment <text>', 'why, recorded with your identity'),
    ).action(async (id: string, opts: { url?: string; comment?: string }) => {
      const api = await client(opts);
      print(await (await runs()).verdictCommand(api, verdict, id, opts.comment));
    });
  }
  daemonCommand(
    program
      .command('cancel')
      .description('cancel a run: a pending or waiting one at once, a running one at its current step')
      .argument('<id>', 'run id')
      .option('--reason <text>', 'why, recorded with your identity'),
  ).action(async (id: string, opts: { url?: string; reason?: string }) => {
    const api = await client(opts);
    print(await (await runs()).cancelCommand(api, id, opts.reason));
  });

  daemonCommand(
    program.command('reload').description('load the playbooks again on the daemon; a set with any error is refused and the old one stays (exit 1)'),
  ).action(async (opts: { url?: string }) => {
    const api = await client(opts);
    const outcome = await (await import('./reload-command.js')).reloadCommand(api);
    print(outcome.text);
    if (!outcome.ok) fail(1);
  });

  const circuit = program.command('circuit').description('the circuit that opens when the budget of live runs is spent');
  daemonCommand(circuit.command('status').description('show the circuit and the budget')).action(async (opts: { url?: string }) => {
    const api = await client(opts);
    print(await (await guards()).circuitStatusCommand(api));
  });
  daemonCommand(
    circuit.command('close').description('close the open circuit: runs may start again, with a fresh budget').option('--note <text>', 'why it is safe now'),
  ).action(async (opts: { url?: string; note?: string }) => {
    const api = await client(opts);
    print(await (await guards()).circuitCloseCommand(api, opts.note));
  });

  const escalations = program.command('escalations').description("targets a playbook's escalate handed to a person: automation is off for them until cleared");
  const escalationCommands = () => import('./escalation-commands.js');
  daemonCommand(escalations.command('list').description('show the open escalations').option('--all', 'the cleared ones too')).action(
    async (opts: { url?: string; all?: boolean }) => {
      const api = await client(opts);
      print(await (await escalationCommands()).escalationsListCommand(api, opts.all === true));
    },
  );
  daemonCommand(
    escalations
      .command('clear')
      .description('clear an escalation: the playbook may act on its target again (recorded with who and why)')
      .argument('<id>', 'the escalation id (remediator escalations list)')
      .option('--note <text>', 'what was done about it'),
  ).action(async (id: string, opts: { url?: string; note?: string }) => {
    const api = await client(opts);
    print(await (await escalationCommands()).escalationsClearCommand(api, id, opts.note));
  });

  const storms = program.command('storms').description('storms (guards.storm): many alerts across many targets at once, their live runs held as one event');
  const stormCommands = () => import('./storm-commands.js');
  daemonCommand(storms.command('list').description('show the open storm').option('--all', 'the ended ones too')).action(
    async (opts: { url?: string; all?: boolean }) => {
      const api = await client(opts);
      print(await (await stormCommands()).stormsListCommand(api, opts.all === true));
    },
  );
  daemonCommand(storms.command('show').description('show a storm and its runs').argument('<id>', 'the storm id (remediator storms list)')).action(
    async (id: string, opts: { url?: string }) => {
      const api = await client(opts);
      print(await (await stormCommands()).stormsShowCommand(api, id));
    },
  );
  for (const verdict of ['approve', 'reject'] as const) {
    daemonCommand(
      storms
        .command(verdict)
        .description(`${verdict} every run of a storm still waiting for a person (each recorded with who decided)`)
        .argument('<id>', 'the storm id (remediator storms list)')
        .option('--comment <text>', 'why'),
    ).action(async (id: string, opts: { url?: string; comment?: string }) => {
      const api = await client(opts);
      print(await (await stormCommands()).stormsDecideCommand(api, verdict, id, opts.comment));
    });
  }

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
    const { auditVerifyDatabase, auditVerifyFile } = await import('./audit-commands.js');
    const outcome = opts.file === undefined ? await auditVerifyDatabase(opts, io) : await auditVerifyFile(opts.file, io);
    io.stdout.write(outcome.text);
    if (!outcome.ok) fail(1);
  });
  database(
    audit
      .command('export')
      .description('write the events as JSON Lines, with their chain hashes, streaming')
      .option('--since <time>', 'from the first event at or after this time (ISO 8601, or a duration ago such as 24h)')
      .option('--until <time>', 'up to the first event at or after this time')
      .option('--out <file>', 'write to this file instead of stdout'),
  ).action(async (opts: ExportOptions) => {
    const { auditExport } = await import('./audit-commands.js');
    io.stderr.write(await auditExport(opts, io.stdout, new Date(), io));
  });

  // Recorded history replayed through a playbook set (read-only on the database, like the audit trail).
  program
    .command('replay')
    .description('replay the recorded alerts through a playbook set and compare the decisions; exit 0 nothing would change, 1 something would, 2 bad input')
    .option('--db <path|url>', 'the SQLite file or PostgreSQL URL the daemon records to (default: from --config, REMEDIATOR_DB, or data/remediator.db)')
    .option('--playbooks <dir>', "the playbook set to replay through (default: the configuration's)")
    .option('--config <file>', 'the daemon configuration: guards, maintenance windows, execution')
    .addOption(new Option('--execution <mode>', "dry-run or live (default: the configuration's)").choices(['dry-run', 'live']))
    .option('--since <time>', 'compare from this time (ISO 8601, or a duration ago such as 7d; default: the whole history)')
    .option('--until <time>', 'and up to this time (default: now)')
    .option('--json', 'print JSON instead of text')
    .action(async (opts: ReplayCliOptions) => {
      const { replayCommand } = await import('./replay-command.js');
      const outcome = await replayCommand(opts, io, io.stderr);
      io.stdout.write(outcome.stdout);
      io.stderr.write(outcome.stderr);
      if (outcome.code !== 0) fail(outcome.code);
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
    io.stdout.write(await reportCommand(opts, new Date(), io));
  });

  return program;
}

/** The stream as a terminal, or undefined. */
function tty(stream: Writable): WriteStream | undefined {
  const t = stream as Partial<WriteStream>;
  return t.isTTY ? (stream as WriteStream) : undefined;
}

/** Whether help may be coloured, by the usual conventions (NO_COLOR, FORCE_COLOR), read from io.env. */
function hasColors(stream: Writable, env: NodeJS.ProcessEnv): boolean {
  if (env['NO_COLOR'] || env['FORCE_COLOR'] === '0' || env['FORCE_COLOR'] === 'false') return false;
  if (env['FORCE_COLOR'] || env['CLICOLOR_FORCE'] !== undefined) return true;
  return tty(stream)?.hasColors(env) ?? false;
}

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
