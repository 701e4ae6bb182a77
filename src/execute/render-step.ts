import type { Step } from '../domain/playbook.js';
import type { RenderedStep } from '../domain/run.js';
import { compileTemplate, renderTemplate, type Rendered, type Resolve } from '../playbook/template.js';
import { renderUrlTemplate } from '../playbook/url-template.js';
import type { TemplateText } from './steps/step-kind.js';
import { kindOf } from './steps/step-kinds.js';

/**
 * Renders a step's templates. Each templated string becomes exactly one string: an argv element
 * stays one argv element whatever the value holds (spaces, quotes, ";", "$(…)"), because no shell
 * ever sees it and the rendered text is never parsed again. `deferred`: some references are only
 * known later (planning, before earlier steps ran) and stay as written.
 */
export function renderStep(step: Step, resolve: Resolve): { rendered: RenderedStep; deferred: boolean } {
  let deferred = false;
  const rendered = (out: Rendered): string => {
    deferred ||= out.deferred;
    return out.text;
  };
  const text = (source: string): string => rendered(renderTemplate(compileTemplate(source), resolve));
  const deep = (value: unknown): unknown => {
    if (typeof value === 'string') return text(value);
    if (Array.isArray(value)) return value.map(deep);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deep(v)]));
    return value;
  };
  const t: TemplateText = {
    text,
    url: (source) => rendered(renderUrlTemplate(compileTemplate(source), resolve)),
    record: (r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, text(v)])),
    deep,
  };
  const out = kindOf(step).render(step, t);
  return { rendered: out, deferred };
}
