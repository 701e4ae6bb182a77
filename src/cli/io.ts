import path from 'node:path';
import type { Writable } from 'node:stream';

/**
 * What a CLI invocation may touch of its surroundings. The executable passes the real process;
 * tests run the same commands in their own process with a fresh environment, a working
 * directory of their choice and captured output. No command reads process.env, process.cwd(),
 * the process's stdin or writes to its stdout/stderr other than through this.
 */
export interface CliIo extends CliContext {
  /** The arguments after the program name. */
  readonly argv: readonly string[];
  /** Standard input as text; read only by a command told to ("-"). */
  readonly stdin: () => string;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** The part of the surroundings a command's implementation needs: where it runs. */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  /** The working directory relative paths (flags, environment) are taken from. */
  readonly cwd: string;
}

/** The process's own surroundings, for callers that are not the CLI. */
export function processContext(): CliContext {
  return { env: process.env, cwd: process.cwd() };
}

/**
 * A path as the filesystem calls must see it, relative ones taken from `cwd`. In the process's
 * own working directory (the executable) a path is left as written, so messages name it as the
 * user did.
 */
export function inCwd(cwd: string, file: string): string {
  return path.isAbsolute(file) || path.resolve(cwd) === process.cwd() ? file : path.resolve(cwd, file);
}

/**
 * The environment with the files it names (REMEDIATOR_CONFIG, REMEDIATOR_*_FILE) taken from the
 * context's working directory; the same object when none needs changing.
 */
export function envIn(context: CliContext): NodeJS.ProcessEnv {
  let env = context.env;
  for (const [name, value] of Object.entries(context.env)) {
    if (value === undefined || value === '' || !(name === 'REMEDIATOR_CONFIG' || (name.startsWith('REMEDIATOR_') && name.endsWith('_FILE')))) continue;
    const resolved = inCwd(context.cwd, value);
    if (resolved !== value) env = { ...env, [name]: resolved };
  }
  return env;
}
