import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A small tmpfs of the test's own, to fill up: a real "disk full" (ENOSPC) for what is on it. */
export interface SmallDisk {
  readonly dir: string;
  /** Fills what is left with a file, so the next write that needs space fails with ENOSPC. */
  fill(): void;
  /** Removes the filler: there is room again. */
  free(): void;
  /** Unmounts and removes the mount point. Safe to call twice. */
  remove(): Promise<void>;
}

/** Mounts a tmpfs of `bytes`; returns why not (not root, no CAP_SYS_ADMIN) instead of throwing. */
export async function mountSmallDisk(bytes: number): Promise<SmallDisk | string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir], { timeout: 10_000 });
  } catch (err) {
    rmdirSync(dir);
    return `cannot mount a tmpfs (needs root with CAP_SYS_ADMIN): ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`;
  }
  const filler = path.join(dir, 'filler');
  let removed = false;
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        // Small writes may still fit in a partial page: fill those too.
        try {
          for (;;) writeSync(fd, chunk.subarray(0, 512));
        } catch {
          // Full.
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    async remove() {
      if (removed) return;
      removed = true;
      await run('umount', [dir], { timeout: 10_000 });
      rmdirSync(dir);
    },
  };
}
