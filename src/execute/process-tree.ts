import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * What a step started, found through /proc (Linux): its leader, the members of its process group,
 * and every process that carries the step's token in its environment — which setsid, a double
 * fork or a daemonising child keeps, since they inherit the environment. A process is named by
 * (pid, start time): a pid reused by another program after ours exited has another start time, so
 * it is never signalled. Where /proc does not exist (macOS), only the process group is reachable.
 *
 * What this cannot reach (docs/design.md, Execution): a descendant that both left the process
 * group and dropped the token from its environment (`env -i`, sudo, a program that execs with a
 * clean environment), unless a cgroup holds the step (runs.cgroup, step-cgroup.ts); and between
 * reading a process's start time and signalling it the pid could, in theory, be reused — Linux
 * offers pidfd for that, Node does not.
 */

/** The variable every command of a step gets; its descendants inherit it. */
export const STEP_TOKEN_VARIABLE = 'REMEDIATOR_STEP_TOKEN';

/** One process, as /proc/PID/stat shows it. */
export interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  /** R, S, D, Z (a zombie: dead, waiting to be reaped), … */
  readonly state: string;
  /** Clock ticks after boot at which it started: with the boot id, it names the process for good. */
  readonly startTime: number;
}

/** What a step started, as recorded with the run (the `step.process` event). */
export interface StepProcess {
  readonly pid: number;
  readonly pgid: number;
  readonly startTime: number | null;
  readonly bootId: string | null;
  readonly host: string;
  readonly token: string;
  readonly cgroup: string | null;
}

/** Whether /proc can be read here. */
export function hasProc(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

/** This boot's id (changes at every boot, so start times from another boot are never compared), or null. */
export function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/** This host's name, recorded with what a step started (another host's processes are out of reach). */
export function hostName(): string {
  return os.hostname();
}

/** /proc/PID/stat, parsed; null when the process is gone (or there is no /proc). */
export function procInfo(pid: number): ProcInfo | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may hold spaces and parentheses: fields start after the last ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // state(3) ppid(4) pgrp(5) … starttime(22): indexes from field 3.
  return { pid, state: fields[0] ?? '?', ppid: Number(fields[1]), pgid: Number(fields[2]), startTime: Number(fields[19]) };
}

/** Every process in /proc, with its stat. */
export function allProcesses(): ProcInfo[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcInfo[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const info = procInfo(Number(name));
    if (info !== null) out.push(info);
  }
  return out;
}

/** Whether the process's environment holds the token (unreadable: another user's, or gone). */
export function carriesToken(pid: number, token: string): boolean {
  try {
    // NUL-separated entries; a NUL in front lets the first entry match like the others.
    return `\u0000${readFileSync(`/proc/${pid}/environ`, 'latin1')}`.includes(`\u0000${STEP_TOKEN_VARIABLE}=${token}\u0000`);
  } catch {
    return false;
  }
}

/**
 * The processes that are the step's now: its leader if it still is the same process, members of
 * its process group that started after it (while the group is still the step's: the leader's pid
 * not reused), and every process started after it that carries its token. Never this process.
 */
export function stepProcesses(p: Pick<StepProcess, 'pid' | 'pgid' | 'startTime' | 'token'>): ProcInfo[] {
  const since = p.startTime ?? 0;
  const leader = procInfo(p.pid);
  // The group's id is the leader's pid: if that pid now names a later process, the group is not ours.
  const groupIsOurs = leader === null || p.startTime === null || leader.startTime === p.startTime;
  const found: ProcInfo[] = [];
  for (const proc of allProcesses()) {
    // A zombie has exited already: nothing to stop, and it cannot be signalled anyway.
    if (proc.pid === process.pid || proc.startTime < since || proc.state === 'Z') continue;
    const isLeader = proc.pid === p.pid && (p.startTime === null || proc.startTime === p.startTime);
    const inGroup = groupIsOurs && proc.pgid === p.pgid;
    if (isLeader || inGroup || carriesToken(proc.pid, p.token)) found.push(proc);
  }
  return found;
}

/** Signals each process if it is still the same one (same start time); returns how many were signalled. */
export function signalAll(procs: readonly ProcInfo[], signal: NodeJS.Signals): number {
  let n = 0;
  for (const proc of procs) {
    const now = procInfo(proc.pid);
    if (now === null || now.startTime !== proc.startTime) continue;
    try {
      process.kill(proc.pid, signal);
      n++;
    } catch {
      // Gone meanwhile.
    }
  }
  return n;
}
