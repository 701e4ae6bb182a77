import type { z } from 'zod';
import { playbookSchema, type PlaybookSpec } from './schema.js';

/**
 * What is left of a playbook once its schema errors are taken out, so that the cross-reference
 * pass (compile.ts) can report the rest in the same run: a bad duration must not hide an unknown
 * template name and a bad regex until it is fixed. Each value the schema refuses is removed, or
 * where the document needs one (a step, a param, a required key), replaced by a placeholder that
 * passes; the caller drops whatever compile then says about those paths. Nothing repaired here
 * is ever used as a playbook: it only feeds the error report.
 */

type Path = readonly (string | number)[];
type Issue = z.core.$ZodIssue;

/** A schema-valid spec made from the document, and the paths that were removed or replaced. */
export interface Repaired {
  readonly spec: PlaybookSpec;
  readonly repaired: readonly Path[];
}

const STEP_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const ROUNDS = 8;

/** Repairs `doc` until the schema passes; null when it cannot (the document's root is unusable). */
export function repairForCompile(doc: unknown, issues: readonly Issue[]): Repaired | null {
  if (!isObject(doc)) return null;
  const current = structuredClone(doc);
  const repaired: Path[] = [];
  const removed = new Set<string>();
  let pending = issues;
  for (let round = 0; round < ROUNDS; round++) {
    for (const issue of pending) {
      const base = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...base, k]) : [base];
      for (const p of paths) {
        const fixed = fix(current, p, removed);
        if (fixed === null) return null;
        repaired.push(fixed);
      }
    }
    const again = playbookSchema.safeParse(current);
    if (again.success) return { spec: again.data, repaired };
    pending = again.error.issues;
  }
  return null;
}

/** True when `path` is `prefix` or lies under it. */
export function isUnder(path: Path, prefix: Path): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => path[i] === p);
}

/**
 * Takes the value at `p` out of the way: deleted from its object the first time; when the schema
 * complains about the same place again (it was required), the nearest container that can stand a
 * placeholder is replaced instead. Returns the path repaired, or null when only the root is left.
 */
function fix(doc: Record<string, unknown>, p: Path, removed: Set<string>): Path | null {
  const placeholder = placeholderFor(doc, p, removed);
  if (placeholder !== undefined) {
    set(doc, placeholder.path, placeholder.value);
    return placeholder.path;
  }
  const key = JSON.stringify(p);
  const parent = get(doc, p.slice(0, -1));
  const last = p[p.length - 1];
  if (p.length > 0 && !removed.has(key) && isObject(parent) && typeof last === 'string') {
    delete parent[last];
    removed.add(key);
    return p;
  }
  return p.length <= 1 ? null : fix(doc, p.slice(0, -1), removed);
}

/** A value that keeps the document's shape where removing one would not do. */
function placeholderFor(doc: Record<string, unknown>, p: Path, removed: Set<string>): { path: Path; value: unknown } | undefined {
  const [head, second] = p;
  if (p.length === 1 && head === 'name') return { path: p, value: 'placeholder' };
  if (head === 'match' && (p.length === 1 || removed.has(JSON.stringify(p)))) return { path: ['match'], value: { alertname: 'placeholder' } };
  if ((head === 'steps' || head === 'onFailure') && p.length === 1) return { path: p, value: head === 'steps' ? [{ wait: '0s' }] : [] };
  if ((head === 'steps' || head === 'onFailure') && typeof second === 'number' && (p.length === 2 || removed.has(JSON.stringify(p)))) {
    const name = (get(doc, [head, second]) as Record<string, unknown> | undefined)?.['name'];
    return { path: [head, second], value: { ...(typeof name === 'string' && STEP_NAME.test(name) ? { name } : {}), wait: '0s' } };
  }
  if (head === 'params' && p.length === 1) return { path: p, value: {} };
  if (head === 'params' && typeof second === 'string' && p.length > 2 && removed.has(JSON.stringify(p))) {
    return { path: ['params', second], value: { from: 'labels.placeholder', pattern: '[\\s\\S]*' } };
  }
  // An element of a list of plain values (a matcher, an argv element, an approver): a valid one.
  const parent = get(doc, p.slice(0, -1));
  if (Array.isArray(parent) && typeof p[p.length - 1] === 'number' && !isObject(parent[p[p.length - 1] as number])) {
    const list = p[p.length - 2];
    if (list === 'matchers') return { path: p, value: 'alertname="placeholder"' };
    if (list === 'expectStatus' || list === 'status') return { path: p, value: 200 };
    return { path: p, value: 'placeholder' };
  }
  return undefined;
}

function get(doc: unknown, p: Path): unknown {
  let node = doc;
  for (const segment of p) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isObject(node) && typeof segment === 'string') node = node[segment];
    else return undefined;
  }
  return node;
}

function set(doc: Record<string, unknown>, p: Path, value: unknown): void {
  const parent = get(doc, p.slice(0, -1));
  const last = p[p.length - 1];
  if (Array.isArray(parent) && typeof last === 'number') parent[last] = value;
  else if (isObject(parent) && typeof last === 'string') parent[last] = value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
