import { isUtf8 } from 'node:buffer';
import Database from 'better-sqlite3';
import { fuzzBodies, type FuzzCase } from './fuzz-payloads.js';

/** What a fuzz run against a daemon found. */
export interface FuzzResult {
  readonly sent: number;
  /** Answers counted by status. */
  readonly statuses: Readonly<Record<number, number>>;
  /** Batch ids the daemon answered 200 with. */
  readonly stored: readonly string[];
  /** Answers that break the contract: a 5xx, a 400 without a reason, a 200 without a batch id or for invalid UTF-8. */
  readonly broken: readonly { index: number; kind: string; status: number; body: string; answer: string }[];
  /** The process's largest resident set seen during the run, in bytes. */
  readonly peakRss: number;
  readonly ms: number;
}

/**
 * Posts `count` mutated payloads from `seed` to `url`/webhook with `concurrency` requests in
 * flight, over real HTTP on loopback, and checks every answer as it comes.
 */
export async function fuzzDaemon(url: string, token: string, o: { seed: number; count: number; concurrency: number }): Promise<FuzzResult> {
  const statuses: Record<number, number> = {};
  const stored: string[] = [];
  const broken: FuzzResult['broken'][number][] = [];
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const bodies = fuzzBodies(o.seed, o.count);
  let index = 0;
  const started = Date.now();
  const next = (): { c: FuzzCase; i: number } | null => {
    const r = bodies.next();
    return r.done ? null : { c: r.value, i: index++ };
  };
  try {
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        for (let item = next(); item !== null; item = next()) {
          const { c, i } = item;
          const res = await fetch(`${url}/webhook`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: new Uint8Array(c.body),
          });
          const answer = await res.text();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          const fail = (why: string) =>
            broken.push({
              index: i,
              kind: c.kind,
              status: res.status,
              body: c.body.subarray(0, 300).toString('utf8'),
              answer: `${why}: ${answer.slice(0, 300)}`,
            });
          if (res.status === 200) {
            const batch = (JSON.parse(answer) as { batch?: string }).batch;
            if (typeof batch === 'string') stored.push(batch);
            else fail('a 200 without a batch id');
            if (!isUtf8(c.body)) fail('invalid UTF-8 accepted (it would be stored lossily)');
          } else if (res.status >= 500) fail('a 5xx for a request');
          else if (![400, 413].includes(res.status)) fail('an unexpected status');
          else if (!((JSON.parse(answer) as { error?: { message?: string } }).error?.message ?? '')) fail('a refusal without a reason');
        }
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  return { sent: index, statuses, stored, broken, peakRss, ms: Date.now() - started };
}

/** Batch ids stored in an SQLite file, and how many are not processed yet. */
export function storedBatches(file: string): { ids: Set<string>; unprocessed: number } {
  const db = new Database(file, { readonly: true });
  try {
    const ids = new Set((db.prepare('SELECT id FROM batches').all() as { id: string }[]).map((r) => r.id));
    const { n } = db.prepare('SELECT COUNT(*) AS n FROM batches WHERE processed_at IS NULL').get() as { n: number };
    return { ids, unprocessed: n };
  } finally {
    db.close();
  }
}
