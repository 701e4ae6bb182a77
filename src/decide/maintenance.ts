import type { LabelSet } from '../domain/alert.js';
import type { ActiveWindow, MaintenanceWindow } from '../domain/decision.js';
import { parseMatcher } from '../match/matcher.js';
import { parseCron } from './cron.js';

/**
 * Maintenance windows: a cron expression says when one starts, a duration how long it lasts.
 * While one is in force for an alert, runs are suppressed or forced to dry-run. Pure.
 */

/** A window as configured (guards.maintenance in the configuration file). */
export interface MaintenanceWindowSpec {
  readonly name: string;
  readonly cron: string;
  /** How long each window lasts, in milliseconds (the configuration parses "2h"). */
  readonly duration: number;
  readonly action: 'suppress' | 'dry-run';
  /** Alertmanager matchers; the window applies only to alerts whose labels match them all. */
  readonly matchers?: readonly string[] | undefined;
  /** IANA time zone the cron expression is read in; default UTC. */
  readonly timezone?: string | undefined;
}

/**
 * Compiles configured windows. Throws (CronSyntaxError, MatcherSyntaxError or Error) on a bad
 * one; the configuration schema has already reported those with their key, so this only fails
 * when called with unchecked input.
 */
export function compileWindows(specs: readonly MaintenanceWindowSpec[]): MaintenanceWindow[] {
  return specs.map((spec) => {
    const schedule = parseCron(spec.cron, spec.timezone ?? 'UTC');
    const durationMs = spec.duration;
    if (!Number.isFinite(durationMs) || durationMs <= 0)
      throw new Error(`maintenance window ${spec.name}: duration ${durationMs} ms is not a positive duration`);
    const matchers = (spec.matchers ?? []).map((m) => parseMatcher(m));
    return {
      name: spec.name,
      cron: spec.timezone && spec.timezone !== 'UTC' ? `${schedule.source} (${spec.timezone})` : schedule.source,
      durationMs,
      action: spec.action,
      matchers,
      lastStart: (now, withinMs) => schedule.lastStart(now, withinMs),
    };
  });
}

/**
 * The window in force at `now` for an alert with these labels, or null. When several are, one
 * that suppresses wins over one that forces a dry run (the stronger guard), then the first listed.
 */
export function activeWindow(windows: readonly MaintenanceWindow[], now: Date, labels: LabelSet): ActiveWindow | null {
  let found: ActiveWindow | null = null;
  for (const w of windows) {
    if (found !== null && (found.action === 'suppress' || w.action === 'dry-run')) continue;
    if (!w.matchers.every((m) => m.matches(labels))) continue;
    const start = w.lastStart(now, w.durationMs);
    if (start === null) continue;
    found = { name: w.name, cron: w.cron, action: w.action, startedAt: start, endsAt: new Date(start.getTime() + w.durationMs) };
  }
  return found;
}

/**
 * When a window next starts after `now`, within `horizonMs` (a week by default), or null. Hours
 * are tried first (one backwards look per hour), then the minutes of the first hour with a start.
 */
export function nextStart(w: MaintenanceWindow, now: Date, horizonMs = 7 * 86_400_000): Date | null {
  const HOUR = 3_600_000;
  const MINUTE = 60_000;
  const from = Math.floor(now.getTime() / MINUTE) * MINUTE;
  for (let hourEnd = from + HOUR; hourEnd <= from + horizonMs + HOUR; hourEnd += HOUR) {
    if (w.lastStart(new Date(hourEnd), HOUR - 1) === null) continue;
    for (let t = hourEnd - HOUR + MINUTE; t <= hourEnd; t += MINUTE) {
      const start = w.lastStart(new Date(t), MINUTE - 1);
      if (start !== null && start.getTime() > now.getTime()) return start;
    }
  }
  return null;
}
