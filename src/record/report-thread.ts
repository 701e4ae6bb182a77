import { Worker } from 'node:worker_threads';
import { RemediatorError } from '../domain/errors.js';
import type { Report, ReportWindow } from '../report/report.js';

/** A request to the worker, and its answer. */
export interface ReportRequest {
  readonly id: number;
  readonly windows: readonly ReportWindow[];
}
/** The worker's answer to one request. */
export type ReportAnswer = { readonly id: number; readonly reports: Report[] } | { readonly id: number; readonly error: string };

/**
 * `remediator report`'s figures for a running daemon on SQLite, computed in a worker thread:
 * better-sqlite3 reads synchronously, and a report over a busy month reads every run of it, which
 * on the daemon's own thread would hold up webhooks and every other request for seconds. The
 * worker opens the file read-only (as `remediator report` does) and answers one request at a time.
 */
export class ReportThread {
  private worker: Worker | null = null;
  private next = 1;
  private readonly pending = new Map<number, { resolve: (r: Report[]) => void; reject: (e: Error) => void }>();

  constructor(private readonly file: string) {}

  /** The reports of windows of one playbook (or all), read in one pass (ReportReader.reports). */
  reports(windows: readonly ReportWindow[]): Promise<Report[]> {
    const worker = this.start();
    const id = this.next++;
    return new Promise<Report[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, windows } satisfies ReportRequest);
    });
  }

  /** Stops the worker; requests still waiting are refused. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.fail('the daemon is stopping');
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // Compiled, the worker is the .js beside this file. Run from source (tsx: tests, benchmarks),
    // it is the .ts, which a worker can only load once tsx's loader is registered in it.
    const source = import.meta.url.endsWith('.ts');
    const entry = new URL(`./report-worker.${source ? 'ts' : 'js'}`, import.meta.url);
    const options = { workerData: { file: this.file } };
    const worker = source
      ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { ...options, eval: true })
      : new Worker(entry, options);
    worker.unref();
    worker.on('message', (a: ReportAnswer) => {
      const p = this.pending.get(a.id);
      this.pending.delete(a.id);
      if (!p) return;
      if ('reports' in a) p.resolve(a.reports);
      else p.reject(new RemediatorError('store_unavailable', `the report could not be read: ${a.error}`, { retryable: true }));
    });
    worker.on('error', (err) => this.fail(err.message));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = null;
      this.fail('the report worker stopped');
    });
    this.worker = worker;
    return worker;
  }

  private fail(why: string): void {
    for (const p of this.pending.values()) p.reject(new RemediatorError('store_unavailable', `the report could not be read: ${why}`, { retryable: true }));
    this.pending.clear();
  }
}
