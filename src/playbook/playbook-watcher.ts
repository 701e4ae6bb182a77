import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import { isPlaybookFile } from './loader.js';

/** What watching needs: the directory, how often to look, and the daemon's one reload. */
export interface PlaybookWatcherDeps {
  readonly dir: string;
  /** How often to compare the files besides filesystem events (which some volumes never send). */
  readonly intervalMs: number;
  /** Reloads the playbooks (serialised with SIGHUP and POST /-/reload by the caller). */
  readonly reload: () => Promise<unknown>;
  readonly logger: Logger;
}

/** How long files must hold still before they are read, so that a save or a ConfigMap swap is read once, whole. */
const SETTLE_MS = 300;

/**
 * Reloads the playbooks when their files change: an edit saved, a file added or removed, or a
 * Kubernetes ConfigMap update (the kubelet swaps the volume's `..data` link to a new directory).
 * Each replica watches its own mount, so every replica reloads, not only the one a
 * `POST /-/reload` through the Service reached. A change is noticed by a filesystem event when the
 * volume sends one, and by comparing the files' identities (name, size, mtime, inode, links
 * followed) every `intervalMs` in any case; a reload happens only when they differ, so nothing is
 * recorded while nothing changes. A broken set is refused by the reload like any other.
 */
export class PlaybookWatcher {
  private last: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private settle: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private checking: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Comparisons of the files made so far (whether or not they found a change): what a test waits on. */
  comparisons = 0;

  constructor(private readonly deps: PlaybookWatcherDeps) {}

  /**
   * Takes the files' identities as they are before they are loaded: a change while the daemon
   * starts (seconds of recovery) is then seen by start() and reloaded, not taken as the baseline.
   */
  async snapshot(): Promise<void> {
    this.last = await this.fingerprint();
  }

  /** Starts watching; files changed since snapshot() (or, without one, from now on) are reloaded. */
  async start(): Promise<void> {
    if (this.last === null) this.last = await this.fingerprint();
    else this.check();
    try {
      this.watcher = watch(this.deps.dir, { recursive: true, persistent: false }, () => this.soon());
      this.watcher.on('error', (err) => {
        this.deps.logger.warn(`watching ${this.deps.dir} failed (${errorMessage(err)}); comparing its files every ${this.deps.intervalMs} ms instead`);
        this.watcher?.close();
        this.watcher = null;
      });
    } catch (err) {
      this.deps.logger.warn(`cannot watch ${this.deps.dir} (${errorMessage(err)}); comparing its files every ${this.deps.intervalMs} ms instead`);
    }
    this.timer = setInterval(() => this.check(), this.deps.intervalMs);
    this.timer.unref();
  }

  /** Stops watching and waits for a check in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    if (this.settle) clearTimeout(this.settle);
    await this.checking;
  }

  /** Resolves when the check in progress (and the reload it started) is over. */
  idle(): Promise<void> {
    return this.checking;
  }

  private soon(): void {
    if (this.stopped) return;
    if (this.settle) clearTimeout(this.settle);
    this.settle = setTimeout(() => this.check(), SETTLE_MS);
    this.settle.unref();
  }

  private check(): void {
    this.checking = this.checking.then(async () => {
      if (this.stopped) return;
      try {
        let now = await this.fingerprint();
        this.comparisons++;
        if (now === this.last) return;
        // Files still being written, or a listing taken while they changed, differ from one look
        // to the next: reload only what holds still for a moment, once.
        for (;;) {
          await new Promise((resolve) => setTimeout(resolve, SETTLE_MS).unref());
          const again = await this.fingerprint();
          if (again === now || this.stopped) break;
          now = again;
        }
        if (this.stopped || now === this.last) return;
        this.last = now;
        this.deps.logger.info(`playbook files in ${this.deps.dir} changed: reloading`);
        await this.deps.reload();
      } catch (err) {
        this.deps.logger.error(`reloading changed playbooks failed: ${errorMessage(err)}`);
      }
    });
  }

  /** The identity of every playbook file: changes when any file's content or link target does. */
  private async fingerprint(): Promise<string> {
    let names: string[];
    try {
      names = (await readdir(this.deps.dir, { recursive: true })).filter(isPlaybookFile).sort();
    } catch (err) {
      return `unreadable: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`;
    }
    const parts = await Promise.all(
      names.map(async (name) => {
        try {
          const s = await stat(path.join(this.deps.dir, name));
          return `${name}:${s.size}:${s.mtimeMs}:${s.ino}`;
        } catch {
          return `${name}:gone`;
        }
      }),
    );
    return parts.join('\n');
  }
}
