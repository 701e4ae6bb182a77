/**
 * Alertmanager timestamps are Go's RFC 3339 with up to nine fractional digits, and a firing
 * alert's endsAt is Go's zero time (year 1). JavaScript's Date keeps milliseconds only, so the
 * canonical form is built by hand: the same instant always yields the same text, which matters
 * because startsAt is half of an alert instance's identity.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Canonical UTC text of an RFC 3339 timestamp, or undefined when it is not one. */
export function canonicalTimestamp(text: string): string | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const [oh, om] = [Number(zone.slice(1, 3)), Number(zone.slice(4, 6))];
    if (oh > 23 || om > 59) return undefined;
    offsetMin = sign * (oh * 60 + om);
  }
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) {
    return undefined;
  }
  // setUTCFullYear, not Date.UTC: the latter maps years 0-99 to the 1900s, and Go's zero time is year 1.
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  // Date rolls 2024-02-30 over to March 1; Go refuses it, and so must we (startsAt is identity).
  if (date.getUTCDate() !== Number(d)) return undefined;
  date.setUTCHours(Number(h), Number(mi) - offsetMin, Number(s), 0);
  // An offset can push year 0000 or 9999 out of the four digits RFC 3339 allows.
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 0 || date.getUTCFullYear() > 9999) return undefined;
  const fraction = frac.replace(/0+$/, '');
  return `${date.toISOString().slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`;
}

/** True for Go's zero time, which Alertmanager uses for "no end yet". */
export function isZeroTime(canonical: string): boolean {
  return canonical.startsWith('0001-01-01T00:00:00');
}

/** Milliseconds since the epoch of a canonical timestamp (sub-millisecond digits dropped). */
export function timestampMs(canonical: string): number {
  return Date.parse(canonical.replace(/(\.\d{3})\d+Z$/, '$1Z'));
}
