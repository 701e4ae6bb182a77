import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Playbook } from '../domain/playbook.js';
import { compilePlaybook, type PlaybookIssue } from './compile.js';
import { playbookSchema } from './schema.js';
import { isUnder, repairForCompile } from './schema-repair.js';
import { formatPath, formatSourceError, inFileOrder, readYamlSource, schemaErrors, type FileKind, type SourceError } from './yaml-source.js';

/**
 * Reads a directory of playbooks. Every file is checked and every problem reported, with the file,
 * the YAML path and the line, so `remediator validate` shows an author all there is to fix at once.
 */

/** A problem in one playbook file. */
export type LoadError = SourceError;

/** The outcome of loading: all playbooks, or the errors. A set with any error is not used. */
export interface LoadResult {
  readonly playbooks: Playbook[];
  readonly errors: LoadError[];
  /** Files read, relative to the directory, with their content hashes. */
  readonly files: { file: string; hash: string }[];
}

/** Formats a load error as "file:line:col: path: message". */
export const formatLoadError = formatSourceError;

export { formatPath };

/**
 * A playbook file, by its path relative to the playbooks directory: *.yaml or *.yml, no hidden
 * part, and not a playbook test (*.test.yaml, read by `remediator test`, kept beside the playbooks).
 */
export function isPlaybookFile(relative: string): boolean {
  return /\.ya?ml$/.test(relative) && !isPlaybookTestFile(relative) && !relative.split(path.sep).some((part) => part.startsWith('.'));
}

/** A playbook test file: *.test.yaml or *.test.yml. */
export function isPlaybookTestFile(relative: string): boolean {
  return /\.test\.ya?ml$/.test(relative);
}

/** Files read at once: each read waits on the disk (or the thread pool) far longer than it computes. */
const READ_AHEAD = 64;

/** The files' texts, in the names' order, read READ_AHEAD at a time rather than one after another. */
async function readAll(dir: string, names: readonly string[]): Promise<string[]> {
  const texts: string[] = [];
  for (let from = 0; from < names.length; from += READ_AHEAD) {
    texts.push(...(await Promise.all(names.slice(from, from + READ_AHEAD).map((n) => readFile(path.join(dir, n), 'utf8')))));
  }
  return texts;
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
  const texts = await readAll(dir, names);
  for (const [i, name] of names.entries()) {
    const file = name.split(path.sep).join('/');
    const text = texts[i] as string;
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

/** Where playbooks are read from: a directory or one file, with the name to show for it. */
export interface PlaybookSource {
  readonly path: string;
  readonly shown: string;
}

/**
 * Loads playbooks from directories and single files together, as `validate` takes them: every
 * error of every file, and names unique across all of them. A directory's files are named
 * relative to it (prefixed with the directory as shown when there are several sources).
 */
export async function loadPlaybookSources(sources: readonly PlaybookSource[]): Promise<LoadResult & { paths: ReadonlyMap<string, string> }> {
  const paths = new Map<string, string>();
  const playbooks: Playbook[] = [];
  const errors: LoadError[] = [];
  const files: { file: string; hash: string }[] = [];
  const byName = new Map<string, string>();
  for (const source of sources) {
    let isFile: boolean;
    try {
      isFile = (await stat(source.path)).isFile();
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message;
      errors.push({ file: source.shown, path: '', line: null, column: null, message: `cannot read playbooks: ${reason}` });
      continue;
    }
    const prefix = sources.length > 1 ? `${source.shown.replace(/\/+$/, '')}/` : '';
    const one = isFile ? await loadPlaybookFile(source.path, source.shown) : await loadPlaybooks(source.path);
    const shown = (file: string) => (isFile ? file : prefix + file);
    errors.push(...one.errors.map((e) => ({ ...e, file: e.file === source.path ? source.shown : shown(e.file) })));
    files.push(...one.files.map((f) => ({ ...f, file: shown(f.file) })));
    for (const f of one.files) paths.set(shown(f.file), isFile ? source.path : path.join(source.path, f.file));
    for (const p of one.playbooks) {
      const other = byName.get(p.name);
      if (other !== undefined) {
        errors.push({
          file: shown(p.file),
          path: 'name',
          line: null,
          column: null,
          message: `playbook name "${p.name}" is also used by ${other}: names must be unique`,
        });
        continue;
      }
      byName.set(p.name, shown(p.file));
      playbooks.push({ ...p, file: shown(p.file) });
    }
  }
  return { playbooks, errors, files, paths };
}

/** Loads one playbook file, named `shown` in what it reports. */
export async function loadPlaybookFile(file: string, shown: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file does not exist' : (err as Error).message;
    return { playbooks: [], files: [], errors: [{ file: shown, path: '', line: null, column: null, message: `cannot read playbook: ${reason}` }] };
  }
  const hash = createHash('sha256').update(text).digest('hex');
  const result = parsePlaybook(text, shown, hash);
  return { playbooks: result.playbook ? [result.playbook] : [], errors: result.errors, files: [{ file: shown, hash }] };
}

const PLAYBOOK: FileKind = { name: 'playbook', empty: 'a playbook needs name, match and steps' };

/** Parses and checks one playbook's text. */
export function parsePlaybook(
  text: string,
  file: string,
  hash = createHash('sha256').update(text).digest('hex'),
): { playbook: Playbook | null; errors: LoadError[] } {
  const read = readYamlSource(text, file, PLAYBOOK);
  if (read.errors) return { playbook: null, errors: read.errors };
  const { source } = read;
  const parsed = playbookSchema.safeParse(source.value);
  const located = (issues: readonly PlaybookIssue[]) => issues.map((i) => ({ file, path: formatPath(i.path), ...source.locate(i.path), message: i.message }));
  if (parsed.success) {
    const compiled = compilePlaybook(parsed.data, file, hash);
    if (compiled.playbook !== null) return { playbook: compiled.playbook, errors: [] };
    return { playbook: null, errors: inFileOrder(located(compiled.issues)) };
  }
  // The cross-reference errors too, in the same run: compile what is left once the values the
  // schema refused are out of the way, and keep what it says about the rest.
  const repaired = repairForCompile(source.value, parsed.error.issues);
  const more = repaired === null ? [] : compilePlaybook(repaired.spec, file, hash).issues.filter((i) => !repaired.repaired.some((r) => isUnder(i.path, r)));
  return { playbook: null, errors: inFileOrder([...schemaErrors(parsed.error.issues, source, file, playbookSchema, PLAYBOOK), ...located(more)]) };
}

/** The line and column of a YAML path in a playbook's text (of its nearest ancestor that exists). */
export function positionIn(text: string, p: readonly (string | number)[]): { line: number | null; column: number | null } {
  const read = readYamlSource(text, '', PLAYBOOK);
  return read.errors ? { line: null, column: null } : read.source.locate(p);
}
