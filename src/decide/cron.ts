/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week), as crontab(5) of Vixie
 * cron reads them: `*`, lists, ranges, steps (`1-30/5`, `5/10` = `5-59/10`, a star with a step), month
 * and day names (JAN, SUN-SAT), 0 or 7 for Sunday, the macros @hourly @daily @midnight @weekly
 * @monthly @yearly @annually, and the day rule: when both day fields are restricted, a day matches
 * either; when one is `*`, only the other counts. Pure: time zones through Intl, no clock.
 *
 * Written here rather than taken from a package because the daemon only asks "did a window start
 * within the last D", which is a backwards walk over minutes that match, not a scheduler.
 */

/** Thrown for an expression that is not valid cron; the message says how to fix it. */
export class CronSyntaxError extends Error {
  constructor(
    message: string,
    readonly input: string,
  ) {
    super(message);
    this.name = 'CronSyntaxError';
  }
}

/** A parsed expression. */
export interface CronSchedule {
  readonly source: string;
  readonly timezone: string;
  /** True when the minute containing `at` matches. */
  matches(at: Date): boolean;
  /** The latest minute t matching, with now - withinMs < t <= now; null if none. */
  lastStart(now: Date, withinMs: number): Date | null;
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  // 7 is Sunday too; folded onto 0 after parsing.
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const FORMAT = 'write five fields "minute hour day-of-month month day-of-week", e.g. "0 2 * * SUN" (02:00 every Sunday)';

/** Local calendar fields of one instant in a time zone. */
interface LocalTime {
  readonly minute: number;
  readonly hour: number;
  readonly day: number;
  readonly month: number;
  readonly weekday: number;
}

const WEEKDAYS: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();

/** True when Intl knows the IANA time zone name. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function localTime(at: Date, timezone: string): LocalTime {
  if (timezone === 'UTC') {
    return { minute: at.getUTCMinutes(), hour: at.getUTCHours(), day: at.getUTCDate(), month: at.getUTCMonth() + 1, weekday: at.getUTCDay() };
  }
  let f = formatters.get(timezone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timezone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(at)) parts[p.type] = p.value;
  return {
    minute: Number(parts['minute']),
    hour: Number(parts['hour']),
    day: Number(parts['day']),
    month: Number(parts['month']),
    weekday: WEEKDAYS[parts['weekday'] ?? ''] ?? 0,
  };
}

/** Parses an expression, evaluated in `timezone` (an IANA name; default UTC). */
export function parseCron(input: string, timezone = 'UTC'): CronSchedule {
  const source = input.trim();
  if (!isTimeZone(timezone)) throw new CronSyntaxError(`unknown time zone "${timezone}": use an IANA name such as UTC or Europe/Berlin`, input);
  const expanded = source.startsWith('@') ? MACROS[source.toLowerCase()] : source;
  if (expanded === undefined) throw new CronSyntaxError(`unknown macro "${source}": use one of ${Object.keys(MACROS).join(', ')}, or ${FORMAT}`, input);
  const texts = expanded.split(/\s+/);
  if (texts.length !== 5) throw new CronSyntaxError(`"${source}" has ${texts.length} field(s): ${FORMAT}`, input);
  const sets = texts.map((text, i) => parseField(text, FIELDS[i] as FieldSpec, input));
  const [minutes, hours, days, months, weekdays] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (weekdays.delete(7)) weekdays.add(0);
  // Vixie cron: a field starting with "*" leaves the day to the other field; two restricted day
  // fields match when either does ("0 0 1 * MON" is the 1st and every Monday).
  const domStar = texts[2]?.startsWith('*') ?? true;
  const dowStar = texts[4]?.startsWith('*') ?? true;
  const dayMatches = (t: LocalTime) => {
    const dom = days.has(t.day);
    const dow = weekdays.has(t.weekday);
    return domStar || dowStar ? dom && dow : dom || dow;
  };
  const hourMatches = (t: LocalTime) => months.has(t.month) && dayMatches(t) && hours.has(t.hour);

  return {
    source,
    timezone,
    matches(at: Date): boolean {
      const t = localTime(at, timezone);
      return hourMatches(t) && minutes.has(t.minute);
    },
    lastStart(now: Date, withinMs: number): Date | null {
      const floor = Math.floor(now.getTime() / 60_000) * 60_000;
      const after = now.getTime() - withinMs;
      // Walk back minute by minute, but skip a whole local hour whose hour, day or month cannot
      // match: subtracting (local minute + 1) minutes lands on minute 59 of the previous local
      // hour in any zone, including those with half-hour offsets.
      for (let t = floor; t > after;) {
        const local = localTime(new Date(t), timezone);
        if (!hourMatches(local)) {
          t -= (local.minute + 1) * 60_000;
          continue;
        }
        if (minutes.has(local.minute)) return new Date(t);
        t -= 60_000;
      }
      return null;
    },
  };
}

function parseField(text: string, spec: FieldSpec, input: string): Set<number> {
  const out = new Set<number>();
  const fail = (why: string) => new CronSyntaxError(`${spec.name} field "${text}": ${why}`, input);
  if (text === '') throw fail('is empty');
  for (const item of text.split(',')) {
    const [rangeText, stepText, extra] = item.split('/');
    if (extra !== undefined) throw fail(`"${item}" has more than one "/"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw fail(`the step in "${item}" must be a whole number above 0`);
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (rangeText === '*') {
      from = spec.min;
      to = spec.max;
    } else {
      const bounds = (rangeText ?? '').split('-');
      if (bounds.length > 2) throw fail(`"${item}" is not a value, a range a-b, or *`);
      from = value(bounds[0] ?? '', spec, fail);
      // "5/10" means from 5 to the end, stepping by 10.
      to = bounds[1] !== undefined ? value(bounds[1], spec, fail) : stepText !== undefined ? spec.max : from;
      if (from > to) throw fail(`the range "${rangeText}" runs backwards: write the smaller value first`);
    }
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

function value(text: string, spec: FieldSpec, fail: (why: string) => CronSyntaxError): number {
  const byName = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (byName >= 0) return byName + (spec.name === 'month' ? 1 : 0);
  if (!/^\d+$/.test(text)) {
    const names = spec.names ? ` or a name (${spec.names.join(', ')})` : '';
    throw fail(`"${text}" is not a number from ${spec.min} to ${spec.max}${names}`);
  }
  const n = Number(text);
  if (n < spec.min || n > spec.max) throw fail(`${n} is outside ${spec.min}-${spec.max}`);
  return n;
}
