import { Registry } from 'prom-client';
import type { DecideSettings } from '../domain/decision.js';
import type { Playbook } from '../domain/playbook.js';
import type { Run, RunDetail } from '../domain/run.js';
import type { Store } from '../domain/store.js';
import { silentLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { processBatch } from '../pipeline/process-batch.js';
import { PlaybookSet } from '../playbook/playbook-set.js';
import { SqliteStore } from '../record/sqlite/sqlite-store.js';
import { readDecisions, type Decided } from '../domain/decided.js';

/**
 * The daemon's deciding half, with nothing outside it: a fresh in-memory SQLite store, a
 * playbook set, the decide settings and a clock the caller moves. A webhook payload delivered
 * here goes through the daemon's own pipeline (processBatch: match, prepare, the guard state the
 * store computes, decide, create the run with its rendered plan), and what was decided is read
 * back from the decision events that pipeline records — the same audit trail the daemon writes.
 * `remediator test` and `replay` are built on this; nothing of match or decide is redone here.
 */
export class Sandbox {
  private nowMs: number;
  private lastDecisionId = 0;
  private created: { run: Run; playbook: Playbook }[] = [];
  readonly playbooks: PlaybookSet;
  /** Counted and never read: the pipeline wants somewhere to count. */
  private readonly metrics = createMetrics(new Registry());

  private constructor(
    readonly store: Store,
    playbooks: readonly Playbook[],
    private readonly settings: DecideSettings,
    start: Date,
  ) {
    this.nowMs = start.getTime();
    this.playbooks = new PlaybookSet(playbooks, start);
  }

  /** A sandbox whose clock reads `start`. */
  static open(playbooks: readonly Playbook[], settings: DecideSettings, start: Date): Sandbox {
    let sandbox: Sandbox | null = null;
    const clock = () => new Date(sandbox?.nowMs ?? start.getTime());
    sandbox = new Sandbox(SqliteStore.open(':memory:', clock), playbooks, settings, start);
    return sandbox;
  }

  /** What the sandbox's clock reads. */
  now(): Date {
    return new Date(this.nowMs);
  }

  /** Moves the clock (never back: the store's records keep their order). */
  setTime(at: Date): void {
    this.nowMs = Math.max(this.nowMs, at.getTime());
  }

  /**
   * Expires the approval requests whose time is up, as the daemon's expiry timer would at this
   * time; returns the runs that expired.
   */
  async expireDue(): Promise<string[]> {
    const next = await this.store.nextApprovalExpiry();
    if (next === null || next > this.now().toISOString()) return [];
    return this.store.expireApprovals(this.now().toISOString());
  }

  /**
   * Stores `payload` as a webhook delivery received now and processes it as the daemon's batch
   * worker would; returns the decisions it recorded and the runs it created, with their plans.
   */
  async deliver(payload: unknown): Promise<Delivered> {
    const receivedAt = this.now();
    const [id] = await this.storeBatches([{ receivedAt, payload }]);
    return this.process({ id: id as string, receivedAt, payload });
  }

  /**
   * Stores webhook deliveries as the receiver does (together they are one commit, as the
   * receiver's group commit makes them under load); process them next, in order.
   */
  storeBatches(batches: readonly { receivedAt: Date; payload: unknown }[]): Promise<string[]> {
    return Promise.all(
      batches.map(({ receivedAt, payload }) => {
        const p = payload as { alerts?: unknown; status?: unknown; groupKey?: unknown; receiver?: unknown } | null;
        return this.store.saveBatch({
          receivedAt,
          receiver: typeof p?.receiver === 'string' ? p.receiver : '',
          status: p?.status === 'resolved' ? 'resolved' : 'firing',
          groupKey: typeof p?.groupKey === 'string' ? p.groupKey : '',
          alertCount: Array.isArray(p?.alerts) ? p.alerts.length : 0,
          payload,
          source: {},
        });
      }),
    );
  }

  /** Processes a batch already stored in this sandbox's store (see deliver). */
  async process(batch: { id: string; receivedAt: Date; payload: unknown }): Promise<Delivered> {
    this.created = [];
    await processBatch(batch, {
      store: this.store,
      playbooks: this.playbooks,
      settings: this.settings,
      clock: () => this.now(),
      logger: LOGGER,
      metrics: this.metrics,
      onRunCreated: (run, playbook) => this.created.push({ run, playbook }),
    });
    const { decisions, lastId } = await readDecisions(this.store, this.lastDecisionId);
    this.lastDecisionId = lastId;
    return { batchId: batch.id, decisions, created: this.created };
  }

  /** A run with its steps (its plan), approvals and events. */
  run(id: string): Promise<RunDetail | null> {
    return this.store.getRun(id);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** What one delivery came to. */
export interface Delivered {
  readonly batchId: string;
  /** Every decision recorded for the batch's alerts, in the order made. */
  readonly decisions: readonly Decided[];
  /** The runs created that the daemon would execute (not those refused before any step). */
  readonly created: readonly { run: Run; playbook: Playbook }[];
}

const LOGGER = silentLogger();
