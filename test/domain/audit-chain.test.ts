// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { eventHash, GENESIS_HASH, hashMatches, verifyChain, type AuditHead, type ChainEntry } from '../../src/domain/audit-chain.js';
import { canonicalJson } from '../../src/domain/canonical-json.js';

/** A chain of n events, ids from baseId + 1, as a store writes it. */
function chain(n: number, base = { id: 0, hash: GENESIS_HASH }): ChainEntry[] {
  const out: ChainEntry[] = [];
  let prevHash = base.hash;
  for (let i = 1; i <= n; i++) {
    const id = base.id + i;
    const fields = {
      id,
      at: `2026-11-28T21:00:${String(i % 60).padStart(2, '0')}.000Z`,
      kind: 'decision' as const,
      runId: `r_${id}`,
      batchId: null,
      playbook: 'rollback',
      fingerprint: 'fp',
      prevHash,
    };
    const data = { n: id, reason: 'ok' };
    const hash = eventHash({ ...fields, data });
    out.push({ ...fields, dataJson: canonicalJson(data), hash });
    prevHash = hash;
  }
  return out;
}

const headOf = (entries: ChainEntry[], base = { id: 0, hash: GENESIS_HASH }): AuditHead => {
  const last = entries[entries.length - 1];
  return { baseId: base.id, baseHash: base.hash, lastId: last?.id ?? base.id, lastHash: last?.hash ?? base.hash };
};

/** Replaces entry i (0-based) with changes, keeping its stored hashes (an edit by SQL). */
function edit(entries: ChainEntry[], i: number, change: Partial<ChainEntry>): ChainEntry[] {
  return entries.map((e, j) => (j === i ? { ...e, ...change } : e));
}

describe('the hash of an event', () => {
  test('is sha256 over the canonical JSON of its fields and prevHash (what a third party recomputes)', () => {
    const e = {
      id: 7,
      at: '2026-11-28T21:13:00.000Z',
      kind: 'paused' as const,
      runId: null,
      batchId: 'b_1',
      playbook: null,
      fingerprint: null,
      data: { until: 'x', by: 'me' },
      prevHash: GENESIS_HASH,
    };
    const expected = createHash('sha256').update(canonicalJson(e)).digest('hex');
    assert.equal(eventHash(e), expected);
  });

  test('a stored text that is not canonical (an event from before the chain) still matches, and a changed one does not', () => {
    const e = {
      id: 1,
      at: 't',
      kind: 'paused' as const,
      runId: null,
      batchId: null,
      playbook: null,
      fingerprint: null,
      data: { b: 1, a: 2 },
      prevHash: GENESIS_HASH,
    };
    const hash = eventHash(e);
    const entry: ChainEntry = { ...e, dataJson: '{"b":1,"a":2}', hash };
    assert.equal(hashMatches(entry), true);
    assert.equal(hashMatches({ ...entry, dataJson: '{"b":1,"a":3}' }), false);
    assert.equal(hashMatches({ ...entry, dataJson: 'not json' }), false);
    assert.equal(hashMatches({ ...entry, id: 2 }), false, 'the id is part of what is hashed');
  });
});

describe('verifyChain names the first problem', () => {
  const intact = chain(10);
  const db = (entries: ChainEntry[], head: AuditHead | null = headOf(intact)) => verifyChain(entries, { head, snapshot: true });

  test('an intact chain: the count and the last hash', async () => {
    const v = await db(intact);
    assert.equal(v.problem, null);
    assert.equal(v.count, 10);
    assert.deepEqual(v.last, { id: 10, at: intact[9]?.at, hash: intact[9]?.hash });
  });

  test('an empty chain whose head says so is intact', async () => {
    const v = await db([], headOf([]));
    assert.equal(v.problem, null);
    assert.equal(v.count, 0);
  });

  const cases: [string, ChainEntry[], AuditHead | null, RegExp, number][] = [
    [
      'altered data',
      edit(intact, 3, { dataJson: '{"n":4,"reason":"forged"}' }),
      headOf(intact),
      /^event 4 \(decision, at \S+\) was altered: its content does not match its hash/,
      3,
    ],
    ['altered kind', edit(intact, 0, { kind: 'resumed' }), headOf(intact), /^event 1 \(resumed, at \S+\) was altered/, 0],
    ['one removed', intact.filter((e) => e.id !== 5), headOf(intact), /^an event between 4 and 6 is missing \(event 5\)$/, 4],
    ['three removed', intact.filter((e) => e.id < 4 || e.id > 6), headOf(intact), /^3 events between 3 and 7 are missing \(events 4–6\)$/, 3],
    [
      'the first removed',
      intact.slice(2),
      headOf(intact),
      /^the first 2 events are missing \(events 1–2\): the chain should start at 1, the first event left is 3$/,
      0,
    ],
    ['the tail cut off', intact.slice(0, 7), headOf(intact), /^the last 3 event\(s\) are missing: the chain ends at event 7, the head says 10$/, 7],
    ['everything removed', [], headOf(intact), /^all 10 event\(s\) are missing/, 0],
    [
      'an event added beyond the head',
      [...intact, ...chain(11).slice(10)],
      headOf(intact),
      /^event 11 \(decision, at \S+\) is beyond the head \(event 10\): it was added outside remediator$/,
      10,
    ],
    ['the head rewritten', intact, { ...headOf(intact), lastHash: 'f'.repeat(64) }, /^the head does not match event 10/, 10],
    ['the head removed', intact, null, /^the audit head \(table audit_head\) is missing/, 10],
  ];
  for (const [name, entries, head, message, checked] of cases) {
    test(name, async () => {
      const v = await db(entries, head);
      assert.match(v.problem?.message ?? 'no problem found', message);
      assert.equal(v.count, checked, 'events checked before the problem');
    });
  }

  test('two events swapped (contents moved, ids kept): the first is named', async () => {
    const swapped = intact.map((e, i) => (i === 2 ? { ...intact[6], id: 3 } : i === 6 ? { ...intact[2], id: 7 } : e)) as ChainEntry[];
    assert.match((await db(swapped)).problem?.message ?? '', /^event 3 \(decision, at \S+\) was altered/);
  });

  test('an event edited and rehashed by someone who knows the algorithm breaks the link to the next', async () => {
    const forged = { ...intact[3], dataJson: '{"n":4,"reason":"forged"}' } as ChainEntry;
    const rehashed = { ...forged, hash: eventHash({ ...forged, data: JSON.parse(forged.dataJson) as Record<string, unknown> }) };
    const v = await db(edit(intact, 3, rehashed));
    assert.match(
      v.problem?.message ?? '',
      /^the chain breaks between event 4 and event 5: event 5 was written after a different event 4 \(event 4 \(decision, at \S+\) was replaced and rehashed/,
    );
  });

  test('a chain that starts after a cut (retention) verifies from the hash kept at the cut', async () => {
    const full = chain(10);
    const cut = full[3] as ChainEntry;
    const rest = full.slice(4);
    const base = { id: cut.id, hash: cut.hash };
    assert.equal((await db(rest, headOf(rest, base))).problem, null);
    assert.match(
      (await db(rest, headOf(rest, { id: cut.id, hash: GENESIS_HASH }))).problem?.message ?? '',
      /^event 5 .* does not start the chain: its prev_hash is not the hash recorded for event 4/,
    );
  });

  test('a file: the first entry is the anchor, taken on trust; lines are named', async () => {
    const mid = chain(10)
      .slice(4)
      .map((e, i) => ({ ...e, line: i + 1 }));
    const v = await verifyChain(mid, null);
    assert.equal(v.problem, null);
    assert.deepEqual(v.first, { id: 5, prevHash: mid[0]?.prevHash });
    const dropped = mid.filter((e) => e.id !== 7).map((e, i) => ({ ...e, line: i + 1 }));
    assert.match((await verifyChain(dropped, null)).problem?.message ?? '', /^line 3: an event between 6 and 8 is missing \(event 7\)$/);
    const repeated = [...mid.slice(0, 3), { ...mid[1], line: 4 } as ChainEntry];
    assert.match((await verifyChain(repeated, null)).problem?.message ?? '', /^line 4: event 6 .* is out of order: expected event 8$/);
  });
});
