import { decodeCursor, encodeCursor } from '../store/cursor.js';
import { pageSize } from '../store/inputs.js';
import { RosterInputError } from './errors.js';
import type { Page } from './store-types.js';

// Keyset pages over one id column: the cursor carries the last id returned (opaque to callers).

export { pageSize };

export function cursorId(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  return decodeCursor<[string]>(cursor, ['string'])[0];
}

/** Rows fetched with limit + 1: the extra one only says there is a next page. */
export function toPage<T>(rows: T[], limit: number, idOf: (item: T) => string): Page<T> {
  if (rows.length <= limit) return { items: rows, next: null };
  const items = rows.slice(0, limit);
  return { items, next: encodeCursor([idOf(items[items.length - 1])]) };
}

/** Event and unmatched-event ids are integers; anything else in a cursor or id list is bad input. */
export function integerId(id: string): number {
  if (!/^\d{1,15}$/.test(id)) throw new RosterInputError('invalid id');
  return Number(id);
}
