import { sleep } from './retry.js';
import { hasProc, procInfo, signalAll, stepProcesses, type ProcInfo, type StepProcess } from './process-tree.js';
import type { StepCgroups } from './step-cgroup.js';

/**
 * Stops whatever a step started that is still alive — at the end of every attempt (timed out,
 * cancelled, or exited leaving children behind), and after a restart or a lease takeover for the
 * steps a dead process was running: SIGTERM to each, up to `graceMs` for them to go, then SIGKILL.
 * Returns how many processes there were to stop.
 */
export async function stopStepProcesses(p: StepProcess, graceMs: number, cgroups: StepCgroups | null): Promise<number> {
  const cgroup = p.cgroup !== null && cgroups !== null ? p.cgroup : null;
  if (!hasProc()) {
    // No /proc (macOS): the process group is all that can be reached.
    signalGroup(p.pgid, 'SIGTERM');
    await sleep(Math.min(graceMs, 200));
    signalGroup(p.pgid, 'SIGKILL');
    return 0;
  }
  const find = (): ProcInfo[] => {
    const found = new Map(stepProcesses(p).map((x) => [x.pid, x]));
    for (const pid of cgroup ? (cgroups?.members(cgroup) ?? []) : []) {
      const info = procInfo(pid);
      if (info !== null && info.state !== 'Z' && pid !== process.pid) found.set(pid, info);
    }
    return [...found.values()];
  };
  const first = find();
  if (first.length > 0) {
    signalAll(first, 'SIGTERM');
    if (cgroup) cgroups?.signal(cgroup, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (find().length > 0 && Date.now() < deadline) await sleep(25);
    const stubborn = find();
    if (stubborn.length > 0) {
      signalAll(stubborn, 'SIGKILL');
      if (cgroup) cgroups?.signal(cgroup, 'SIGKILL');
      const gone = Date.now() + 2000;
      while (find().length > 0 && Date.now() < gone) await sleep(25);
    }
  }
  if (cgroup) cgroups?.remove(cgroup);
  return first.length;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid <= 1) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is gone.
  }
}
