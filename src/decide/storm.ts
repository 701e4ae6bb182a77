import type { StormRule } from '../domain/decision.js';

/** What the storm window held before a slice: distinct alert instances, and up to `rule.targets` of its distinct target keys. */
export interface StormWindow {
  readonly instances: number;
  readonly targets: readonly string[];
}

/**
 * Where in a slice's new alert instances (in the order they are decided) the storm opens: the
 * index of the first one that makes more than `rule.alerts` instances across at least
 * `rule.targets` target keys in the window, or -1 when none does. The instances before it are
 * decided as usual; it and every one after it are part of the storm. Pure.
 */
export function stormCrossing(window: StormWindow, added: readonly { readonly targetKey: string }[], rule: StormRule): number {
  let instances = window.instances;
  const targets = new Set(window.targets);
  for (let i = 0; i < added.length; i++) {
    instances++;
    if (targets.size < rule.targets) targets.add((added[i] as { targetKey: string }).targetKey);
    if (instances > rule.alerts && targets.size >= rule.targets) return i;
  }
  return -1;
}

/** True once a storm whose last new alert came at `lastAlertAt` has been quiet for its cooldown. Pure. */
export function stormOver(lastAlertAt: Date, now: Date, rule: Pick<StormRule, 'cooldownMs'>): boolean {
  return now.getTime() - lastAlertAt.getTime() >= rule.cooldownMs;
}
