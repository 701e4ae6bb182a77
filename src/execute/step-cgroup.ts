import { appendFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RemediatorError } from '../domain/errors.js';

/**
 * One cgroup (v2) per step, under a directory the daemon may create cgroups in (`runs.cgroup`,
 * e.g. systemd's `Delegate=yes`). Membership is inherited by every descendant whatever it does —
 * setsid, a double fork, a clean environment — so the cgroup holds all of a step's processes, and
 * killing them is writing "1" to its cgroup.kill (Linux 5.14+; older kernels: each member).
 *
 * There is no gap at the start: the daemon moves itself into the step's cgroup, spawns (the child
 * is born inside), and moves itself back — spawning is synchronous, so nothing else of the daemon
 * runs meanwhile. A daemon that could not move back stops using cgroups, and no cgroup holding the
 * daemon itself is ever killed.
 */
export class StepCgroups {
  private usable = true;

  private constructor(
    /** Where step cgroups are created. */
    readonly root: string,
    /** The daemon's own cgroup, where it returns after each spawn. */
    private readonly home: string,
  ) {}

  /** Checks that `root` is a cgroup v2 directory the daemon may create cgroups in; throws saying what to fix. */
  static open(root: string): StepCgroups {
    const fail = (why: string) =>
      new RemediatorError(
        'invalid_config',
        `runs.cgroup: ${root} ${why}; give a cgroup v2 directory the daemon may create cgroups in (systemd: Delegate=yes), or remove runs.cgroup to track steps through /proc only`,
      );
    if (!existsSync(path.join(root, 'cgroup.procs'))) throw fail('is not a cgroup v2 directory (no cgroup.procs)');
    const home = ownCgroup(root);
    if (home === null) throw fail('is not on the cgroup v2 hierarchy this process is in');
    const probe = path.join(root, `remediator-probe-${process.pid}`);
    try {
      mkdirSync(probe);
      rmdirSync(probe);
    } catch (err) {
      throw fail(`does not let this process create cgroups (${(err as Error).message})`);
    }
    return new StepCgroups(root, home);
  }

  /** Whether steps still get cgroups (false after the daemon failed to move itself back once). */
  get active(): boolean {
    return this.usable;
  }

  /** The directory of the cgroup of the step with this token (it may not exist). */
  pathFor(token: string): string {
    return path.join(this.root, `step-${token}`);
  }

  /** Creates the cgroup of one step attempt; returns its directory. */
  create(token: string): string {
    const dir = this.pathFor(token);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * Runs `spawn` with this process inside `dir`, so the child starts there; moves back after. If
   * moving in fails, spawns where it is (the /proc walk still finds the step's processes).
   */
  spawnInside<T>(dir: string, spawn: () => T): T {
    try {
      writeFileSync(path.join(dir, 'cgroup.procs'), String(process.pid));
    } catch {
      return spawn();
    }
    try {
      return spawn();
    } finally {
      try {
        writeFileSync(path.join(this.home, 'cgroup.procs'), String(process.pid));
      } catch {
        this.usable = false;
      }
    }
  }

  /** The pids in a step's cgroup now (none when it is gone). */
  members(dir: string): number[] {
    try {
      return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** Sends `signal` to every member; SIGKILL through cgroup.kill when it exists. Never the daemon. */
  signal(dir: string, signal: NodeJS.Signals): void {
    const members = this.members(dir);
    if (members.includes(process.pid)) {
      for (const pid of members) if (pid !== process.pid) killQuietly(pid, signal);
      return;
    }
    if (signal === 'SIGKILL' && existsSync(path.join(dir, 'cgroup.kill'))) {
      try {
        appendFileSync(path.join(dir, 'cgroup.kill'), '1');
        return;
      } catch {
        // Fall through to each member.
      }
    }
    for (const pid of members) killQuietly(pid, signal);
  }

  /** Removes a step's cgroup once it is empty; false while it still has members. */
  remove(dir: string): boolean {
    try {
      rmdirSync(dir);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
  }
}

/** The directory of this process's cgroup v2, if it is under the hierarchy `root` is on. */
function ownCgroup(root: string): string | null {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
  } catch {
    return null;
  }
  if (line === undefined) return null;
  const relative = line.slice(3);
  // The mount point of the hierarchy: the longest prefix of root whose cgroup.procs lists us.
  for (let mount = path.resolve(root); ; mount = path.dirname(mount)) {
    const candidate = path.join(mount, relative);
    try {
      if (readFileSync(path.join(candidate, 'cgroup.procs'), 'utf8').split('\n').includes(String(process.pid))) return candidate;
    } catch {
      // Not here.
    }
    if (mount === path.dirname(mount)) return null;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Gone.
  }
}
