import { errorMessage } from '../../src/domain/errors.js';

/** How `until` waits. */
export interface UntilOptions {
  /** How long before giving up (default 10 s). */
  readonly timeoutMs?: number;
  /** How often to look (default 25 ms). */
  readonly everyMs?: number;
  /**
   * Errors thrown by `read` are retried, and the last one named at the deadline, instead of failing
   * at once: for waiting on something that is still starting (a server not listening yet).
   */
  readonly retryErrors?: boolean;
  /** Added to the timeout error, e.g. the logs of the processes involved. */
  readonly context?: () => string;
  /** A reason to give up before the deadline (e.g. the process waited for has exited), or null. */
  readonly giveUpIf?: () => string | null;
}

/**
 * Polls `read` until it gives something truthy, and returns it; throws naming `what` at the
 * deadline. Tests wait on outcomes this way, never with a fixed sleep; the one polling helper.
 */
export async function until<T>(
  what: string,
  read: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: UntilOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const context = () => (options.context ? `\n${options.context()}` : '');
  let lastError: unknown;
  for (;;) {
    const reason = options.giveUpIf?.() ?? null;
    if (reason !== null) throw new Error(`gave up waiting for ${what}: ${reason}${context()}`);
    try {
      const v = await read();
      if (v) return v;
    } catch (err) {
      if (!options.retryErrors) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const last = lastError === undefined ? '' : `; last error: ${errorMessage(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}${context()}`);
    }
    await new Promise((r) => setTimeout(r, options.everyMs ?? 25));
  }
}
