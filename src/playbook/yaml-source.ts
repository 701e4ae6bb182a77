import { isMap, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { keysAt, nearMiss } from './schema-keys.js';

/**
 * One YAML document read for a strict schema, with every position kept: the files people write
 * (playbooks, playbook tests) report each problem as file:line:col and its YAML path.
 */

/** A problem in a file: where (line and column, when known), the YAML path, and what to do. */
export interface SourceError {
  readonly file: string;
  readonly path: string;
  readonly line: number | null;
  readonly column: number | null;
  readonly message: string;
}

/** A parsed document and the positions of its nodes. */
export interface YamlSource {
  readonly value: unknown;
  /** The line and column of the node at `path` (its key, with `wantKey`), or of its nearest ancestor. */
  locate(path: readonly (string | number)[], wantKey?: boolean): { line: number | null; column: number | null };
}

/** What a file holds, for messages: "playbook" ("one playbook per file"), and what it needs when empty. */
export interface FileKind {
  readonly name: string;
  readonly empty: string;
}

/** Parses `text` as exactly one YAML document (duplicate keys are errors, not silent overrides). */
export function readYamlSource(text: string, file: string, kind: FileKind): { source: YamlSource; errors?: undefined } | { errors: SourceError[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const docs: Document[] = Array.isArray(parsed) ? parsed : [];
  const doc = docs[0];
  const at = (offset: number | undefined): { line: number | null; column: number | null } => {
    if (offset === undefined) return { line: null, column: null };
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (doc === undefined || doc.contents === null) return { errors: [{ file, path: '', line: null, column: null, message: `file is empty: ${kind.empty}` }] };
  if (docs.length > 1) {
    return { errors: [{ file, path: '', ...at(docs[1]?.range?.[0]), message: `one ${kind.name} per file: move the second document into a file of its own` }] };
  }
  if (doc.errors.length > 0) {
    return {
      errors: doc.errors.map((e) => ({
        file,
        path: '',
        line: e.linePos?.[0]?.line ?? null,
        column: e.linePos?.[0]?.col ?? null,
        message: `YAML: ${e.message.split('\n')[0]}`,
      })),
    };
  }
  return { source: { value: doc.toJS() as unknown, locate: (p, wantKey = false) => at(offsetOf(doc, p, wantKey)) } };
}

/**
 * The errors of a failed parse, each at its place: an unknown key at the key (with the known key
 * it most likely misspells), a missing one at its parent, anything else at the value.
 */
export function schemaErrors(issues: readonly z.core.$ZodIssue[], source: YamlSource, file: string, schema: z.ZodType, kind: FileKind): SourceError[] {
  return issues.flatMap((issue) => {
    const base = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => {
      const p = key === undefined ? base : [...base, key];
      const message = key === undefined ? describeIssue(issue.message, issue.code, p) : unknownKey(key, keysAt(schema, base), kind);
      return { file, path: formatPath(p), ...source.locate(p, key !== undefined), message };
    });
  });
}

/** Errors by position in the file (those without one last), each once. */
export function inFileOrder<E extends SourceError>(errors: readonly E[]): E[] {
  const seen = new Set<string>();
  const unique = errors.filter((e) => {
    const key = `${e.path}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const rank = (e: SourceError) => (e.line === null ? Number.MAX_SAFE_INTEGER : e.line * 100_000 + (e.column ?? 0));
  return unique
    .map((e, i) => ({ e, i }))
    .sort((a, b) => rank(a.e) - rank(b.e) || a.i - b.i)
    .map(({ e }) => e);
}

/** Formats an error as "file:line:col: path: message". */
export function formatSourceError(e: SourceError): string {
  const where = e.line === null ? e.file : `${e.file}:${e.line}:${e.column ?? 1}`;
  return `${where}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

/** "steps[1].run[0]" from ['steps', 1, 'run', 0]. */
export function formatPath(p: readonly (string | number)[]): string {
  return p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** "unknown key", with the known key it most likely misspells. */
function unknownKey(key: string, known: readonly string[], kind: FileKind): string {
  const meant = nearMiss(key, known);
  return meant === null ? `unknown key "${key}": check its spelling against the ${kind.name} format` : `unknown key "${key}": did you mean ${meant}?`;
}

function describeIssue(message: string, code: string, p: readonly (string | number)[]): string {
  if (code === 'invalid_type' && /received undefined/.test(message)) return `missing: add ${String(p[p.length - 1] ?? 'it')}`;
  return message;
}

/** The source offset of the node at path, or of the nearest ancestor that exists. */
function offsetOf(doc: Document, p: readonly (string | number)[], wantKey: boolean): number | undefined {
  let node: Node | null | undefined = doc.contents;
  let offset = node?.range?.[0];
  for (const [i, segment] of p.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === segment);
      if (!pair) break;
      const last = i === p.length - 1;
      const target = (last && wantKey ? pair.key : (pair.value ?? pair.key)) as Node | null;
      node = target;
      offset = target?.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment] as Node | undefined;
      offset = node?.range?.[0] ?? offset;
    } else break;
  }
  return offset;
}
