import { verifyChain, type ChainEntry, type ChainVerdict } from '../domain/audit-chain.js';
import { canonicalJson } from '../domain/canonical-json.js';
import type { Store } from '../domain/store.js';

/**
 * Verifies the chain through the Store interface, page by page — what a PostgreSQL deployment
 * will use, and what the contract tests check on every store. The head is read first and the walk
 * stops at its last id: without one snapshot around the walk, events appended meanwhile belong to
 * a later head and are left for the next verify.
 */
export async function verifyStoreChain(
  store: Pick<Store, 'auditHead' | 'auditEvents'>,
  pageSize = 1000,
  observe?: (e: ChainEntry) => void,
): Promise<ChainVerdict> {
  const head = await store.auditHead();
  return verifyChain(observed(storeChainEntries(store, head?.baseId ?? 0, head?.lastId ?? Number.MAX_SAFE_INTEGER, pageSize), observe), {
    head,
    snapshot: false,
  });
}

/** The entries, each shown to `observe` as the walk reads it (checkpoints compare hashes this way). */
export async function* observed(entries: AsyncIterable<ChainEntry> | Iterable<ChainEntry>, observe?: (e: ChainEntry) => void): AsyncGenerator<ChainEntry> {
  for await (const e of entries) {
    observe?.(e);
    yield e;
  }
}

/** The chain's events with afterId < id ≤ throughId, in id order, read a page at a time (constant memory). */
export async function* storeChainEntries(store: Pick<Store, 'auditEvents'>, afterId: number, throughId: number, limit = 1000): AsyncGenerator<ChainEntry> {
  let after = afterId;
  for (;;) {
    const page = await store.auditEvents({ afterId: after, throughId, limit });
    for (const { data, ...rest } of page) yield { ...rest, dataJson: canonicalJson(data) };
    const last = page[page.length - 1];
    if (last === undefined || page.length < limit) return;
    after = last.id;
  }
}
