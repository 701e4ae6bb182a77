import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { AuditHead, ChainEntry } from './audit-chain.js';

/**
 * Glossary
 * - checkpoint: a signed statement "the chain's event N has hash H", made by the daemon every few
 *   minutes and published outside the database (an append-only file, the log, the notify
 *   webhook). Someone who can write the database but does not hold the key can rebuild every hash
 *   and the head — the chain alone cannot tell — but cannot make the event at a published
 *   checkpoint carry its old hash again, nor sign a checkpoint for a rewritten chain.
 * - key: an Ed25519 private key kept in secretsDir, never in the database; whoever verifies needs
 *   only its public half. Its key id is the sha256 of the public key (DER), first 16 hex digits.
 * - checkpoint chain: each checkpoint carries the signature of the one before it (`prev`), so a
 *   checkpoint removed from the middle of the file shows; removing the newest ones does not, which
 *   is why they are published in more than one place.
 */

/** One checkpoint, as a line of the checkpoint file. */
export interface AuditCheckpoint {
  readonly v: 1;
  /** 1, 2, …: its place in the file. */
  readonly seq: number;
  readonly at: string;
  /** The last event the head named, and its hash. */
  readonly eventId: number;
  readonly hash: string;
  /** Where the chain started then (retention's cut), so a checkpoint of a pruned stretch is not taken for a missing one. */
  readonly baseId: number;
  /** The signature of the checkpoint before it, or null for the first. */
  readonly prev: string | null;
  readonly keyId: string;
  /** Ed25519 over the canonical JSON of every field but this one, base64. */
  readonly sig: string;
}

/** A checkpoint before it is signed. */
export type UnsignedCheckpoint = Omit<AuditCheckpoint, 'sig' | 'keyId' | 'v'>;

/** Reads a PEM key: a private key signs and verifies, a public key only verifies. Throws saying what the file holds. */
export function readCheckpointKey(pem: string, where: string): { privateKey: KeyObject | null; publicKey: KeyObject; keyId: string } {
  let privateKey: KeyObject | null = null;
  let publicKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
    publicKey = createPublicKey(privateKey);
  } catch {
    try {
      publicKey = createPublicKey(pem);
    } catch (err) {
      throw new Error(`${where} is not a PEM key (${(err as Error).message}): make one with openssl genpkey -algorithm ed25519 -out ${where}`);
    }
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${where} is a ${publicKey.asymmetricKeyType ?? 'unknown'} key; checkpoints are signed with Ed25519: openssl genpkey -algorithm ed25519`);
  }
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** The first 16 hex digits of the sha256 of the public key's DER form. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

function signedText(c: Omit<AuditCheckpoint, 'sig'>): string {
  return canonicalJson({ ...c });
}

/** Signs a checkpoint with the private key. */
export function signCheckpoint(c: UnsignedCheckpoint, key: { privateKey: KeyObject; publicKey: KeyObject }): AuditCheckpoint {
  const body = { v: 1 as const, ...c, keyId: keyIdOf(key.publicKey) };
  return { ...body, sig: sign(null, Buffer.from(signedText(body)), key.privateKey).toString('base64') };
}

/** Whether a checkpoint's signature verifies with this public key. */
export function checkpointSignatureValid(c: AuditCheckpoint, publicKey: KeyObject): boolean {
  const { sig, ...body } = c;
  try {
    return verify(null, Buffer.from(signedText(body)), publicKey, Buffer.from(sig, 'base64'));
  } catch {
    return false;
  }
}

/** Parses one line of a checkpoint file; null when it is not a checkpoint. */
export function parseCheckpoint(line: string): AuditCheckpoint | null {
  let c: unknown;
  try {
    c = JSON.parse(line);
  } catch {
    return null;
  }
  const o = c as Record<string, unknown>;
  const ok =
    o !== null &&
    typeof o === 'object' &&
    o['v'] === 1 &&
    Number.isInteger(o['seq']) &&
    typeof o['at'] === 'string' &&
    Number.isInteger(o['eventId']) &&
    typeof o['hash'] === 'string' &&
    Number.isInteger(o['baseId']) &&
    (o['prev'] === null || typeof o['prev'] === 'string') &&
    typeof o['keyId'] === 'string' &&
    typeof o['sig'] === 'string';
  return ok ? (o as unknown as AuditCheckpoint) : null;
}

/**
 * Checks the checkpoints themselves, in file order: each line a checkpoint, each signature valid
 * with the key, each linked to the one before, sequence and events moving forward. Returns the
 * first problem, or null.
 */
export function checkCheckpointFile(checkpoints: readonly (AuditCheckpoint | null)[], key: { publicKey: KeyObject; keyId: string }): string | null {
  let before: AuditCheckpoint | null = null;
  for (const [i, c] of checkpoints.entries()) {
    const line = `line ${i + 1}`;
    if (c === null) return `${line} is not a checkpoint: the file was edited`;
    if (!checkpointSignatureValid(c, key.publicKey)) {
      return c.keyId !== key.keyId
        ? `${line}: checkpoint ${c.seq} was signed by key ${c.keyId}, not by this key (${key.keyId}): give the key the daemon signs with`
        : `${line}: checkpoint ${c.seq}'s signature does not verify: the line was edited or forged`;
    }
    if (before !== null && (c.prev !== before.sig || c.seq !== before.seq + 1)) {
      return `${line}: checkpoint ${c.seq} does not follow checkpoint ${before.seq}: a checkpoint between them was removed, or lines were reordered`;
    }
    if (before !== null && c.eventId < before.eventId) return `${line}: checkpoint ${c.seq} names an earlier event than checkpoint ${before.seq}`;
    before = c;
  }
  return null;
}

/**
 * Holds a chain walk against checkpoints: every event the walk sees whose id a checkpoint names
 * must carry the checkpoint's hash, and the head must reach the last checkpoint. A rehashed chain
 * differs at a checkpoint; a tail cut with the head rewritten ends before one.
 */
export class CheckpointCheck {
  private readonly byEvent = new Map<number, AuditCheckpoint>();
  private problem: string | null = null;
  private matched = 0;

  constructor(private readonly checkpoints: readonly AuditCheckpoint[]) {
    for (const c of checkpoints) this.byEvent.set(c.eventId, c);
  }

  /** Call with every event the walk checks (in any order). */
  see(e: Pick<ChainEntry, 'id' | 'hash'>): void {
    const c = this.byEvent.get(e.id);
    if (c === undefined || this.problem !== null) return;
    if (c.hash !== e.hash) {
      this.problem = `event ${e.id} does not carry the hash checkpoint ${c.seq} (${c.at}) signed for it: the chain was rewritten at or before event ${e.id} (rehashed), although it verifies on its own`;
    } else this.matched++;
  }

  /** After the walk: what the head and the walked stretch say against the checkpoints; null when they agree. */
  end(head: AuditHead | null, walkedFrom: number): { problem: string | null; matched: number; skipped: number } {
    if (this.problem !== null) return { problem: this.problem, matched: this.matched, skipped: 0 };
    const last = this.checkpoints.at(-1);
    if (last !== undefined && head !== null && last.eventId > head.lastId) {
      return {
        problem: `the chain ends at event ${head.lastId}, but checkpoint ${last.seq} (${last.at}) was signed for event ${last.eventId}: events were removed from the end and the head rewritten`,
        matched: this.matched,
        skipped: 0,
      };
    }
    // Checkpoints of events retention removed cannot be compared; one at the cut compares with the base.
    let skipped = 0;
    for (const c of this.checkpoints) {
      if (c.eventId >= walkedFrom) continue;
      if (head !== null && c.eventId === head.baseId && c.eventId > 0) {
        if (c.hash !== head.baseHash) {
          return { problem: `the chain's base (event ${c.eventId}) does not carry the hash checkpoint ${c.seq} signed for it`, matched: this.matched, skipped };
        }
        this.matched++;
      } else skipped++;
    }
    return { problem: null, matched: this.matched, skipped };
  }
}
