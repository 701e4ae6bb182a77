import { RemediatorError } from '../domain/errors.js';

/** The store methods that only read: their success says nothing about whether writes work. */
const READS = new Set([
  'guardState',
  'globalState',
  'countPendingBatches',
  'getRun',
  'listRuns',
  'listEvents',
  'countRunsInProgress',
  'countOpenApprovals',
  'nextApprovalExpiry',
  'runMessage',
  'auditHead',
  'auditEvents',
]);
/** Not store work of their own: the lock wraps other calls, ping is readiness's own probe, close ends. */
const UNWATCHED = new Set(['withDecisionLock', 'withDecisionSlice', 'ping', 'close', 'constructor']);

/**
 * What readiness knows of the store besides its probe: the last time a real write failed (a full
 * disk, a database that went away) and the last time one succeeded. A probe can pass while real
 * writes fail — a tiny write may fit where a webhook's batch does not — so for `holdMs` after a
 * real write failed, readiness says "not ready" whatever the probe says; after that the probe
 * decides again (a pod nobody sends traffic to must be able to come back), and the next real
 * failure holds it down again. A real write that succeeds clears it at once.
 */
export class StoreHealth {
  private failure: { at: number; what: string; message: string } | null = null;

  constructor(
    private readonly holdMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** A write failed in a way worth retrying (the store, not the request). */
  failed(what: string, err: unknown): void {
    this.failure = { at: this.now(), what, message: err instanceof Error ? err.message : String(err) };
  }

  /** A write succeeded: writes work. */
  succeeded(): void {
    this.failure = null;
  }

  /** Why the store cannot be trusted to write now, or null; after `holdMs` the caller's probe decides. */
  problem(): string | null {
    if (this.failure === null || this.now() - this.failure.at >= this.holdMs) return null;
    return `the store failed a write ${Math.round((this.now() - this.failure.at) / 1000)} s ago (${this.failure.what}): ${this.failure.message}`;
  }
}

/**
 * The store, with every write's outcome reported to `health`: failures that say the store is
 * unavailable mark it, successes clear it. Reads are passed through: a full disk still reads.
 */
export function watchedStore<S extends object>(store: S, health: StoreHealth): S {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || UNWATCHED.has(prop)) return value;
      let fn = wrapped.get(prop);
      if (fn === undefined) {
        const method = value as (...args: unknown[]) => unknown;
        const write = !READS.has(prop);
        fn = (...args: unknown[]) => {
          const result = method.apply(target, args);
          if (!(result instanceof Promise)) return result;
          return result.then(
            (ok: unknown) => {
              if (write) health.succeeded();
              return ok;
            },
            (err: unknown) => {
              if (err instanceof RemediatorError && err.code === 'store_unavailable') health.failed(prop, err);
              throw err;
            },
          );
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
