import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { ChainWalk, type AuditHead } from '../domain/audit-chain.js';
import { checkCheckpointFile, parseCheckpoint, signCheckpoint, type AuditCheckpoint } from '../domain/audit-checkpoint.js';
import { errorMessage } from '../domain/errors.js';
import type { AuditLog } from '../domain/store.js';
import type { Logger } from '../observability/logger.js';
import { storeChainEntries } from './audit-verify.js';

/**
 * The daemon's side of audit checkpoints (src/domain/audit-checkpoint.ts): every `everyMs`, when
 * the chain has grown, the head is signed and published — appended (and synced) to the checkpoint
 * file, logged, and handed to `publish` (the notify webhook). At start, before anything else is
 * recorded, the chain since the last checkpoint is verified against it.
 */

/** The lines of a checkpoint file, parsed (null for a line that is not one); none when it does not exist yet. */
export function readCheckpointFile(file: string): (AuditCheckpoint | null)[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(parseCheckpoint);
}

/** Appends one checkpoint as a line and syncs it to disk before returning. */
export function appendCheckpoint(file: string, c: AuditCheckpoint): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const fd = openSync(file, 'a', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(c)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** What the checkpoint job needs. */
export interface CheckpointDeps {
  readonly store: Pick<AuditLog, 'auditHead' | 'auditEvents'>;
  readonly file: string;
  readonly everyMs: number;
  readonly key: { readonly privateKey: KeyObject; readonly publicKey: KeyObject; readonly keyId: string };
  readonly clock: () => Date;
  readonly logger: Logger;
  /** Publishes a checkpoint beyond the file and the log (the notify webhook); failures are logged. */
  readonly publish?: (c: AuditCheckpoint) => Promise<void>;
}

/** At start, the checkpoints at the end of the file whose signatures are checked (the CLI checks all). */
const CHECKED_AT_START = 1000;

/** Makes, publishes and checks the checkpoints of one daemon. */
export class CheckpointJob {
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<unknown> = Promise.resolve();
  private last: AuditCheckpoint | null | undefined;

  constructor(private readonly deps: CheckpointDeps) {}

  /**
   * Checks the chain since the last checkpoint (or all of it, before the first): the newest
   * checkpoints are this key's and unbroken, the event the last one names carries its hash, and
   * the chain from there links through to the head. Null when it holds; else what is wrong.
   */
  async verifyTail(): Promise<string | null> {
    const all = readCheckpointFile(this.deps.file);
    const recent = all.slice(-CHECKED_AT_START);
    const fileProblem = checkCheckpointFile(recent, this.deps.key);
    if (fileProblem !== null) return `${this.deps.file}: ${fileProblem}`;
    const last = (recent.at(-1) as AuditCheckpoint | undefined) ?? null;
    this.last = last;
    const head = await this.deps.store.auditHead();
    if (head === null) return 'the audit head is missing: it was removed outside remediator';
    let from = { id: head.baseId, hash: head.baseHash };
    if (last !== null) {
      if (last.eventId > head.lastId) {
        return `the chain ends at event ${head.lastId}, but checkpoint ${last.seq} (${last.at}) was signed for event ${last.eventId}: events were removed from the end and the head rewritten`;
      }
      if (last.eventId > head.baseId) {
        const [event] = await this.deps.store.auditEvents({ afterId: last.eventId - 1, throughId: last.eventId, limit: 1 });
        if (event?.id !== last.eventId) return `event ${last.eventId}, which checkpoint ${last.seq} (${last.at}) was signed for, is missing`;
        if (event.hash !== last.hash) {
          return `event ${last.eventId} does not carry the hash checkpoint ${last.seq} (${last.at}) signed for it: the chain was rewritten at or before it (rehashed)`;
        }
        from = { id: last.eventId, hash: last.hash };
      } else if (last.eventId === head.baseId && last.hash !== head.baseHash) {
        return `the chain's base (event ${head.baseId}) does not carry the hash checkpoint ${last.seq} signed for it`;
      }
    }
    const walk = new ChainWalk(from, head.lastId);
    for await (const e of storeChainEntries(this.deps.store, from.id, head.lastId)) {
      const problem = walk.next(e);
      if (problem) return problem.message;
    }
    // The walk started at `from`, not at the base: with nothing after it, `from` must be the head's end.
    return walk.end({ ...head, baseId: from.id, baseHash: from.hash })?.message ?? null;
  }

  /** Signs and publishes the head when it moved since the last checkpoint; returns the new one, or null. */
  checkpoint(): Promise<AuditCheckpoint | null> {
    const run = this.busy.then(() => this.make());
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** Checkpoints every `everyMs` (failures are logged and tried at the next tick). */
  start(): void {
    this.timer = setInterval(() => {
      this.checkpoint().catch((err: unknown) => this.deps.logger.error(`audit checkpoint failed: ${errorMessage(err)}`));
    }, this.deps.everyMs);
    this.timer.unref();
  }

  /** Stops the timer and makes a last checkpoint, so a clean stop leaves the head signed. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.checkpoint().catch((err: unknown) => this.deps.logger.error(`audit checkpoint at shutdown failed: ${errorMessage(err)}`));
  }

  private async make(): Promise<AuditCheckpoint | null> {
    // The file is the record of what was signed: the next one continues it, whoever wrote the last.
    this.last ??= readCheckpointFile(this.deps.file).at(-1) ?? null;
    const head: AuditHead | null = await this.deps.store.auditHead();
    if (head === null || (this.last !== null && head.lastId === this.last.eventId && head.lastHash === this.last.hash)) return null;
    const c = signCheckpoint(
      {
        seq: (this.last?.seq ?? 0) + 1,
        at: this.deps.clock().toISOString(),
        eventId: head.lastId,
        hash: head.lastHash,
        baseId: head.baseId,
        prev: this.last?.sig ?? null,
      },
      this.deps.key,
    );
    appendCheckpoint(this.deps.file, c);
    this.last = c;
    this.deps.logger.info(`audit checkpoint ${c.seq}: event ${c.eventId} has hash ${c.hash} (key ${c.keyId})`, { checkpoint: c });
    await this.deps.publish?.(c).catch((err: unknown) => this.deps.logger.warn(`publishing audit checkpoint ${c.seq} failed: ${errorMessage(err)}`));
    return c;
  }
}
