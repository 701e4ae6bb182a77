import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AM_FIXTURES } from './fixtures.js';
import { prng } from './prng.js';

/**
 * Mutated real Alertmanager payloads, from a seed: the same seed gives the same bodies, so a
 * failure is reproduced by its seed and index. About a third stay valid (a new fingerprint, new
 * label values), the rest are broken as a hostile or buggy sender would break them: wrong types,
 * missing and unknown fields, deep nesting, huge and odd strings, many alerts, bad timestamps, and
 * raw byte damage (flips, truncation, invalid UTF-8).
 */

/** The captured payloads, parsed. */
export function realPayloads(): Record<string, unknown>[] {
  return readdirSync(AM_FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(AM_FIXTURES, f), 'utf8')) as Record<string, unknown>);
}

const ODD = [
  '',
  ' ',
  '\u0000',
  '\u202e',
  '💥',
  '\ud800',
  '../../../etc/passwd',
  '--output=/tmp/x',
  '{{ params.x }}',
  '<!channel>',
  '%00',
  '\\',
  '"',
  'x'.repeat(300),
];

/** One body, its kind (for messages), and whether it should be accepted. */
export interface FuzzCase {
  readonly body: Buffer;
  readonly kind: string;
}

/** A generator of `count` bodies from `seed`, mutated from the real payloads. */
export function* fuzzBodies(seed: number, count: number): Generator<FuzzCase> {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  const bases = realPayloads();
  const anyValue = (): unknown =>
    pick<() => unknown>([
      () => null,
      () => int(1e9) - 5e8,
      () => random() < 0.5,
      () => pick(ODD),
      () => [],
      () => ({}),
      () => [pick(ODD), int(10)],
      () => ({ [pick(ODD)]: pick(ODD) }),
      () => 1e308 * 10,
    ])();
  const nested = (depth: number): string => (random() < 0.5 ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

  for (let i = 0; i < count; i++) {
    const p = structuredClone(pick(bases)) as Record<string, unknown> & { alerts: Record<string, unknown>[] };
    const alert = p.alerts[0] as Record<string, unknown>;
    alert['fingerprint'] = hex(16);
    alert['labels'] = { ...(alert['labels'] as object), n: String(i) };
    const r = random();
    let kind: string;
    let text: string | null = null;
    if (r < 0.33) {
      kind = 'valid';
      if (random() < 0.3) (alert['labels'] as Record<string, string>)['service'] = pick(['checkout', 'cart', 'Search', 'a-b', '']);
      if (random() < 0.1)
        p.alerts = Array.from({ length: 1 + int(5) }, (_, k) => ({ ...alert, fingerprint: hex(16), labels: { ...(alert['labels'] as object), k: String(k) } }));
    } else if (r < 0.45) {
      kind = 'wrong type';
      const target = random() < 0.5 ? p : alert;
      const key = pick(Object.keys(target));
      target[key] = anyValue();
    } else if (r < 0.53) {
      kind = 'missing field';
      const target = random() < 0.5 ? p : alert;
      delete target[pick(Object.keys(target))];
    } else if (r < 0.63) {
      kind = 'deep nesting';
      const depth = pick([8, 31, 33, 100, 5000, 20000]);
      text = JSON.stringify(p).replace('{', `{"extra${int(9)}": ${nested(depth)},`);
    } else if (r < 0.7) {
      kind = 'odd strings';
      (alert['labels'] as Record<string, string>)[pick(ODD) || 'empty'] = pick(ODD);
      (alert['annotations'] as Record<string, string> | undefined) ??= {};
      alert['generatorURL'] = pick(ODD);
      if (random() < 0.5) alert['fingerprint'] = pick(ODD);
    } else if (r < 0.72) {
      kind = 'many alerts';
      p.alerts = Array.from({ length: 20 + int(100) }, (_, k) => ({ ...alert, fingerprint: hex(16), labels: { alertname: `Fuzz${k % 7}`, k: String(k) } }));
    } else if (r < 0.8) {
      kind = 'timestamps';
      alert[pick(['startsAt', 'endsAt'])] = pick([
        'yesterday',
        '0001-01-01T00:00:00Z',
        '9999-12-31T23:59:59.999999999Z',
        '2026-02-30T00:00:00Z',
        '2026-11-28T21:12:23+25:00',
        '',
        'x'.repeat(40),
      ]);
    } else if (r < 0.84) {
      kind = 'big value';
      (alert['annotations'] as Record<string, string>)['description'] = 'd'.repeat(1000 + int(40_000));
    } else {
      kind = 'bytes';
      const bytes = Buffer.from(JSON.stringify(p));
      const how = int(5);
      let out: Buffer;
      if (how === 0) {
        out = Buffer.from(bytes);
        for (let k = 0; k < 1 + int(4); k++) out[int(out.length)] = int(256);
      } else if (how === 1) out = bytes.subarray(0, int(bytes.length));
      else if (how === 2) {
        const at = bytes.indexOf('"', int(bytes.length));
        const bad = pick([[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]);
        out = Buffer.concat([bytes.subarray(0, at + 1), Buffer.from(bad), bytes.subarray(at + 1)]);
      } else if (how === 3) {
        const from = int(bytes.length);
        out = Buffer.concat([bytes.subarray(0, from), bytes.subarray(from + int(40))]);
      } else {
        const from = int(bytes.length);
        out = Buffer.concat([bytes.subarray(0, from), bytes.subarray(from, from + int(60)), bytes.subarray(from)]);
      }
      yield { body: out, kind };
      continue;
    }
    yield { body: Buffer.from(text ?? JSON.stringify(p)), kind };
  }
}
