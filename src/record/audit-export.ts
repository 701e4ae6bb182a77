import type { Writable } from 'node:stream';
import type { ChainEntry } from '../domain/audit-chain.js';

/** What an export wrote. */
export interface ExportSummary {
  readonly count: number;
  readonly first: { readonly id: number; readonly prevHash: string } | null;
  readonly last: { readonly id: number; readonly hash: string } | null;
}

/**
 * One JSON Lines record: the event as the API shows it, plus prevHash and hash, so a file can be
 * verified on its own. The data is spliced in as stored (it is JSON text already), which keeps an
 * export of millions of events from parsing and re-serialising each one.
 */
export function exportLine(e: ChainEntry): string {
  const s = JSON.stringify;
  return (
    `{"id":${e.id},"at":${s(e.at)},"kind":${s(e.kind)},"runId":${s(e.runId)},"batchId":${s(e.batchId)},"playbook":${s(e.playbook)},` +
    `"fingerprint":${s(e.fingerprint)},"data":${e.dataJson},"prevHash":${s(e.prevHash)},"hash":${s(e.hash)}}\n`
  );
}

/** Writes are gathered to about this size: one write per event would cost more than the event. */
const CHUNK = 64 * 1024;

/**
 * Writes events as JSON Lines until `stop` says an event is past the range, honouring
 * backpressure: when the stream's buffer is full the walk waits for 'drain', so memory stays flat
 * however fast the database reads and however slow the reader of the output. Rejects with the
 * stream's error (EPIPE when the reader went away).
 */
export async function writeJsonLines(
  entries: Iterable<ChainEntry> | AsyncIterable<ChainEntry>,
  out: Writable,
  stop: (e: ChainEntry) => boolean = () => false,
): Promise<ExportSummary> {
  // In an object, so the closures' writes are visible to the checks below (and to the compiler).
  const state: { failed: Error | null } = { failed: null };
  const onError = (err: Error) => {
    state.failed ??= err;
  };
  out.on('error', onError);
  let count = 0;
  let first: ExportSummary['first'] = null;
  let last: ExportSummary['last'] = null;
  let buffer = '';
  const flush = async () => {
    if (state.failed) throw state.failed;
    const text = buffer;
    buffer = '';
    if (!out.write(text)) {
      await new Promise<void>((resolve, reject) => {
        const done = () => {
          out.off('drain', done);
          out.off('error', done);
          if (state.failed) reject(state.failed);
          else resolve();
        };
        out.on('drain', done);
        out.on('error', done);
      });
    }
  };
  try {
    for await (const e of entries) {
      if (stop(e)) break;
      first ??= { id: e.id, prevHash: e.prevHash };
      last = { id: e.id, hash: e.hash };
      count++;
      buffer += exportLine(e);
      if (buffer.length >= CHUNK) await flush();
    }
    if (buffer.length > 0) await flush();
    if (state.failed) throw state.failed;
  } finally {
    out.off('error', onError);
  }
  return { count, first, last };
}
