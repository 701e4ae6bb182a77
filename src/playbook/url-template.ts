import { TemplateRenderError, type Rendered, type Resolve, type Template } from './template.js';

/**
 * Templates that are URLs (an http step's url, a verify check's url). A substituted value is data
 * in one component of the URL and must not become syntax: `../../admin?x=1#` as a "fingerprint"
 * once turned `/api/alerts/{{ alert.fingerprint }}/silence` into `/admin`. So each value is
 * percent-encoded for where it stands — one path segment, one query value, the fragment — and a
 * value in the scheme or host (which choose where the request goes) is refused at validate time
 * unless it is a param checked against a pattern, and then may hold only host characters.
 */

/** Where in a URL a part of a template stands. */
export type UrlComponent = 'scheme' | 'authority' | 'path' | 'query' | 'fragment';

/** The component each reference of a URL template stands in, in order, read from the literal text before it. */
export function urlRefComponents(template: Template): { path: readonly string[]; component: UrlComponent }[] {
  const out: { path: readonly string[]; component: UrlComponent }[] = [];
  walk(template, (part, component) => {
    if (part.kind === 'ref') out.push({ path: part.path, component });
  });
  return out;
}

/** Raised when a value cannot stand where the URL template puts it. */
export class UrlValueError extends Error {}

/** Renders a URL template: each value encoded for its component (see the module comment). */
export function renderUrlTemplate(template: Template, resolve: Resolve): Rendered {
  let text = '';
  let deferred = false;
  let pathStart = -1;
  let pathEnd = -1;
  walk(template, (part, component, literal) => {
    if (component === 'path' && pathStart < 0) pathStart = text.length;
    if (component !== 'path' && pathStart >= 0 && pathEnd < 0 && component !== 'scheme' && component !== 'authority') pathEnd = text.length;
    if (part.kind === 'text') {
      text += literal;
      return;
    }
    const value = resolve(part.path);
    if (value === undefined) throw new TemplateRenderError(part.path, part.source);
    if (value === null) {
      deferred = true;
      text += part.source;
      return;
    }
    if (component === 'scheme' || component === 'authority') {
      if (!/^[A-Za-z0-9._~%:[\]-]*$/.test(value)) {
        throw new UrlValueError(
          `${part.source} stands in the URL's scheme or host, and ${JSON.stringify(value.slice(0, 80))} holds characters a host cannot have`,
        );
      }
      text += value;
    } else text += encodeURIComponent(value);
  });
  if (pathStart >= 0) {
    const path = text.slice(pathStart, pathEnd < 0 ? text.length : pathEnd);
    const dots = path.split('/').find((segment) => /^(\.|%2e){1,2}$/i.test(segment));
    if (dots !== undefined) {
      throw new UrlValueError(`the URL ${JSON.stringify(text.slice(0, 200))} has a "${dots}" path segment, which would move the request to another path`);
    }
  }
  return { text, deferred };
}

/**
 * Calls `visit` for every part of the template, literal text split where the component changes,
 * with the component it stands in. The literal text alone decides the components: a value never
 * moves what follows it to another component.
 */
function walk(template: Template, visit: (part: Template['parts'][number], component: UrlComponent, literal: string) => void): void {
  let component: UrlComponent = 'scheme';
  let seen = '';
  for (const part of template.parts) {
    if (part.kind === 'ref') {
      visit(part, component, '');
      seen += '\u0000';
      continue;
    }
    let piece = '';
    for (const ch of part.text) {
      const before: UrlComponent = component;
      seen += ch;
      if (component === 'scheme') {
        if (seen.endsWith('://')) component = 'authority';
        else if (ch === '?' || ch === '#') component = ch === '?' ? 'query' : 'fragment';
      } else if (component === 'authority') {
        if (ch === '/') component = 'path';
        else if (ch === '?') component = 'query';
        else if (ch === '#') component = 'fragment';
      } else if (component === 'path') {
        if (ch === '?') component = 'query';
        else if (ch === '#') component = 'fragment';
      } else if (component === 'query' && ch === '#') component = 'fragment';
      if (component !== before && piece !== '') {
        visit({ kind: 'text', text: piece }, before, piece);
        piece = '';
      }
      piece += ch;
    }
    if (piece !== '') visit({ kind: 'text', text: piece }, component, piece);
  }
}
