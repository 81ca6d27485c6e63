import { decodeCursor, encodeCursor, type CursorPart } from './cursor.js';
import { StoreInputError } from './errors.js';

// Keyset paging, one way for every list of the message store and the roster: fetch LIMIT size + 1
// rows; the extra row only says a next page exists, and the opaque cursor resumes after the last
// item returned. Nothing does OFFSET scans.

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next: string | null;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 1000;

export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1) throw new StoreInputError('limit must be a positive integer');
  return Math.min(limit, MAX_PAGE);
}

/** A page of `size` items from rows fetched with LIMIT size + 1, its cursor made of `cursorOf(last item)`. */
export function keysetPage<R, T>(rows: R[], size: number, toItem: (row: R) => T, cursorOf: (last: T) => CursorPart[]): Page<T> {
  const items = rows.slice(0, size).map((r) => toItem(r));
  const last = items[items.length - 1];
  return { items, next: rows.length > size && last ? encodeCursor(cursorOf(last)) : null };
}

/** The single id a one-key cursor carries (undefined without a cursor). */
export function cursorId(cursor: string | null | undefined): string | undefined {
  if (cursor === undefined || cursor === null) return undefined;
  return decodeCursor<[string]>(cursor, ['string'])[0];
}
