/**
 * Canonical JSON: the one text for a value, whatever order its keys were built in, so that a hash
 * over it can be recomputed by anyone holding the same data (from the database, an export file,
 * or another implementation).
 *
 * Object keys sorted by UTF-16 code units, no whitespace, strings and numbers exactly as
 * JSON.stringify writes them: for the values JSON.parse produces this is RFC 8785 (JCS). Values
 * JSON.stringify leaves out (undefined, functions, symbols) are left out the same way, and toJSON
 * is honoured, so canonicalJson(v) === canonicalJson(JSON.parse(canonicalJson(v))): a value stored
 * as this text and read back hashes the same.
 *
 * Written by hand rather than as a JSON.stringify replacer: a replacer that rebuilds objects with
 * sorted keys cannot sort integer-like keys ("10" before "9"), which JavaScript always enumerates
 * first, in numeric order.
 */
export function canonicalJson(value: unknown): string {
  const out = write(value, '', new Set());
  if (out === undefined) throw new TypeError('canonicalJson: the value has no JSON form (undefined, a function or a symbol)');
  return out;
}

function write(value: unknown, key: string, ancestors: Set<object>): string | undefined {
  let v = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  if (v === null || typeof v !== 'object') {
    // Strings, finite numbers, booleans, null; NaN and ±Infinity become null, undefined/functions/
    // symbols give undefined, a bigint throws — all as JSON.stringify does.
    return JSON.stringify(v);
  }
  if (ancestors.has(v)) throw new TypeError('canonicalJson: the value is circular');
  ancestors.add(v);
  let out: string;
  if (Array.isArray(v)) {
    out = `[${v.map((item, i) => write(item, String(i), ancestors) ?? 'null').join(',')}]`;
  } else {
    // Boxed primitives (new String('x')) serialise as their primitive, as in JSON.stringify.
    if (v instanceof String || v instanceof Number || v instanceof Boolean) {
      ancestors.delete(v);
      return JSON.stringify(v.valueOf());
    }
    const record = v as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of Object.keys(record).sort()) {
      const item = write(record[k], k, ancestors);
      if (item !== undefined) parts.push(`${JSON.stringify(k)}:${item}`);
    }
    out = `{${parts.join(',')}}`;
  }
  ancestors.delete(v);
  return out;
}
