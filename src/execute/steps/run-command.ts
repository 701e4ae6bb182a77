import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { CappedOutput } from '../output-cap.js';
import { bootId, hostName, procInfo, STEP_TOKEN_VARIABLE, type StepProcess } from '../process-tree.js';
import type { StepCgroups } from '../step-cgroup.js';
import { stopStepProcesses } from '../step-leftovers.js';
import type { StepOutcome } from '../../domain/step-outcome.js';
import type { StepContext } from './step-context.js';

/** How a command is started. */
export interface CommandOptions {
  readonly env: Record<string, string>;
  readonly cwd: string | null;
  /** Time between SIGTERM and SIGKILL. */
  readonly killGraceMs: number;
  /** The step's token, set in the command's environment (descendants inherit it); default: a new one. */
  readonly token?: string;
  /** Where each command gets a cgroup of its own (runs.cgroup), or null. */
  readonly cgroups?: StepCgroups | null;
  /** Told what was started, as soon as it is: recorded with the run, so a restart can stop it. */
  readonly onSpawn?: (started: StepProcess) => void;
}

/**
 * Runs a program with an argument array: no shell ever parses anything, so a value holding
 * "; rm -rf /" is one argument and nothing else. The child gets only the environment given (an
 * allow-list, not the daemon's), runs in its own process group, and its output is read as it
 * comes and capped, so a chatty command cannot grow the daemon's memory. No process outlives the
 * step: on a timeout or a cancel, and after the command exits, whatever it started that is still
 * alive — its group, descendants that left the group (found by the step's token in their
 * environment, or by the step's cgroup) — gets SIGTERM, then SIGKILL after the grace period.
 */
export async function runCommand(argv: readonly string[], options: CommandOptions, ctx: StepContext): Promise<StepOutcome> {
  const [file, ...args] = argv;
  if (!file) return { ok: false, exitCode: null, output: '', error: 'empty command', vars: {} };
  const stdout = new CappedOutput(ctx.outputCapBytes);
  const stderr = new CappedOutput(ctx.outputCapBytes);
  const token = options.token ?? randomBytes(12).toString('hex');
  const cgroups = options.cgroups?.active ? options.cgroups : null;
  let cgroup: string | null = null;
  try {
    cgroup = cgroups?.create(token) ?? null;
  } catch (err) {
    return {
      ok: false,
      exitCode: null,
      output: '',
      error: `cannot create the step's cgroup under ${cgroups?.root ?? '?'}: ${(err as Error).message}`,
      vars: {},
    };
  }
  const spawn = () =>
    execa(file, args, {
      env: { ...options.env, [STEP_TOKEN_VARIABLE]: token },
      extendEnv: false,
      cwd: options.cwd ?? undefined,
      stdin: 'ignore',
      buffer: false,
      reject: false,
      detached: true,
      cleanup: true,
      stripFinalNewline: false,
    });
  const child = cgroup !== null && cgroups !== null ? cgroups.spawnInside(cgroup, spawn) : spawn();
  const started: StepProcess = {
    pid: child.pid ?? -1,
    pgid: child.pid ?? -1,
    startTime: child.pid === undefined ? null : (procInfo(child.pid)?.startTime ?? null),
    bootId: bootId(),
    host: hostName(),
    token,
    cgroup,
  };
  if (child.pid !== undefined) options.onSpawn?.(started);
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

  let why: 'timeout' | 'cancelled' | null = null;
  // An object, not a variable: the closure below sets it, which narrowing cannot see.
  const stopping: { done: Promise<number> | null } = { done: null };
  const stop = (reason: 'timeout' | 'cancelled') => {
    if (why !== null) return;
    why = reason;
    stopping.done = stopStepProcesses(started, options.killGraceMs, cgroups);
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
  ctx.signal.removeEventListener('abort', onAbort);
  // What the command left behind (a TERM-ignoring child, a setsid daemon) goes with it.
  if (stopping.done !== null) await stopping.done;
  const leftBehind = child.pid === undefined ? 0 : await stopStepProcesses(started, options.killGraceMs, cgroups);

  const out = stdout.text(ctx.redactor);
  const err = stderr.text(ctx.redactor);
  const note = leftBehind > 0 ? `--- ${leftBehind} process(es) it left running were stopped ---\n` : '';
  const output = `${err ? `${out}${out && !out.endsWith('\n') ? '\n' : ''}--- stderr ---\n${err}` : out}${note && !(err || out).endsWith('\n') && (err || out) ? '\n' : ''}${note}`;
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
