import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { RemediatorError } from '../../domain/errors.js';

/**
 * One daemon per SQLite file: a second one would mark the first one's running runs interrupted
 * and race it for batches. The lock is a file beside the database holding the owner's pid; a lock
 * whose process is gone (a crash, a kill -9) is taken over.
 */
export class ProcessLock {
  private constructor(private readonly file: string) {}

  /** Takes the lock for `database`, or throws naming the process that holds it. */
  static acquire(database: string): ProcessLock {
    const file = `${database}.lock`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
        return new ProcessLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new RemediatorError('store_unavailable', `cannot create ${file}: ${(err as Error).message}`, { cause: err });
        }
      }
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
        throw new RemediatorError(
          'store_unavailable',
          `database ${database} is in use by another remediator (pid ${owner}${owner === process.pid ? ', this process' : ''}): stop it, or give this one its own --db`,
        );
      }
      unlinkSync(file);
    }
    throw new RemediatorError('store_unavailable', `cannot take the lock ${file}: another process keeps taking it`);
  }

  release(): void {
    try {
      unlinkSync(this.file);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
