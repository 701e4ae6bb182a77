import type { z } from 'zod';

/**
 * What a strict schema allows at a path, for the "did you mean" of an unknown key: `readonly:`
 * is `readOnly:` misspelt, and a message that says so is fixed in a second. Read from the zod
 * schema itself, so a new key is suggested without a second list to keep in step.
 */

type Node = { readonly def?: Record<string, unknown>; readonly shape?: Record<string, unknown>; readonly element?: unknown };

/** The keys an object schema at `path` accepts; empty when the path leads to no object. */
export function keysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let nodes: Node[] = [schema as unknown as Node];
  for (const segment of path) nodes = nodes.flatMap((n) => child(unwrap(n), segment));
  return [...new Set(nodes.map(unwrap).flatMap((n) => (n.shape ? Object.keys(n.shape) : [])))];
}

/** The schema under optional, default, prefault, pipes and unions (every option of a union). */
function unwrap(node: Node): Node {
  let n = node;
  for (let i = 0; i < 20; i++) {
    const def = n.def ?? {};
    const inner = (def['innerType'] ?? (def['type'] === 'pipe' ? def['in'] : undefined)) as Node | undefined;
    if (inner === undefined) return n;
    n = inner;
  }
  return n;
}

function child(node: Node, segment: string | number): Node[] {
  const def = node.def ?? {};
  if (def['type'] === 'union') return ((def['options'] as Node[] | undefined) ?? []).flatMap((o) => child(unwrap(o), segment));
  if (typeof segment === 'number') return def['type'] === 'array' ? [def['element'] as Node] : [];
  if (node.shape) return segment in node.shape ? [node.shape[segment] as Node] : [];
  if (def['type'] === 'record') return [def['valueType'] as Node];
  return [];
}

/**
 * The known key a misspelt one most likely meant: the same but for case, or at most one edit
 * away (two for longer keys), a swap of neighbours counting as one. Null when none is that close
 * or two are equally close.
 */
export function nearMiss(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  const sameCase = known.filter((k) => k.toLowerCase() === lower);
  if (sameCase.length === 1) return sameCase[0] as string;
  const limit = key.length >= 6 ? 2 : 1;
  let best: string | null = null;
  let bestDistance = limit + 1;
  let tie = false;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
      tie = false;
    } else if (d === bestDistance) tie = true;
  }
  return best !== null && !tie ? best : null;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => (rows[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = d;
    }
  }
  return at(a.length, b.length);
}
