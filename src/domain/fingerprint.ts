import type { LabelSet } from './alert.js';

const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const SEPARATOR = 0xff;

/**
 * The fingerprint Alertmanager gives an alert with these labels (prometheus/common's
 * LabelSet.Fingerprint: FNV-1a 64 over the label names in order, each name and value followed by
 * a 0xff byte; 16 hex digits), so that a hand-written alert in a test or a simulation carries
 * the fingerprint the real one will. Pure.
 */
export function alertmanagerFingerprint(labels: LabelSet): string {
  let hash = OFFSET;
  const add = (byte: number) => {
    hash = ((hash ^ BigInt(byte)) * PRIME) & MASK;
  };
  // Go sorts label names as byte strings; UTF-16 order agrees for the ASCII names labels have.
  for (const name of Object.keys(labels).sort()) {
    for (const byte of Buffer.from(name, 'utf8')) add(byte);
    add(SEPARATOR);
    for (const byte of Buffer.from(labels[name] ?? '', 'utf8')) add(byte);
    add(SEPARATOR);
  }
  return hash.toString(16).padStart(16, '0');
}
