import { alertName, type Alert } from '../domain/alert.js';
import type { DecideSettings, StormRule, StormState } from '../domain/decision.js';
import type { StormRecord, StormSeen, StormStore } from '../domain/store.js';
import { prepare } from '../decide/prepare.js';
import { stormCrossing, stormOver } from '../decide/storm.js';
import { newId } from '../record/ids.js';
import type { PlaybookSet } from '../playbook/playbook-set.js';

/** What guards.storm needs of the pipeline. */
export interface StormSliceDeps {
  readonly store: StormStore;
  readonly playbooks: PlaybookSet;
  readonly settings: DecideSettings;
  readonly rule: StormRule;
  readonly clock: () => Date;
}

/** What one decision slice learnt of the storm. */
export interface StormSlice {
  /** The storm each of the slice's alert instances is part of, by instance key (absent: none). */
  readonly members: ReadonlyMap<string, StormState>;
  /** A storm this slice opened, grew or found over (told of after the slice commits). */
  readonly opened: StormRecord | null;
  readonly grew: StormRecord | null;
  readonly ended: StormRecord | null;
}

/**
 * guards.storm for one decision slice, inside its transaction (under the decision lock): the
 * slice's firing alerts that match a live playbook are recorded the first time they are seen; an
 * open storm whose cooldown passed ends; the new ones join the open storm, or open one at the
 * alert that crosses the thresholds (those before it are decided as usual, it and those after it
 * are the storm's). An alert seen before stays in the storm it was part of. Three to five store
 * calls per slice, none per alert (one more per ended storm a re-delivery belongs to).
 */
export async function stormSlice(alerts: readonly Alert[], deps: StormSliceDeps): Promise<StormSlice> {
  const { store, rule } = deps;
  const candidates = liveCandidates(alerts, deps);
  if (candidates.length === 0) return { members: new Map(), opened: null, grew: null, ended: null };
  const now = deps.clock();
  const at = now.toISOString();
  const since = new Date(now.getTime() - rule.withinMs);
  let window = await store.stormWindow({ since, targetsLimit: rule.targets });
  let ended: StormRecord | null = null;
  if (window.open !== null && stormOver(new Date(window.open.lastAlertAt), now, rule)) {
    ended = await store.endStorm({ at, quietSince: new Date(now.getTime() - rule.cooldownMs).toISOString() });
    window = await store.stormWindow({ since, targetsLimit: rule.targets });
  }
  const open = window.open;
  const seen = await store.recordStormSeen(candidates, open?.id ?? null);
  const fresh = new Set(seen.fresh);
  const added = candidates.filter((c) => fresh.has(c.instanceKey));
  // An alert of a storm stays the storm's, even once the storm has ended: its re-delivery must not
  // start the live run the storm held back or suppressed.
  const members = await earlierMembers(candidates, seen.stormOf, open, deps);
  if (open !== null) {
    const grew = added.length > 0 ? await store.growStorm(open.id, { at, seen: added }) : null;
    const state = stormState(grew ?? open, rule);
    for (const c of added) members.set(c.instanceKey, state);
    return { members, opened: null, grew, ended };
  }
  const crossing = stormCrossing(window, added, rule);
  if (crossing < 0) return { members, opened: null, grew: null, ended };
  const opened = await store.openStorm({ id: newId('s', now), at, since: since.toISOString() });
  // Only a storm opened outside the decision lock can be here first; its alerts are its own.
  const storm = opened ?? (await store.stormWindow({ since, targetsLimit: 1 })).open;
  if (storm === null) return { members, opened: null, grew: null, ended };
  const state = stormState(storm, rule);
  for (const c of added.slice(crossing)) members.set(c.instanceKey, state);
  return { members, opened, grew: null, ended };
}

/** The candidates seen before that belong to a storm (the open one or an ended one), with its state. */
async function earlierMembers(
  candidates: readonly StormSeen[],
  stormOf: ReadonlyMap<string, string>,
  open: StormRecord | null,
  deps: StormSliceDeps,
): Promise<Map<string, StormState>> {
  const members = new Map<string, StormState>();
  const states = new Map<string, StormState | null>();
  if (open !== null) states.set(open.id, stormState(open, deps.rule));
  for (const c of candidates) {
    const id = stormOf.get(c.instanceKey);
    if (id === undefined) continue;
    if (!states.has(id)) {
      const storm = await deps.store.getStorm(id);
      states.set(id, storm === null ? null : stormState(storm, deps.rule));
    }
    const state = states.get(id);
    if (state) members.set(c.instanceKey, state);
  }
  return members;
}

/** The slice's firing alerts that match a playbook whose run would be live, once per instance, in order. */
function liveCandidates(alerts: readonly Alert[], deps: StormSliceDeps): StormSeen[] {
  if (deps.settings.execution !== 'live') return [];
  const at = deps.clock().toISOString();
  const seen = new Map<string, StormSeen>();
  for (const alert of alerts) {
    if (alert.status !== 'firing') continue;
    const playbook = deps.playbooks.index.match(alert).find((p) => p.mode !== 'dry-run');
    if (playbook === undefined) continue;
    const prepared = prepare(alert, playbook);
    if (seen.has(prepared.instanceKey)) continue;
    seen.set(prepared.instanceKey, {
      instanceKey: prepared.instanceKey,
      targetKey: prepared.targetKey,
      playbook: playbook.name,
      alertname: alertName(alert),
      labels: alert.labels,
      generatorUrl: alert.generatorURL || null,
      at,
    });
  }
  return [...seen.values()];
}

function stormState(storm: StormRecord, rule: StormRule): StormState {
  return { id: storm.id, openedAt: new Date(storm.openedAt), alerts: storm.alerts, targets: storm.targets, action: rule.action };
}
