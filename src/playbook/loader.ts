import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import type { Playbook } from '../domain/playbook.js';
import { compilePlaybook } from './compile.js';
import { playbookSchema } from './schema.js';

/**
 * Reads a directory of playbooks. Every file is checked and every problem reported, with the file,
 * the YAML path and the line, so `remediator validate` shows an author all there is to fix at once.
 */

/** A problem in one playbook file. */
export interface LoadError {
  readonly file: string;
  readonly path: string;
  readonly line: number | null;
  readonly column: number | null;
  readonly message: string;
}

/** The outcome of loading: all playbooks, or the errors. A set with any error is not used. */
export interface LoadResult {
  readonly playbooks: Playbook[];
  readonly errors: LoadError[];
  /** Files read, relative to the directory, with their content hashes. */
  readonly files: { file: string; hash: string }[];
}

/** Formats a load error as "file:line:col: path: message". */
export function formatLoadError(e: LoadError): string {
  const where = e.line === null ? e.file : `${e.file}:${e.line}:${e.column ?? 1}`;
  return `${where}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

/** A playbook file, by its path relative to the playbooks directory: *.yaml or *.yml, no hidden part. */
export function isPlaybookFile(relative: string): boolean {
  return /\.ya?ml$/.test(relative) && !relative.split(path.sep).some((part) => part.startsWith('.'));
}

/**
 * Loads every *.yaml / *.yml file under `dir` (recursively, in name order). Hidden files and
 * directories are skipped: a Kubernetes ConfigMap volume keeps a second copy of every file under
 * `..<timestamp>/` (linked as `..data`), and editors leave `.#x.yaml` behind.
 */
export async function loadPlaybooks(dir: string): Promise<LoadResult> {
  let names: string[];
  try {
    names = (await readdir(dir, { recursive: true })).filter(isPlaybookFile).sort();
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'directory does not exist' : (err as Error).message;
    return {
      playbooks: [],
      files: [],
      errors: [{ file: dir, path: '', line: null, column: null, message: `cannot read playbooks: ${reason}; check the playbooks directory you gave` }],
    };
  }
  const playbooks: Playbook[] = [];
  const errors: LoadError[] = [];
  const files: { file: string; hash: string }[] = [];
  const byName = new Map<string, string>();
  for (const name of names) {
    const file = name.split(path.sep).join('/');
    const text = await readFile(path.join(dir, name), 'utf8');
    const hash = createHash('sha256').update(text).digest('hex');
    files.push({ file, hash });
    const result = parsePlaybook(text, file, hash);
    errors.push(...result.errors);
    if (result.playbook) {
      const other = byName.get(result.playbook.name);
      if (other !== undefined) {
        errors.push({
          file,
          path: 'name',
          line: null,
          column: null,
          message: `playbook name "${result.playbook.name}" is also used by ${other}: names must be unique`,
        });
      } else {
        byName.set(result.playbook.name, file);
        playbooks.push(result.playbook);
      }
    }
  }
  return { playbooks, errors, files };
}

/** Parses and checks one playbook's text. */
export function parsePlaybook(
  text: string,
  file: string,
  hash = createHash('sha256').update(text).digest('hex'),
): { playbook: Playbook | null; errors: LoadError[] } {
  const lineCounter = new LineCounter();
  const parsedDocs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const docs: Document[] = Array.isArray(parsedDocs) ? parsedDocs : [];
  const doc = docs[0];
  const at = (offset: number | undefined): { line: number | null; column: number | null } => {
    if (offset === undefined) return { line: null, column: null };
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (doc === undefined || doc.contents === null) {
    return { playbook: null, errors: [{ file, path: '', line: null, column: null, message: 'file is empty: a playbook needs name, match and steps' }] };
  }
  if (docs.length > 1) {
    return {
      playbook: null,
      errors: [{ file, path: '', ...at(docs[1]?.range?.[0]), message: 'one playbook per file: move the second document into a file of its own' }],
    };
  }
  if (doc.errors.length > 0) {
    return {
      playbook: null,
      errors: doc.errors.map((e) => ({
        file,
        path: '',
        line: e.linePos?.[0]?.line ?? null,
        column: e.linePos?.[0]?.col ?? null,
        message: `YAML: ${e.message.split('\n')[0]}`,
      })),
    };
  }
  const parsed = playbookSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    return {
      playbook: null,
      errors: parsed.error.issues.flatMap((issue) => {
        const base = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
        return keys.map((key) => {
          const p = key === undefined ? base : [...base, key];
          const message =
            issue.code === 'unrecognized_keys'
              ? `unknown key "${key}": check its spelling against the playbook format`
              : describeIssue(issue.message, issue.code, p);
          return { file, path: formatPath(p), ...at(offsetOf(doc, p, key !== undefined)), message };
        });
      }),
    };
  }
  const compiled = compilePlaybook(parsed.data, file, hash);
  if (compiled.playbook === null) {
    return {
      playbook: null,
      errors: compiled.issues.map((i) => ({ file, path: formatPath(i.path), ...at(offsetOf(doc, i.path, false)), message: i.message })),
    };
  }
  return { playbook: compiled.playbook, errors: [] };
}

function describeIssue(message: string, code: string, p: readonly (string | number)[]): string {
  if (code === 'invalid_type' && /received undefined/.test(message)) return `missing: add ${String(p[p.length - 1] ?? 'it')}`;
  return message;
}

/** "steps[1].run[0]" from ['steps', 1, 'run', 0]. */
export function formatPath(p: readonly (string | number)[]): string {
  return p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
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
