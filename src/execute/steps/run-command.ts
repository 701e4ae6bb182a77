import { execa } from 'execa';
import { CappedOutput } from '../output-cap.js';
import type { StepOutcome } from '../../domain/step-outcome.js';
import type { StepContext } from './step-context.js';

/** How a command is started. */
export interface CommandOptions {
  readonly env: Record<string, string>;
  readonly cwd: string | null;
  /** Time between SIGTERM and SIGKILL. */
  readonly killGraceMs: number;
}

/**
 * Runs a program with an argument array: no shell ever parses anything, so a value holding
 * "; rm -rf /" is one argument and nothing else. The child gets only the environment given (an
 * allow-list, not the daemon's), runs in its own process group so that a timeout or a cancel
 * ends its children too (SIGTERM, then SIGKILL after a grace period), and its output is read as
 * it comes and capped, so a chatty command cannot grow the daemon's memory.
 */
export async function runCommand(argv: readonly string[], options: CommandOptions, ctx: StepContext): Promise<StepOutcome> {
  const [file, ...args] = argv;
  if (!file) return { ok: false, exitCode: null, output: '', error: 'empty command', vars: {} };
  const stdout = new CappedOutput(ctx.outputCapBytes);
  const stderr = new CappedOutput(ctx.outputCapBytes);
  const child = execa(file, args, {
    env: options.env,
    extendEnv: false,
    cwd: options.cwd ?? undefined,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    detached: true,
    cleanup: true,
    stripFinalNewline: false,
  });
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

  let why: 'timeout' | 'cancelled' | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (reason: 'timeout' | 'cancelled') => {
    if (why !== null) return;
    why = reason;
    signalGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), options.killGraceMs);
  };
  const timeout = setTimeout(() => stop('timeout'), Math.min(ctx.timeoutMs, 2 ** 31 - 1));
  // A descendant that left the process group (setsid, a daemonising child) can hold our pipes open
  // after the command exited; stop waiting for them shortly after the exit.
  let release: NodeJS.Timeout | undefined;
  child.once('exit', () => {
    release = setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, 500);
  });
  const onAbort = () => stop('cancelled');
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });

  const result = await child;
  clearTimeout(timeout);
  clearTimeout(release);
  clearTimeout(killTimer);
  ctx.signal.removeEventListener('abort', onAbort);
  // The group may still hold children that ignored SIGTERM after the leader exited.
  if (why !== null) signalGroup(child.pid, 'SIGKILL');

  const out = stdout.text(ctx.redactor);
  const err = stderr.text(ctx.redactor);
  const output = err ? `${out}${out && !out.endsWith('\n') ? '\n' : ''}--- stderr ---\n${err}` : out;
  const exitCode = typeof result.exitCode === 'number' ? result.exitCode : null;
  const vars = { stdout: out, stderr: err, ...(exitCode === null ? {} : { exitCode }) };
  if (why === 'timeout') return { ok: false, exitCode, output, error: `timed out after ${ctx.timeoutMs} ms and was killed`, vars };
  if (why === 'cancelled') return { ok: false, exitCode, output, error: 'cancelled and killed', vars };
  if (exitCode === null) {
    const code = (result as { code?: string }).code;
    const message =
      code === 'ENOENT'
        ? `${file}: program not found on the PATH given to steps (see runs.envAllow)`
        : `${file} could not run: ${result.shortMessage ?? result.message}`;
    return { ok: false, exitCode, output, error: result.signal ? `killed by ${result.signal}` : message, vars };
  }
  return { ok: exitCode === 0, exitCode, output, error: exitCode === 0 ? null : `exited with code ${exitCode}${lastLine(err, ctx)}`, vars };
}

/** ": <the last line the command wrote to stderr>", which usually says why it failed; a long one cut (and its cut redacted). */
function lastLine(text: string, ctx: StepContext): string {
  const line = text.trimEnd().split('\n').pop()?.trim() ?? '';
  return line === '' ? '' : `: ${line.length > 200 ? `${ctx.redactor.redactCut(line.slice(0, 200), null).head}…` : line}`;
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}
