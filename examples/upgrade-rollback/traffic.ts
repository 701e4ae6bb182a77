import { sleep } from './processes.js';

/** What the traffic generator has sent so far. */
export interface TrafficCounts {
  readonly requests: number;
  /** Answers with a 5xx status. */
  readonly errors: number;
  /** Requests that got no answer at all (the service down or restarting). */
  readonly failures: number;
}

/** A running traffic generator. */
export interface Traffic {
  counts(): TrafficCounts;
  /** Stops sending and waits for the requests in flight. Safe to call twice. */
  stop(): Promise<void>;
}

/** How much traffic, and for how long at most. */
export interface TrafficOptions {
  /** Requests sent at once; each worker sends one, waits for the answer, then `pauseMs`. */
  readonly workers?: number;
  readonly pauseMs?: number;
  /** It stops by itself after this long or this many requests, whatever happens to the demo. */
  readonly maxDurationMs?: number;
  readonly maxRequests?: number;
}

/**
 * Sends GET requests to the demo service, a few workers in a loop, so Prometheus has a request
 * rate to take a ratio of. Only to a loopback address, and bounded in time and count.
 */
export function startTraffic(url: string, options: TrafficOptions = {}): Traffic {
  const target = new URL(url);
  if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(target.hostname)) throw new Error(`traffic goes to loopback addresses only, not ${target.hostname}`);
  const workers = options.workers ?? 4;
  const pauseMs = options.pauseMs ?? 50;
  const deadline = Date.now() + (options.maxDurationMs ?? 180_000);
  const maxRequests = options.maxRequests ?? 40_000;
  const stopper = new AbortController();
  let requests = 0;
  let errors = 0;
  let failures = 0;

  const worker = async () => {
    while (!stopper.signal.aborted && Date.now() < deadline && requests < maxRequests) {
      requests++;
      try {
        // The answer is instant; stop() waits for requests in flight rather than aborting them.
        const res = await fetch(target, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status >= 500) errors++;
      } catch {
        failures++;
      }
      await sleep(pauseMs, stopper.signal).catch(() => undefined);
    }
  };
  const done = Promise.allSettled(Array.from({ length: workers }, worker));
  return {
    counts: () => ({ requests, errors, failures }),
    async stop() {
      stopper.abort(new Error('traffic stopped'));
      await done;
    },
  };
}
