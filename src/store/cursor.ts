import { StoreInputError } from './errors.js';

// Opaque keyset cursors: base64url of a small JSON array. Callers treat them as strings; the store
// validates shape on the way back in so a tampered cursor is a 400, not a SQL error.

export type CursorPart = string | number;

export function encodeCursor(parts: readonly CursorPart[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/** Decodes a cursor whose parts must have the given types, e.g. ['number', 'string']. */
export function decodeCursor<T extends CursorPart[]>(cursor: string, shape: ReadonlyArray<'string' | 'number'>): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new StoreInputError('invalid cursor');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== shape.length ||
    parsed.some((p, i) => typeof p !== shape[i] || (typeof p === 'number' && !Number.isFinite(p)))
  ) {
    throw new StoreInputError('invalid cursor');
  }
  return parsed as T;
}
