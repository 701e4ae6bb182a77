import { RemediatorError } from '../domain/errors.js';

/** Opaque paging cursors: clients pass back what they got, and cannot depend on its shape. */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/** A cursor for event pages: the last event id seen. */
export function encodeEventCursor(id: number): string {
  return Buffer.from(`e:${id}`, 'utf8').toString('base64url');
}

/** Decodes an event cursor, refusing anything that is not one of ours. */
export function decodeEventCursor(cursor: string): number {
  const m = /^e:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new RemediatorError('bad_request', 'cursor is not valid: pass the "next" value of the previous page unchanged');
  return Number(m[1]);
}

/** Decodes a cursor, refusing anything that is not one of ours. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z]_[0-9A-Z]{26}$/.test(id)) {
    throw new RemediatorError('bad_request', 'cursor is not valid: pass the "next" value of the previous page unchanged');
  }
  return id;
}
