import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runCli as runProgram } from '../../src/cli/program.js';
import { ROOT } from './fixtures.js';

/** The outcome of one CLI invocation. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What an invocation gets besides its arguments. */
export interface CliOptions {
  /** The environment, on top of PATH and HOME (nothing else of this process's is passed). */
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/**
 * Runs `remediator ARGS` in this process: the same program as the executable, with its own
 * environment, working directory, stdin and captured output, and its exit code returned. What
 * only a real process shows (exiting, signals, a heap limit, reading fd 0) is for spawnCli.
 */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (chunks: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
  const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`remediator ${args.join(' ')} did not finish in time; stderr: ${text(err)}`)), options.timeoutMs ?? 20_000);
  });
  try {
    const code = await Promise.race([
      runProgram({
        argv: args,
        env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...options.env },
        cwd: options.cwd ?? ROOT,
        stdin: () => options.input ?? '',
        stdout: sink(out),
        stderr: sink(err),
      }),
      deadline,
    ]);
    return { code, stdout: text(out), stderr: text(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `remediator ARGS` as a real child process (no shell), with a deadline. */
export function spawnCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      cwd: options.cwd ?? ROOT,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // Decoded as a stream: a character split between two chunks stays whole.
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`remediator ${args.join(' ')} did not finish in time; stderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
