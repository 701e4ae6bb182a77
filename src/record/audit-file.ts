import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ChainWalk, type ChainEntry, type ChainVerdict } from '../domain/audit-chain.js';
import { canonicalJson } from '../domain/canonical-json.js';

const HASH = /^[0-9a-f]{64}$/;

/**
 * Verifies an export file on its own, line by line in constant memory: every line's hash
 * recomputed, every prevHash equal to the line before's hash, ids consecutive. The first line's
 * prevHash is the anchor and is taken on trust (a filtered export starts mid-chain); nothing in a
 * file can show lines missing after its last one.
 */
export async function verifyExportFile(file: string): Promise<ChainVerdict> {
  const walk = new ChainWalk(null);
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      if (text === '') continue;
      const entry = parseExportLine(text, n);
      if (typeof entry === 'string') return walk.verdict({ kind: 'unreadable', eventId: null, message: `line ${n}: ${entry}` });
      const problem = walk.next(entry);
      if (problem) return walk.verdict(problem);
    }
  } finally {
    lines.close();
  }
  return walk.verdict(null);
}

/** A line of an export as a walk checks it, or why it is not one. */
export function parseExportLine(text: string, line: number): ChainEntry | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an exported event (a JSON object per line)';
  const o = v as Record<string, unknown>;
  const bad = (field: string, what: string) => `not an exported event: "${field}" must be ${what}`;
  if (!Number.isSafeInteger(o['id']) || (o['id'] as number) < 1) return bad('id', 'a positive integer');
  for (const f of ['at', 'kind'] as const) if (typeof o[f] !== 'string') return bad(f, 'a string');
  for (const f of ['runId', 'batchId', 'playbook', 'fingerprint'] as const) if (o[f] !== null && typeof o[f] !== 'string') return bad(f, 'a string or null');
  for (const f of ['prevHash', 'hash'] as const) if (typeof o[f] !== 'string' || !HASH.test(o[f])) return bad(f, '64 lowercase hex digits');
  if (!('data' in o)) return bad('data', 'present');
  return {
    id: o['id'] as number,
    at: o['at'] as string,
    kind: o['kind'] as ChainEntry['kind'],
    runId: o['runId'] as string | null,
    batchId: o['batchId'] as string | null,
    playbook: o['playbook'] as string | null,
    fingerprint: o['fingerprint'] as string | null,
    // Written back canonically: exactly the text the hash covers, whatever the spacing of the line.
    dataJson: canonicalJson(o['data']),
    prevHash: o['prevHash'] as string,
    hash: o['hash'] as string,
    line,
  };
}
