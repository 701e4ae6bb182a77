/**
 * Data-only templates: "{{ params.namespace }}" and nothing else. No expressions, filters or
 * function calls run inside them, so a label value can never become code. A template is parsed
 * once into literal and reference parts and rendered in a single pass; a substituted value is
 * never looked at again, so a value that itself reads "{{ params.y }}" stays literal text.
 */

/** One piece of a parsed template. */
export type TemplatePart = { kind: 'text'; text: string } | { kind: 'ref'; path: readonly string[]; source: string };

/** A parsed template. */
export interface Template {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
}

/** Raised for text that is not a valid template; the message says how to fix it. */
export class TemplateSyntaxError extends Error {}

const SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Parses template text into parts. */
export function parseTemplate(source: string): Template {
  const parts: TemplatePart[] = [];
  let rest = source;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    if (open === -1) {
      parts.push({ kind: 'text', text: rest });
      break;
    }
    if (open > 0) parts.push({ kind: 'text', text: rest.slice(0, open) });
    const close = rest.indexOf('}}', open + 2);
    if (close === -1) {
      throw new TemplateSyntaxError(`"{{" without a closing "}}" in ${JSON.stringify(source)}: close it, e.g. {{ params.name }}`);
    }
    const inner = rest.slice(open + 2, close).trim();
    const path = inner.split('.');
    if (inner === '' || !path.every((segment) => SEGMENT.test(segment))) {
      throw new TemplateSyntaxError(
        `"{{ ${inner} }}" in ${JSON.stringify(source)} is not a name: templates only substitute names like ` +
          '{{ params.namespace }} or {{ labels.service }}; expressions, filters and pipes are not supported',
      );
    }
    parts.push({ kind: 'ref', path, source: rest.slice(open, close + 2) });
    rest = rest.slice(close + 2);
  }
  return { source, parts };
}

/** The dotted names a template refers to. */
export function templateRefs(template: Template): string[][] {
  return template.parts.filter((p) => p.kind === 'ref').map((p) => [...(p as { path: readonly string[] }).path]);
}

/**
 * Looks up a reference. Returns a string to substitute, or `undefined` when the name has no value
 * (the renderer then fails), or `null` when the value is only known later (e.g. steps.x.stdout
 * while rendering a plan), in which case the reference is kept as written.
 */
export type Resolve = (path: readonly string[]) => string | null | undefined;

/** The result of rendering: the text, and whether some references are only known later. */
export interface Rendered {
  readonly text: string;
  readonly deferred: boolean;
}

/** Raised when a reference has no value at render time; `path` names it (e.g. ["secrets", "TOKEN"]). */
export class TemplateRenderError extends Error {
  constructor(
    readonly path: readonly string[],
    readonly reference: string,
  ) {
    super(`${reference} has no value`);
  }
}

/** Renders a parsed template in one pass. */
export function renderTemplate(template: Template, resolve: Resolve): Rendered {
  let text = '';
  let deferred = false;
  for (const part of template.parts) {
    if (part.kind === 'text') {
      text += part.text;
      continue;
    }
    const value = resolve(part.path);
    if (value === undefined) {
      throw new TemplateRenderError(part.path, part.source);
    }
    if (value === null) {
      deferred = true;
      text += part.source;
    } else {
      text += value;
    }
  }
  return { text, deferred };
}

const cache = new Map<string, Template>();

/** Parses with a small cache: playbooks render the same few templates for every alert. */
export function compileTemplate(source: string): Template {
  let template = cache.get(source);
  if (template === undefined) {
    template = parseTemplate(source);
    if (cache.size > 10_000) cache.clear();
    cache.set(source, template);
  }
  return template;
}
